// npm test: the strict typecheck and every test file, listed explicitly
// (node --test given no files, or a glob the shell did not expand, can pass
// having run nothing). Fails when any check fails, or when no test ran and
// none was kept.
//
// A file whose inputs are as in a run where it passed is kept from that run,
// not run again (tools/test-inputs.ts): the run counts its tests as passed
// and names it. --fresh runs every file; under CI=true nothing is kept.
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { keptResults } from './cache.ts';
import { run } from './child.ts';
import { cli, dim } from './cli.ts';
import { runTests } from './run-tests.ts';
import { cacheDir, checkpointName, rel, root, steps, testFile } from './steps.ts';
import { testFileKeys } from './test-inputs.ts';

const usage = `
Usage: npm test [-- --fresh]

The typecheck and every test file. A file that passed, and whose inputs
have not changed since, is kept from that run; --fresh runs it anyway.
`;
const { values } = cli(usage, { fresh: { type: 'boolean' } }, { max: 0 });

async function typecheck(): Promise<{ ok: boolean; output: string }> {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  // Incremental: a second run reads what the first one learned (0.7 s, not 2 s).
  const buildInfo = path.join(cacheDir, 'tsbuildinfo');
  const args = [tsc, '--noEmit', '-p', root, '--incremental', '--tsBuildInfoFile', buildInfo];
  const { code, output } = await run(process.execPath, args, { cwd: root });
  return { ok: code === 0, output };
}

const stepFiles = steps.map(testFile);
const missing = stepFiles.filter((file) => !existsSync(file));
if (missing.length > 0) {
  console.error(`Every step needs its checkpoint tests; missing: ${missing.map(rel).join(', ')}`);
  process.exit(1);
}
const testDir = path.join(root, 'test');
const otherFiles = readdirSync(testDir)
  .filter((name) => name.endsWith('.test.ts'))
  .map((name) => path.join(testDir, name))
  .filter((file) => !stepFiles.includes(file));
const files = [...stepFiles, ...otherFiles];

/** What a file's last passing run counted. */
interface Passed {
  passed: number;
  skipped: number;
}

const started = Date.now();
const keys = new Map(
  [...testFileKeys(files.map(rel))].map(([file, key]) => [path.join(root, file), key]),
);
const kept = keptResults<Passed>('test-files');
const keptFiles = values.fresh ? [] : files.filter((file) => kept.get(keys.get(file)!));
const toRun = files.filter((file) => !keptFiles.includes(file));
const [types, tests] = await Promise.all([
  typecheck(),
  runTests({ files: toRun, print: true, processes: availableParallelism() }),
]);
const seconds = ((Date.now() - started) / 1000).toFixed(1);

// Keep what passed, by its key: the next run need not run it again.
for (const file of keptFiles) kept.set(keys.get(file)!, kept.get(keys.get(file)!)!);
for (const timing of tests.timings) {
  // A step's suite is declared in test/helpers/step.ts, the file node:test
  // names for it: its name says which step.
  const step = steps.find((s) => checkpointName(s) === timing.file);
  const file = step ? testFile(step) : timing.path && path.join(root, timing.path);
  if (!timing.ok || !file || !keys.has(file)) continue;
  const mine = tests.results.filter((r) => r.suites[0] === timing.file);
  kept.set(keys.get(file)!, {
    passed: mine.filter((r) => r.ok && !r.skipped).length,
    skipped: mine.filter((r) => r.skipped).length,
  });
}
kept.save();
const earlier = keptFiles.map((file) => kept.get(keys.get(file)!)!);
const keptPassed = earlier.reduce((sum, k) => sum + k.passed, 0);
const keptSkipped = earlier.reduce((sum, k) => sum + k.skipped, 0);

console.log('');
console.log(
  types.ok
    ? 'typecheck: tsc --noEmit found no errors'
    : `typecheck: tsc --noEmit failed\n${types.output}`,
);
for (const failure of tests.results.filter((r) => !r.ok)) {
  console.log(
    `FAIL ${[...failure.suites, failure.name].join(' > ')}${failure.at ? ` (${failure.at})` : ''}\n     ${failure.message}`,
  );
}
if (toRun.length > 0 && tests.results.length === 0) {
  console.log(`No test ran: ${tests.output.trim().split('\n').slice(-5).join('\n')}`);
}
if (keptFiles.length > 0)
  console.log(
    dim(
      `Kept ${keptFiles.length} of ${files.length} files from an earlier run, their inputs unchanged since they passed (npm test -- --fresh runs them too): ${keptFiles.map((file) => path.basename(file, '.test.ts')).join(', ')}`,
    ),
  );
// Where the time goes: the five slowest files. They run side by side, each
// waiting its turn for a core, so their times add up to more than the run's.
const slowest = [...tests.timings].sort((a, b) => b.ms - a.ms).slice(0, 5);
if (slowest.length > 0)
  console.log(
    `Slowest files (side by side): ${slowest.map((t) => `${t.file} ${(t.ms / 1000).toFixed(1)} s`).join(', ')}`,
  );
console.log(
  `${files.length} test files (${toRun.length} run, ${keptFiles.length} kept), ${seconds} s`,
);
const skipped = tests.skipped + keptSkipped;
console.log(
  `${tests.passed + keptPassed} passed${keptPassed ? ` (${keptPassed} kept)` : ''}, ${tests.failed} failed${skipped ? `, ${skipped} skipped` : ''}`,
);
// Every file ran or was kept, and at least one test counted.
const ok =
  types.ok &&
  tests.code === 0 &&
  tests.failed === 0 &&
  tests.results.length + keptPassed > 0 &&
  (toRun.length === 0 || tests.results.length > 0);
process.exit(ok ? 0 : 1);
