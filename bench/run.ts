// npm run bench [-- --json] [-- --steps 5,6,9 --redis 9 --rounds 3 --seconds 3] [-- --flood 6,7,8] [-- --profile bench/results]
import path from 'node:path';
import { cli, fail } from '../tools/cli.ts';
import { floodBenchmark, formatFlood } from './flood.ts';
import { formatReport, httpBenchmark } from './http.ts';

const usage = `
Usage: npm run bench                     steps 05, 06 and 09 (and 09 again with Redis): req/s, p99
                                         and ratios to /unprotected;
                                         then a wrong-password flood at steps 06, 07 and 08
       npm run bench -- --json           the same as one JSON object
       npm run bench -- --steps 6 --rounds 5 --seconds 3 --flood none
Options:
  --steps <list>       step numbers, comma-separated, or none (default 5,6,9)
  --redis <list>       steps to run again with Redis as their store, or none (default 9;
                       left out, with a note, when redis-server is not installed)
  --rounds <n>         rounds; each runs every endpoint once (default 3)
  --seconds <s>        seconds per endpoint per round (default 3)
  --connections <n>    concurrent connections (default 10)
  --flood <list>       steps to flood with wrong passwords from 127.0.0.2, or none (default 6,7,8)
  --flood-connections <n>  the flood's connections (default 200)
  --json               print JSON instead of a table
  --profile <folder>   write a CPU profile of each server there (open it in Chrome DevTools)`;
const { values } = cli(
  usage,
  {
    steps: { type: 'string' },
    redis: { type: 'string' },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    connections: { type: 'string' },
    flood: { type: 'string' },
    'flood-connections': { type: 'string' },
    json: { type: 'boolean' },
    profile: { type: 'string' },
  },
  { max: 0 },
);
const whole = (value: string | undefined, fallback: number, name: string) => {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(n) || n <= 0) fail(`--${name} takes a whole number above 0.`);
  return n;
};
const list = (value: string, name: string) =>
  value === 'none' ? [] : value.split(',').map((s) => whole(s, 0, name));
const options = {
  steps: list(values.steps ?? '5,6,9', 'steps'),
  redis: list(values.redis ?? '9', 'redis'),
  rounds: whole(values.rounds, 3, 'rounds'),
  seconds: whole(values.seconds, 3, 'seconds'),
  connections: whole(values.connections, 10, 'connections'),
  profileDir: values.profile === undefined ? undefined : path.resolve(values.profile),
};
const flood = {
  steps: list(values.flood ?? '6,7,8', 'flood'),
  rounds: 2,
  seconds: 5,
  connections: whole(values['flood-connections'], 200, 'flood-connections'),
};
try {
  const progress = values.json ? undefined : (line: string) => console.error(line);
  const report = await httpBenchmark(options, progress);
  const flooded = flood.steps.length ? await floodBenchmark(flood, progress) : undefined;
  if (values.json) console.log(JSON.stringify({ ...report, flood: flooded }, null, 2));
  else
    console.log(
      [report.steps.length ? formatReport(report) : '', flooded ? formatFlood(flooded) : '']
        .filter(Boolean)
        .join('\n\n'),
    );
} catch (err) {
  fail((err as Error).message);
}
