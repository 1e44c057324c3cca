// npm test: the strict typecheck and every test file, listed explicitly
// (node --test given no files, or a glob the shell did not expand, can pass
// having run nothing). Fails when any check fails or when no test ran.
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { run } from './child.ts';
import { runTests } from './run-tests.ts';
import { cacheDir, rel, root, steps, testFile } from './steps.ts';

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

const started = Date.now();
const [types, tests] = await Promise.all([
  typecheck(),
  runTests({ files, print: true, processes: availableParallelism() }),
]);
const seconds = ((Date.now() - started) / 1000).toFixed(1);

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
if (tests.results.length === 0) {
  console.log(`No test ran: ${tests.output.trim().split('\n').slice(-5).join('\n')}`);
}
// Where the time goes: the five slowest files. They run side by side, each
// waiting its turn for a core, so their times add up to more than the run's.
const slowest = [...tests.timings].sort((a, b) => b.ms - a.ms).slice(0, 5);
if (slowest.length > 0)
  console.log(
    `Slowest files (side by side): ${slowest.map((t) => `${t.file} ${(t.ms / 1000).toFixed(1)} s`).join(', ')}`,
  );
console.log(`${files.length} test files, ${seconds} s`);
console.log(
  `${tests.passed} passed, ${tests.failed} failed${tests.skipped ? `, ${tests.skipped} skipped` : ''}`,
);
const ok = types.ok && tests.code === 0 && tests.failed === 0 && tests.results.length > 0;
process.exit(ok ? 0 : 1);
