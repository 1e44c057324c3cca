// npm run step <n>: run a step's servers (or script) in watch mode.
// npm start: list the steps, then run the latest one.
import path from 'node:path';
import { bold, cli, dim, portArgument, stepArgument } from './cli.ts';
import { runInForeground } from './launch.ts';
import { latest, rel, stepDir, steps } from './steps.ts';

const usage = `
Usage: npm run step <n>                 run step n in watch mode (restarts on save)
       npm run step -- <n> --port 3001  on another port (or set PORT)
       npm run step -- 9 --redis        two instances sharing one Redis (a step that has the mode)
       npm start                        list the steps and run the latest
Options:
  --port <port>  the port to listen on (default: PORT, else 3000)
  --no-watch     run once, without restarting on changes
  --redis        start a redis-server and the instances the step's manifest asks for
  --list         list the steps and exit`;

const { values, positionals } = cli(
  usage,
  {
    port: { type: 'string' },
    'no-watch': { type: 'boolean' },
    list: { type: 'boolean' },
    redis: { type: 'boolean' },
  },
  { max: 1, looksLike: (p) => /^\d+$/.test(p) },
);
const port = portArgument(values.port) ?? portArgument(process.env.PORT, 'PORT');

export function stepList(): string {
  const rows = steps.map(
    (s) =>
      `  ${String(s.number).padStart(2)}  ${s.title.padEnd(32)} npm run step ${String(s.number).padEnd(3)} ${dim(rel(path.join(stepDir(s), s.entry)))}`,
  );
  return `${bold('The steps')} (each runs on its own; npm run check <n> tests it):\n${rows.join('\n')}`;
}

if (values.list) {
  console.log(stepList());
} else if (positionals.length === 0) {
  console.log(stepList());
  await runInForeground(latest, {
    port,
    watch: false,
    intro: `\nStarting the latest step, ${latest.number} (${latest.title}).\n`,
  });
} else {
  const step = stepArgument(positionals, usage);
  await runInForeground(step, {
    port,
    watch: !values['no-watch'],
    redis: values.redis,
    intro: dim(
      `Starting step ${step.number}: ${step.title}${values['no-watch'] ? '' : ' (watch mode: save a file and it restarts)'}`,
    ),
  });
}
