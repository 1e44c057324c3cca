// npm run check: run checkpoint tests and show, per test, what passed and what
// is still wrong, in the words of the test's assertion messages.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { bold, cli, dim, fail, green, isMain, red } from './cli.ts';
import { runTests, type TestResult } from './run-tests.ts';
import { checkpointName, findStep, rel, steps, testFile, type CodeDirs, type Step } from './steps.ts';

export interface StepResult {
  step: Step;
  results: TestResult[];
  passed: number;
  failed: number;
  /** What the run printed when this step's tests did not run at all. */
  error?: string;
}

/** Run the checkpoints of `chosen` steps against their reference code, or the folders `dirs` names. */
export async function checkpoints(chosen: Step[], dirs: CodeDirs = {}): Promise<StepResult[]> {
  const run = await runTests({ files: chosen.map(testFile), env: { STEP_DIRS: JSON.stringify(dirs) } });
  return chosen.map((step) => {
    const results = run.results.filter((r) => r.suites[0] === checkpointName(step));
    const failed = results.filter((r) => !r.ok).length;
    const error = results.length === 0 ? run.output.trim().split('\n').slice(-5).join('\n') : undefined;
    return { step, results, passed: results.length - failed, failed: error === undefined ? failed : 1, error };
  });
}

function row(result: TestResult): string {
  const name = [...result.suites.slice(1), result.name].join(' > ');
  if (result.ok) return `  ${green('pass')}  ${name}`;
  return `  ${red('FAIL')}  ${name}\n        ${result.message ?? ''}`;
}

if (isMain(import.meta.url)) {
  const usage = `
Usage: npm run check [n]                     the reference step n (every step without n)
       npm run check -- <n> --dir workspace  your own code in workspace/ against step n
       npm run check -- --dir workspace      how far your code gets through every step
Options:
  --dir <folder>  test the code in this folder instead of the reference step
  --quiet         print the summary only`;
  const { values, positionals } = cli(usage, { dir: { type: 'string' }, quiet: { type: 'boolean' } }, { max: steps.length, looksLike: (p) => /^\d+$/.test(p) });
  let chosen: Step[];
  try {
    chosen = positionals.length > 0 ? positionals.map((p) => findStep(p)) : steps;
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.dir !== undefined && !existsSync(values.dir)) fail(`No folder ${values.dir}: start one with npm run start-from <n>.`);
  if (values.dir !== undefined && rel(path.resolve(values.dir)).startsWith('..')) {
    fail(`Keep ${values.dir} inside the workshop folder (like workspace/), so that its code finds the installed packages.`);
  }
  const where = values.dir === undefined ? 'the reference steps' : rel(path.resolve(values.dir)) || '.';

  const summary = await checkpoints(chosen, values.dir === undefined ? {} : { '*': path.resolve(values.dir) });
  for (const { step, results, failed, error } of summary) {
    if (values.quiet || (chosen.length > 1 && failed === 0)) continue;
    console.log(bold(`\nStep ${step.number}: ${step.title}`) + dim(` (test/${step.slug}.test.ts on ${where})`));
    for (const result of results) console.log(row(result));
    if (error !== undefined) console.log(`  ${red('FAIL')}  the tests did not run:\n${error}`);
  }
  console.log(bold(`\nCheckpoints on ${where}:`));
  for (const { step, passed, failed } of summary) {
    const verdict = failed === 0 ? green('done') : red(`${failed} to fix`);
    console.log(`  ${String(step.number).padStart(2)}  ${step.title.padEnd(22)} ${String(passed).padStart(3)} passed  ${verdict}`);
  }
  const passed = summary.reduce((sum, s) => sum + s.passed, 0);
  const failed = summary.reduce((sum, s) => sum + s.failed, 0);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}
