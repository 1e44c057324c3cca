// Run test files with node:test through tsx, in one child process, and
// collect one result per test. npm test, npm run check and the checkpoint
// proof all run tests through here.
//
// The files are imported into that one process (tools/import-all.ts), inside
// one suite whose children run side by side: a process per file would cost
// more in start-up than the tests themselves. Each file therefore wraps its
// tests in a suite that names it, and results are told apart by that name.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
}

export interface RunOptions {
  files: string[];
  /** Extra environment, such as STEP_DIRS. */
  env?: Record<string, string>;
  /** Also print node's spec report while the tests run. */
  print?: boolean;
}

/** How long one test file's suite took. */
export interface FileTiming {
  file: string;
  ms: number;
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

export async function runTests({
  files,
  env = {},
  print = false,
}: RunOptions): Promise<RunOutcome> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'jwt-workshop-tests-'));
  const jsonl = path.join(scratch, 'results.jsonl');
  const reporter = pathToFileURL(path.join(root, 'tools', 'reporter.mjs')).href;
  const args = [
    '--import',
    'tsx',
    `--test-reporter=${reporter}`,
    `--test-reporter-destination=${jsonl}`,
    ...(print ? ['--test-reporter=spec', '--test-reporter-destination=stdout'] : []),
    path.join(root, 'tools', 'import-all.ts'),
    ...files,
  ];
  const { code, output } = await run(process.execPath, args, {
    cwd: root,
    env: childEnv(env, print),
    echo: print,
  });
  let results: TestResult[] = [];
  let timings: FileTiming[] = [];
  try {
    const records = readFileSync(jsonl, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as TestResult | FileTiming);
    timings = records.filter((r): r is FileTiming => 'file' in r);
    results = records
      .filter((r): r is TestResult => !('file' in r))
      .map((r) => (r.suites[0] === ALL_FILES ? { ...r, suites: r.suites.slice(1) } : r));
  } catch {
    // No results file: the run failed before any test; `output` says why.
  }
  rmSync(scratch, { recursive: true, force: true });
  const skipped = results.filter((r) => r.skipped).length;
  const failed = results.filter((r) => !r.ok).length;
  const passed = results.length - failed - skipped;
  return { code, results, passed, failed, skipped, output, timings };
}
