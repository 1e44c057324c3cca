// The flood of npm run bench, in a process of its own: autocannon with many
// connections, all from one loopback address (127.0.0.2), so that the server
// counts them as one client. autocannon has no option for the source
// address: its connections are made with net.connect(port, host), which is
// wrapped here to bind them. Plain JavaScript: it starts without a loader.
// Input (argv[2], JSON): { url, headers, connections, seconds, rate?, amount?, from }
// Output: one JSON object, { rps, statuses: { "429": n, ... }, errors }.
import net from 'node:net';
import autocannon from 'autocannon';

const { url, headers, connections, seconds, rate, amount, from } = JSON.parse(process.argv[2]);
const connect = net.connect;
net.connect = (...args) =>
  typeof args[0] === 'number'
    ? connect({ port: args[0], host: args[1], localAddress: from })
    : connect(...args);

const statuses = {};
const result = await new Promise((resolve, reject) => {
  const flood = autocannon(
    {
      url,
      headers,
      connections,
      ...(amount ? { amount } : { duration: seconds }),
      ...(rate ? { overallRate: rate } : {}),
    },
    (err, done) => (err ? reject(err) : resolve(done)),
  );
  flood.on('response', (_client, status) => (statuses[status] = (statuses[status] ?? 0) + 1));
});
// Total over duration: a short or capped run may have no whole one-second sample.
console.log(
  JSON.stringify({
    rps: result.requests.total / Math.max(result.duration, 0.001),
    statuses,
    errors: result.errors,
  }),
);
