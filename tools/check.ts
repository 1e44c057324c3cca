// npm run check: run checkpoint tests and show, per test, what passed and what
// is still wrong, in the words of the test's assertion messages.
import path from 'node:path';
import { existsSync } from 'node:fs';
import { cli, bold, dim, fail, green, red } from './cli.ts';
import { runTests, type TestResult } from './run-tests.ts';
import { checkpointName, findStep, rel, steps, testFile, type Step } from './steps.ts';

const usage = `
Usage: npm run check [n]                     the reference step n (every step without n)
       npm run check -- <n> --dir workspace  your own code in workspace/ against step n
       npm run check -- --dir workspace      how far your code gets through every step
Options:
  --dir <folder>  test the code in this folder instead of the reference step
  --quiet         print the summary only`;

const { values, positionals } = cli(usage, { dir: { type: 'string' }, quiet: { type: 'boolean' } });

let chosen: Step[];
try {
  chosen = positionals.length > 0 ? positionals.map((p) => findStep(p)) : steps;
} catch (err) {
  fail((err as Error).message);
}
const env: Record<string, string> = {};
if (values.dir !== undefined) {
  const dir = path.resolve(values.dir);
  if (!existsSync(dir)) fail(`No folder ${values.dir}: start one with npm run start-from <n>.`);
  env.STEP_DIR = dir;
}
const where = values.dir === undefined ? 'the reference steps' : rel(path.resolve(values.dir)) || '.';

function row(result: TestResult): string {
  const name = [...result.suites.slice(1), result.name].join(' > ');
  if (result.ok) return `  ${green('pass')}  ${name}`;
  return `  ${red('FAIL')}  ${name}\n        ${result.message ?? ''}`;
}

// One run for all the chosen steps; node runs their files side by side.
const run = await runTests({ files: chosen.map(testFile), env });
const summary: { step: Step; passed: number; failed: number }[] = [];
for (const step of chosen) {
  const results = run.results.filter((r) => r.suites[0] === checkpointName(step));
  const failed = results.filter((r) => !r.ok).length;
  summary.push({ step, passed: results.length - failed, failed: results.length === 0 ? 1 : failed });
  if (!values.quiet && (chosen.length === 1 || failed > 0 || results.length === 0)) {
    console.log(bold(`\nStep ${step.number}: ${step.title}`) + dim(` (test/${step.slug}.test.ts on ${where})`));
    for (const result of results) console.log(row(result));
    if (results.length === 0) console.log(`  ${red('FAIL')}  the tests did not run:\n${run.output.trim().split('\n').slice(-5).join('\n')}`);
  }
}

console.log(bold(`\nCheckpoints on ${where}:`));
for (const { step, passed, failed } of summary) {
  const verdict = failed === 0 ? green('done') : red(`${failed} to fix`);
  console.log(`  ${String(step.number).padStart(2)}  ${step.title.padEnd(22)} ${String(passed).padStart(3)} passed  ${verdict}`);
}
const failedSteps = summary.filter((s) => s.failed > 0);
const total = summary.reduce((sum, s) => sum + s.passed, 0);
const totalFailed = summary.reduce((sum, s) => sum + s.failed, 0);
console.log(`${total} passed, ${totalFailed} failed`);
if (failedSteps.length > 0) process.exitCode = 1;
