// npm run bench [-- --json] [-- --steps 5,6 --rounds 3 --seconds 3] [-- --profile bench/results]
import path from 'node:path';
import { cli, fail } from '../tools/cli.ts';
import { formatReport, httpBenchmark } from './http.ts';

const usage = `
Usage: npm run bench                     steps 05 and 06: req/s, p99 and ratios to /unprotected
       npm run bench -- --json           the same as one JSON object
       npm run bench -- --steps 6 --rounds 5 --seconds 3
Options:
  --steps <list>       step numbers, comma-separated (default 5,6)
  --rounds <n>         rounds; each runs every endpoint once (default 3)
  --seconds <s>        seconds per endpoint per round (default 3)
  --connections <n>    concurrent connections (default 10)
  --json               print JSON instead of a table
  --profile <folder>   write a CPU profile of each server there (open it in Chrome DevTools)`;
const { values } = cli(usage, {
  steps: { type: 'string' },
  rounds: { type: 'string' },
  seconds: { type: 'string' },
  connections: { type: 'string' },
  json: { type: 'boolean' },
  profile: { type: 'string' },
}, { max: 0 });
const whole = (value: string | undefined, fallback: number, name: string) => {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(n) || n <= 0) fail(`--${name} takes a whole number above 0.`);
  return n;
};
const options = {
  steps: (values.steps ?? '5,6').split(',').map((s) => whole(s, 0, 'steps')),
  rounds: whole(values.rounds, 3, 'rounds'),
  seconds: whole(values.seconds, 3, 'seconds'),
  connections: whole(values.connections, 10, 'connections'),
  profileDir: values.profile === undefined ? undefined : path.resolve(values.profile),
};
try {
  const report = await httpBenchmark(options, values.json ? undefined : (line) => console.error(line));
  console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
} catch (err) {
  fail((err as Error).message);
}
