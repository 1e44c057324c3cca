// Run test files with node:test through tsx and collect one result per
// test. npm test, npm run check and the checkpoint proof all run tests
// through here.
//
// The files are imported into a few child processes (tools/import-all.ts),
// each holding one suite whose children run side by side: a process per file
// would cost more in start-up than the tests themselves, and one process for
// all would leave the other cores idle (npm test asks for one per core). Each
// file therefore wraps its tests in a suite that names it, and results are
// told apart by that name.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { run } from './child.ts';
import { root } from './steps.ts';

/** The suite that holds every file of a run; left out of the results. */
export const ALL_FILES = 'all test files';

/** One finished test, as tools/reporter.mjs writes it. */
export interface TestResult {
  name: string;
  /** Names of the enclosing suites, outermost first. */
  suites: string[];
  ok: boolean;
  skipped: boolean;
  /** First line of the failure (the assertion message), when it failed. */
  message?: string;
  /** "expected X, got Y", when the assertion compared two values. */
  detail?: string;
  /** Where it failed: the test's file and line ("test/helpers/hardened.ts:244"), or its file. */
  at?: string;
  /** For an error of the code under test, not an assertion: where it was thrown ("workspace/config.ts:48"). */
  thrown?: string;
}

/** A test as check names it: its suites below the file's, then its name. */
export const testName = (r: Pick<TestResult, 'suites' | 'name'>): string =>
  [...r.suites.slice(1), r.name].join(' > ');

export interface RunOptions {
  files: string[];
  /** Extra environment, such as STEP_DIRS. */
  env?: Record<string, string>;
  /** Also print node's spec report while the tests run. */
  print?: boolean;
  /** How many processes share the files (npm test: one per core). */
  processes?: number;
}

/** How long one test file's suite took, and whether it passed. */
export interface FileTiming {
  /** The name of the file's suite. */
  file: string;
  /** The file, from the repository's root ("test/tools.test.ts"). */
  path?: string;
  ms: number;
  ok: boolean;
}

export interface RunOutcome {
  /** Each test file's time, its suite named as the file names it. */
  timings: FileTiming[];
  code: number;
  results: TestResult[];
  passed: number;
  failed: number;
  skipped: number;
  /** What the run printed, for a report when it failed before any test. */
  output: string;
}

function childEnv(extra: Record<string, string>, print: boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...extra,
    FORCE_COLOR: print && process.stdout.isTTY ? '1' : '0',
  };
  // Set inside a test file: it would make the child report to its parent
  // test runner instead of running as a test run of its own.
  delete env.NODE_TEST_CONTEXT;
  return env;
}

/**
 * Files split into `count` groups of about the same size, largest first, each
 * to the group with least so far: the groups run in processes side by side.
 * The files that start a browser stay together: their process starts one
 * Chromium for them all (test/helpers/browser.ts), where two would cost two
 * CPU seconds more.
 */
function shardFiles(files: string[], count: number): string[][] {
  const groups = Array.from({ length: Math.max(1, Math.min(count, files.length)) }, () => ({
    files: [] as string[],
    size: 0,
  }));
  const browser = files.filter((file) => readFileSync(file, 'utf8').includes('launchChromium('));
  const units = [
    ...(browser.length > 0 ? [browser] : []),
    ...files.filter((file) => !browser.includes(file)).map((file) => [file]),
  ].map((unit) => ({ unit, size: unit.reduce((sum, file) => sum + statSync(file).size, 0) }));
  for (const { unit, size } of units.sort((a, b) => b.size - a.size)) {
    const least = groups.reduce((a, b) => (b.size < a.size ? b : a));
    least.files.push(...unit);
    least.size += size;
  }
  // Each group keeps the order it was given (step files first).
  return groups.map((g) => files.filter((file) => g.files.includes(file)));
}

/** One process of a run: its files, its results. */
async function runShard(
  files: string[],
  scratch: string,
  index: number,
  env: NodeJS.ProcessEnv,
  /** Report as node's spec reporter does; `echo`: print it as it comes. */
  { report, echo }: { report: boolean; echo: boolean },
) {
  const jsonl = path.join(scratch, `results-${index}.jsonl`);
  const reporter = pathToFileURL(path.join(root, 'tools', 'reporter.mjs')).href;
  const args = [
    // A larger young generation: the run allocates much and lives short.
    '--max-semi-space-size=64',
    '--import',
    'tsx',
    `--test-reporter=${reporter}`,
    `--test-reporter-destination=${jsonl}`,
    ...(report ? ['--test-reporter=spec', '--test-reporter-destination=stdout'] : []),
    path.join(root, 'tools', 'import-all.ts'),
    ...files,
  ];
  const { code, output } = await run(process.execPath, args, { cwd: root, env, echo });
  let records: (TestResult | FileTiming)[] = [];
  try {
    records = readFileSync(jsonl, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as TestResult | FileTiming);
  } catch {
    // No results file: the run failed before any test; `output` says why.
  }
  return { code, output, records };
}

export async function runTests({
  files,
  env = {},
  print = false,
  processes = 1,
}: RunOptions): Promise<RunOutcome> {
  if (files.length === 0)
    return { code: 0, results: [], passed: 0, failed: 0, skipped: 0, output: '', timings: [] };
  const scratch = mkdtempSync(path.join(tmpdir(), 'jwt-workshop-tests-'));
  // The first process prints as it goes; the others' reports follow it, each
  // whole, rather than mixed line by line with it.
  const shards = await Promise.all(
    shardFiles(files, processes).map((group, i) =>
      runShard(group, scratch, i, childEnv(env, print), { report: print, echo: print && i === 0 }),
    ),
  );
  if (print) for (const shard of shards.slice(1)) process.stdout.write(shard.output);
  rmSync(scratch, { recursive: true, force: true });
  const records = shards.flatMap((s) => s.records);
  const timings = records.filter((r): r is FileTiming => 'file' in r);
  const results = records
    .filter((r): r is TestResult => !('file' in r))
    .map((r) => (r.suites[0] === ALL_FILES ? { ...r, suites: r.suites.slice(1) } : r));
  const skipped = results.filter((r) => r.skipped).length;
  const failed = results.filter((r) => !r.ok).length;
  const passed = results.length - failed - skipped;
  const code = shards.find((s) => s.code !== 0)?.code ?? 0;
  const output = shards.map((s) => s.output).join('');
  return { code, results, passed, failed, skipped, output, timings };
}
