// What a real user sees during the flood of npm run bench, from 127.0.0.1:
// /protected under load (autocannon, 10 connections), and, one after the
// other, alice logging in and the page loading (step 08), each timed.
// Input (argv[2], JSON): { protectedUrl, protectedHeaders, loginUrl, loginHeaders, pageUrls, seconds, rate? }
// Output: one JSON object, { protectedRps, protectedNon2xx, loginMs: [...], loginStatuses: [...], pageMs: [...] }.
import autocannon from 'autocannon';

const { protectedUrl, protectedHeaders, loginUrl, loginHeaders, pageUrls, seconds, rate } =
  JSON.parse(process.argv[2]);
const deadline = Date.now() + seconds * 1000;
const pause = () => new Promise((resolve) => setTimeout(resolve, 250));

/** Time `request` again and again until the deadline; one that takes 30 s counts as 30 s. */
async function timeEach(request, times, statuses) {
  // At least once, however late this process got going on a busy machine.
  do {
    const start = performance.now();
    try {
      const status = await request(AbortSignal.timeout(30_000));
      statuses?.push(status);
    } catch {
      statuses?.push(0);
    }
    times.push(Math.round(performance.now() - start));
    await pause();
  } while (Date.now() < deadline);
}

const login = async (signal) => {
  const res = await fetch(loginUrl, { headers: loginHeaders, signal });
  await res.arrayBuffer();
  return res.status;
};
const page = async (signal) => {
  const answers = await Promise.all(pageUrls.map((url) => fetch(url, { signal })));
  await Promise.all(answers.map((res) => res.arrayBuffer()));
  return Math.max(...answers.map((res) => res.status));
};

const loginMs = [];
const loginStatuses = [];
const pageMs = [];
const [load] = await Promise.all([
  autocannon({
    url: protectedUrl,
    headers: protectedHeaders,
    connections: 10,
    duration: seconds,
    ...(rate ? { overallRate: rate } : {}),
  }),
  timeEach(login, loginMs, loginStatuses),
  pageUrls.length ? timeEach(page, pageMs) : undefined,
]);
// Total over duration: a short or capped run may have no whole one-second sample.
console.log(
  JSON.stringify({
    protectedRps: load.requests.total / Math.max(load.duration, 0.001),
    protectedNon2xx: load.non2xx,
    loginMs,
    loginStatuses,
    pageMs,
  }),
);
