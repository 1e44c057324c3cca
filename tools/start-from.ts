// npm run start-from <n>: copy step n into workspace/ to code along from there.
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { cli, dim, fail, green } from './cli.ts';
import { findStep, rel, type Step } from './steps.ts';
import { defaultWorkspace, overwriteConcern, startFrom } from './workspace.ts';

const usage = `
Usage: npm run start-from <n>               copy step n into workspace/
       npm run start-from -- <n> --force    even over a workspace with your changes
Options:
  --force        overwrite without asking
  --to <folder>  copy into another folder than workspace/`;

const { values, positionals } = cli(usage, { force: { type: 'boolean' }, to: { type: 'string' } });
let step: Step;
try {
  step = findStep(positionals[0]);
} catch (err) {
  fail(`${(err as Error).message}\n${usage.trim()}`);
}
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
console.log(dim(`Next: npm run dev (runs it, restarts on save), npm run check -- ${step.number + 1} --dir ${rel(dir)} (how far your code gets with the next step), npm run diff -- ${step.number + 1} --dir ${rel(dir)} (what it still lacks)`));
