// npm run start-from <n>: copy step n into workspace/ to code along from there.
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { cli, dim, fail, green, stepArgument } from './cli.ts';
import { nextOf, rel } from './steps.ts';
import { defaultWorkspace, overwriteConcern, startFrom } from './workspace.ts';

const usage = `
Usage: npm run start-from <n>               copy step n into workspace/
       npm run start-from -- <n> --force    even over a workspace with your changes
Options:
  --force        overwrite without asking
  --to <folder>  copy into another folder than workspace/`;

const { values, positionals } = cli(usage, { force: { type: 'boolean' }, to: { type: 'string' } }, { max: 1, looksLike: (p) => /^\d+$/.test(p) });
const step = stepArgument(positionals, usage);
const dir = values.to ? path.resolve(values.to) : defaultWorkspace;
const concern = overwriteConcern(dir);
if (concern !== undefined && !values.force) {
  if (!process.stdin.isTTY) fail(`${concern}: add --force to overwrite them.`);
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  const answer = await prompt.question(`${concern}. Overwrite them with step ${step.number}? [y/N] `);
  prompt.close();
  if (!/^y(es)?$/i.test(answer.trim())) fail('Nothing changed.');
}
const files = startFrom(step, dir);
console.log(green(`${rel(dir)} now holds step ${step.number} (${step.title}): ${files.join(', ')}`));
for (const next of nextOf(step)) {
  console.log(dim(`Next, step ${next.number}: npm run dev (runs it, restarts on save), npm run check -- ${next.number} --dir ${rel(dir)} (how far your code gets), npm run diff -- ${next.number} --dir ${rel(dir)} (what it still lacks)`));
}
