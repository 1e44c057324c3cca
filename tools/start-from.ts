// npm run start-from <n>: copy the finished step n into workspace/ to carry on from there.
import path from 'node:path';
import { cli, dim, green, stepArgument, userPath } from './cli.ts';
import { nextOf, rel } from './steps.ts';
import { defaultWorkspace, replaceWorkspace, startFrom } from './workspace.ts';

const usage = `
Usage: npm run start-from <n>               copy the finished step n into workspace/
       npm run start-from -- <n> --force    even over a workspace with your changes (a backup is kept)
       npm run exercise <n>                 the exercise for step n instead: step n-1 with TODO markers
Options:
  --force        replace without asking; your changes go to a backup folder
  --to <folder>  copy into another folder than workspace/`;

const { values, positionals } = cli(
  usage,
  { force: { type: 'boolean' }, to: { type: 'string' } },
  { max: 1, looksLike: (p) => /^\d+$/.test(p) },
);
const step = stepArgument(positionals, usage);
const dir = values.to ? userPath(values.to) : defaultWorkspace;
const files = await replaceWorkspace(dir, Boolean(values.force), `step ${step.number}`, () =>
  startFrom(step, dir),
);
console.log(
  green(`${rel(dir)}/ now holds step ${step.number} (${step.title}): ${files.join(', ')}`),
);
for (const next of nextOf(step)) {
  console.log(
    dim(
      `Next, step ${next.number} (${next.title}): npm run exercise ${next.number} gives you its task and TODO markers.`,
    ),
  );
}
