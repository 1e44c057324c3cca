// The load generator of npm run bench, in a process of its own: runs
// autocannon against each request of a round in turn and prints the results
// as one JSON array. Plain JavaScript, so it starts without a TypeScript loader.
// Input (argv[2], JSON): { connections, seconds, amount?, settle: [ms, msAfterLogin], requests: [{ url, headers, login }] }
import autocannon from 'autocannon';

const { connections, seconds, amount, settle, requests } = JSON.parse(process.argv[2]);
const results = [];
for (const { url, headers, login } of requests) {
  const run = await autocannon({
    url,
    headers,
    // A throttled login counts each attempt before its hash and forgives it
    // after: more than 5 of alice's logins in flight at once from one
    // address get 429 (step 06's limits). 4 at once keep both hashes busy.
    connections: login ? Math.min(connections, 4) : connections,
    ...(amount ? { amount, sampleInt: 100 } : { duration: seconds }),
  });
  // With amount, the per-sample average is over short samples; total over duration is the rate.
  const rps = amount ? run.requests.total / Math.max(run.duration, 0.001) : run.requests.average;
  results.push({ rps, p99: run.latency.p99, non2xx: run.non2xx, errors: run.errors });
  // Let the server finish what is still in flight (a /login's scrypt runs on
  // after its client has gone) before the next endpoint.
  await new Promise((resolve) => setTimeout(resolve, login ? settle[1] : settle[0]));
}
console.log(JSON.stringify(results));
