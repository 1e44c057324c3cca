// npm run step <n>: run a step's server (or script) in watch mode.
// npm start: list the steps, then run the latest one.
import path from 'node:path';
import { cli, bold, dim, fail } from './cli.ts';
import { foreground, launchStep, portsFrom } from './launch.ts';
import { findStep, latest, rel, stepDir, steps, type Step } from './steps.ts';

const usage = `
Usage: npm run step <n>                 run step n in watch mode (restarts on save)
       npm run step -- <n> --port 3001  on another port (or set PORT)
       npm start                        list the steps and run the latest
Options:
  --port <port>  the port to listen on (default: PORT, else 3000)
  --no-watch     run once, without restarting on changes
  --list         list the steps and exit`;

const { values, positionals } = cli(usage, {
  port: { type: 'string' },
  'no-watch': { type: 'boolean' },
  list: { type: 'boolean' },
});

export function stepList(): string {
  const rows = steps.map((s) => `  ${String(s.number).padStart(2)}  ${s.title.padEnd(22)} npm run step ${s.number}   ${dim(rel(path.join(stepDir(s), s.entry)))}`);
  return `${bold('The steps')} (each runs on its own; npm run check <n> tests it):\n${rows.join('\n')}`;
}

function run(step: Step, watch: boolean): void {
  foreground(launchStep(step, { ports: portsFrom(step, values.port ?? process.env.PORT), watch }));
}

if (values.list) {
  console.log(stepList());
} else if (positionals.length === 0) {
  console.log(`${stepList()}\n\nStarting the latest step, ${latest.number} (${latest.title}). Ctrl-C stops it.\n`);
  run(latest, false);
} else {
  let step: Step;
  try {
    step = findStep(positionals[0]);
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.port !== undefined && !/^\d+$/.test(values.port)) fail(`--port takes a number, not ${JSON.stringify(values.port)}.`);
  console.log(dim(`Step ${step.number}: ${step.title}${values['no-watch'] ? '' : ' (watch mode: save a file and it restarts)'}`));
  run(step, !values['no-watch']);
}
