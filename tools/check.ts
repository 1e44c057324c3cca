// npm run check: run checkpoint tests and say, like a coach, what is still
// wrong: one line per distinct mistake (the rule its first test states, and
// the number of tests it breaks), what came instead, and the hint that
// helps. `--watch` checks again on every save.
import { spawn } from 'node:child_process';
import { existsSync, watch } from 'node:fs';
import path from 'node:path';
import { describe } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bold, cli, dim, fail, green, isMain, partArgument, red, userPath, yellow } from './cli.ts';
import { defaultWorkspace, describeWorkspace, isWorkspace, workspaceTarget } from './workspace.ts';
import { fit, lessonParts, loadExercise, type Hint } from './exercise.ts';
import { ALL_FILES, runTests, testName, type TestResult } from './run-tests.ts';
import { reportToRoom, roomReport } from './room/client.ts';
import {
  checkpointName,
  findStep,
  nextOf,
  rel,
  root,
  steps,
  testFile,
  type CodeDirs,
  type Step,
} from './steps.ts';

export interface StepResult {
  step: Step;
  results: TestResult[];
  passed: number;
  failed: number;
  /** What the run printed when this step's tests did not run at all. */
  error?: string;
}

/**
 * Run the checkpoints of `chosen` steps against their reference code, or the
 * folders `dirs` names. `proof`: only to show that they fail (slow tests skipped).
 */
export async function checkpoints(
  chosen: Step[],
  dirs: CodeDirs = {},
  options: { proof?: boolean } = {},
): Promise<StepResult[]> {
  const env: Record<string, string> = {
    STEP_DIRS: JSON.stringify(dirs),
    ...(options.proof ? { CHECKPOINT_PROOF: '1' } : {}),
  };
  const run = await runTests({ files: chosen.map(testFile), env });
  return byStep(chosen, run.results, run.output);
}

/** A part of a step (step 06's key, passwords...): the tests under these suites. */
export function inPart(step: Step, part: string | undefined, result: TestResult): boolean {
  if (part === undefined) return true;
  const suites = step.parts?.find((p) => p.id === part)?.suites ?? [];
  const where = result.suites.slice(1).join(' > ');
  return suites.some((suite) => where === suite || where.startsWith(`${suite} > `));
}

export interface Mistake {
  /** What is wrong, in one line. */
  what: string;
  tests: TestResult[];
  hints: Hint[];
}

/** What is wrong in one failed test, in the words that group it with others that fail the same way. */
function mistakeOf(failure: TestResult): string {
  const uncaught = /\(uncaught (.*)\)$/.exec(failure.message ?? '')?.[1];
  const got = /got (\d{3})\b/.exec(failure.message ?? '')?.[1];
  return failure.detail
    ? `${failure.detail}${uncaught ? `: the server threw ${uncaught}` : ''}`
    : uncaught
      ? `got ${got ?? 500}: the server threw ${uncaught}`
      : (failure.message ?? 'failed');
}

/**
 * A failure as a learner reads it: first the rule its test states (the
 * assertion's own sentence, or else the test's name), then what came instead
 * ("expected 400, got 200 ... to POST /auth/refresh"). Tests are grouped by
 * what came, which alone says little.
 */
export function ruleAndCame(failure: TestResult): { rule: string; came?: string } {
  const message = failure.message ?? '';
  const { detail } = failure;
  if (!message) return { rule: failure.name };
  // assert.equal(a, b) with no sentence of the test's own.
  if (message === detail) return { rule: failure.name, came: detail };
  // A sentence that the reporter followed with "(expected X, got Y)".
  if (detail && message.endsWith(` (${detail})`))
    return { rule: message.slice(0, -detail.length - 3).replace(/[:\s]+$/, ''), came: detail };
  // assert.throws() that saw nothing thrown: the reporter says so last.
  const nothing = /^(.*) \((nothing was (?:thrown|rejected))\)$/s.exec(message);
  if (nothing) return { rule: nothing[1]!, came: nothing[2] };
  // A sentence followed by show() of test/helpers/http.ts: got 200 {...} to GET /x.
  const shown = /^(?:(.*?):\s+)?(got \d{3} [{["].*)$/s.exec(message);
  if (shown) {
    const wanted = /^(expected .+?), got \d{3}$/.exec(detail ?? '')?.[1];
    return { rule: shown[1] || failure.name, came: wanted ? `${wanted}, ${shown[2]}` : shown[2] };
  }
  return { rule: message };
}

/**
 * Failures grouped by what is wrong: the same "expected 403, got 401", or
 * the same message, is one mistake however many tests it breaks. An error
 * the server threw is part of what is wrong.
 */
export function mistakes(
  failures: TestResult[],
  hints: Hint[] = [],
  total = failures.length,
): Mistake[] {
  const groups = new Map<string, Mistake>();
  for (const failure of failures) {
    const key = mistakeOf(failure);
    const group = groups.get(key) ?? { what: key, tests: [], hints: [] };
    group.tests.push(failure);
    groups.set(key, group);
  }
  for (const group of groups.values()) {
    // Tests that all failed for the same words (a hook that could not load the
    // code: a missing file or export) are best told in those words.
    const messages = new Set(group.tests.map((t) => t.message));
    if (messages.size === 1 && group.tests.length > 1 && group.tests[0]!.message)
      group.what = group.tests[0]!.message;
    // Something every test trips over is the code's shape, not one rule: no hint.
    if (messages.size === 1 && group.tests.length === total && total > 3) continue;
    // The hint that speaks to most of a mistake's tests first. A test's name
    // says what it covers, its message what went wrong (a test can fail for
    // several mistakes): a hint found in both counts twice.
    const weight = (hint: Hint, t: TestResult) =>
      fit(hint, { name: t.name }) + fit(hint, { name: '', message: t.message });
    const score = (hint: Hint) => group.tests.reduce((sum, t) => sum + weight(hint, t), 0);
    group.hints = hints
      .filter((h) => score(h) > 0)
      .sort((a, b) => score(b) - score(a) || a.number - b.number);
  }
  return [...groups.values()].sort((a, b) => b.tests.length - a.tests.length);
}

/**
 * The mistakes among a step's failures, as check reports them. A mistake
 * that breaks tests of several parts is the earliest part's: the later ones
 * build on it (step 06's claims are checked through the Bearer header), so
 * that part's hints come first, the best fitting one or else its first.
 */
export function stepMistakes(step: Step, failures: TestResult[], total: number): Mistake[] {
  const hints = loadExercise(step)?.hints ?? [];
  const found = mistakes(failures, hints, total);
  const parts = step.parts ?? [];
  for (const m of found) {
    const spanned = new Set(
      m.tests.map((t) => parts.findIndex((p) => inPart(step, p.id, t))).filter((i) => i >= 0),
    );
    // No hint at all: an error every test trips over, told as such.
    if (spanned.size < 2 || m.hints.length === 0) continue;
    const earliest = parts[Math.min(...spanned)]!.id;
    const theirs = [
      ...m.hints.filter((h) => h.part === earliest),
      ...hints.filter((h) => h.part === earliest && !m.hints.includes(h)),
    ];
    if (theirs.length > 0) m.hints = [...theirs, ...m.hints.filter((h) => !theirs.includes(h))];
  }
  return found;
}

/**
 * The earlier parts that `part` needs and that still fail. A part with no
 * lesson of its own (no marker of its own in EXERCISE.md, like step 09's
 * "together") checks the parts before it together: it needs them all. Any
 * other part needs those whose mistakes show in its own tests (step 06's
 * claims are checked through the Bearer header: while "bearer" is not done,
 * a good token is refused in both). A part it does not need is not named, so
 * no plan that skips it is sent there.
 */
export function buildsOn(result: StepResult, part: string): string[] {
  const { step } = result;
  const parts = step.parts ?? [];
  const at = parts.findIndex((p) => p.id === part);
  const earlier = parts.slice(0, Math.max(0, at)).map((p) => p.id);
  const lesson = lessonParts(step).some((p) => p.id === part);
  if (!lesson) return partsShowing(result, earlier);
  const own = result.results.filter((r) => !r.ok && inPart(step, part, r));
  return partsShowing(result, earlier, new Set(own.map(mistakeOf)));
}

/** Those of `parts` with a failing test: any, or one showing one of these mistakes. */
function partsShowing(result: StepResult, parts: string[], shown?: Set<string>): string[] {
  return parts.filter((part) =>
    result.results.some(
      (r) => !r.ok && inPart(result.step, part, r) && (!shown || shown.has(mistakeOf(r))),
    ),
  );
}

/** The report for one step: every test (reference code), or the mistakes (a learner's folder). */
export function stepReport(
  result: StepResult,
  options: { coach: boolean; part?: string; where: string },
): string[] {
  const { step } = result;
  const lines = [
    bold(`Step ${step.number}: ${step.title}${options.part ? `, part "${options.part}"` : ''}`) +
      dim(` (test/${step.slug}.test.ts on ${options.where})`),
  ];
  if (result.error !== undefined)
    return [...lines, `  ${red('The tests did not run:')}\n${result.error}`];
  const mine = result.results.filter((r) => inPart(step, options.part, r));
  const failures = mine.filter((r) => !r.ok);
  if (!options.coach) {
    for (const r of mine)
      lines.push(
        r.ok
          ? `  ${green('pass')}  ${testName(r)}`
          : `  ${red('FAIL')}  ${testName(r)}${r.at ? dim(` (${r.at})`) : ''}\n        ${r.message ?? ''}`,
      );
    return lines;
  }
  // An earlier part this one needs and that still fails: say so first.
  const unfinished = options.part === undefined ? [] : buildsOn(result, options.part);
  if (unfinished.length > 0)
    lines.push(
      yellow(
        `  Part "${options.part}" builds on ${unfinished.map((p) => `"${p}"`).join(', ')}, which ${unfinished.length > 1 ? 'still fail' : 'still fails'}: finish ${unfinished.length > 1 ? 'those' : 'that'} first.`,
      ),
    );
  if (failures.length === 0) return [...lines, green(`  All ${mine.length} tests pass.`)];
  const found = stepMistakes(step, failures, mine.length);
  lines.push(
    `  ${mine.length - failures.length} of ${mine.length} tests pass. ${found.length === 1 ? 'One thing' : `${found.length} things`} to fix:`,
  );
  // A mistake that an unfinished earlier part's tests show too is that
  // part's: it is named rather than a hint of this part.
  const theirs = (m: Mistake) =>
    partsShowing(result, unfinished, new Set([mistakeOf(m.tests[0]!)]))[0];
  for (const m of found) {
    const count = m.tests.length === 1 ? '1 test' : `${m.tests.length} tests`;
    const example = m.tests[0]!;
    const { rule, came } = ruleAndCame(example);
    lines.push(`  ${red('x')} ${rule} ${dim(`(${count})`)}`);
    if (came) lines.push(dim(`      ${came}`));
    // Where: the test's suites and name, or its suites alone when its name is the rule above.
    const named = rule === example.name ? example.suites.slice(1).join(' > ') : testName(example);
    const place = [named, example.at && `(${example.at})`].filter(Boolean).join(' ');
    if (place) lines.push(dim(`      ${m.tests.length > 1 ? 'e.g. in' : 'in'} ${place}`));
    const hint = m.hints[0];
    const earlier = theirs(m);
    const everyTest = !earlier && !hint && m.tests.length === mine.length && mine.length > 3;
    // Said below, in the advice for an error that stops every test.
    if (example.thrown && !everyTest) lines.push(dim(`      thrown at ${example.thrown}`));
    if (earlier)
      lines.push(
        yellow(`      the same mistake as in part "${earlier}": it goes once that part passes`),
      );
    else if (hint)
      lines.push(
        yellow(
          `      hint ${hint.number}, "${hint.title}": npm run hint ${step.number} ${hint.number}`,
        ),
      );
    else if (everyTest) {
      // An error of the code itself (it does not compile, or throws as it
      // loads) is fixed where it points, not by starting over.
      const crashed =
        example.thrown !== undefined ||
        /^\w*Error\b/.test(m.what) ||
        /\.(?:ts|mjs|js):\d+/.test(m.what);
      lines.push(
        yellow(
          crashed
            ? `      Every test stops at this error of the code itself. Fix it ${example.thrown ? `at ${example.thrown}` : 'where the message points'} (npm run dev shows the same error), then check again.`
            : `      Every test stops at this: the code is not yet in the shape step ${step.number} wants. npm run exercise ${step.number} hands out its task and TODO markers.`,
        ),
      );
    }
  }
  return lines;
}

export interface CheckOptions {
  steps: number[];
  /** The folder under test, absolute; the reference steps when not given. */
  dir?: string;
  part?: string;
  coach: boolean;
  quiet: boolean;
  /** What the folder holds, by its manifest: the step, and in words ("step 9's code"). */
  holds?: { step: number; words: string };
  /** Without --dir: what workspace/ holds, when it holds something. */
  workspace?: { step: number; words: string };
}

/** Results of one run, as each step's StepResult (what checkpoints() returns). */
export function byStep(chosen: Step[], results: TestResult[], output = ''): StepResult[] {
  return chosen.map((step) => {
    const mine = results.filter((r) => r.suites[0] === checkpointName(step));
    const failed = mine.filter((r) => !r.ok).length;
    const error =
      mine.length === 0
        ? output.trim().split('\n').slice(-5).join('\n') || 'no test ran'
        : undefined;
    return {
      step,
      results: mine,
      passed: mine.length - failed,
      failed: error === undefined ? failed : 1,
      error,
    };
  });
}

/** What npm run check prints for a run, and whether everything it was asked about passed. */
export function checkReport(
  summary: StepResult[],
  options: CheckOptions,
): { text: string; ok: boolean } {
  const out: string[] = [];
  const { dir, part } = options;
  const where = dir === undefined ? 'the reference steps' : `${rel(dir) || '.'}/`;
  for (const result of summary) {
    if (options.quiet || (summary.length > 1 && result.failed === 0)) continue;
    out.push('', ...stepReport(result, { coach: options.coach, part, where }));
    if (result.step.expected) out.push(dim(`  ${result.step.expected}`));
  }
  const failedIn = (s: StepResult) =>
    s.error !== undefined ? 1 : s.results.filter((r) => !r.ok && inPart(s.step, part, r)).length;
  if (summary.length > 1) {
    out.push('', bold(`Checkpoints on ${where}:`));
    for (const s of summary)
      out.push(
        `  ${String(s.step.number).padStart(2)}  ${s.step.title.padEnd(32)} ${String(s.passed).padStart(3)} passed  ${s.failed === 0 ? green('done') : red(`${s.failed} to fix`)}`,
      );
  }
  const failed = summary.reduce((sum, s) => sum + failedIn(s), 0);
  if (failed === 0 && dir !== undefined && summary.length === 1) {
    const { step } = summary[0]!;
    out.push('', green(`Step ${step.number}${part ? `, part "${part}",` : ''} is done.`));
    // The part after this one; after the last, the whole step.
    const parts = step.parts ?? [];
    const following = part ? parts[parts.findIndex((p) => p.id === part) + 1] : undefined;
    if (following)
      out.push(`Next: npm run check -- ${step.number} --dir ${rel(dir)} --part ${following.id}`);
    else if (part) out.push(`Next: npm run check -- ${step.number} --dir ${rel(dir)}`);
    else {
      out.push(dim(`Compare with the reference: npm run diff -- ${step.number} --dir ${rel(dir)}`));
      for (const next of nextOf(step))
        out.push(`Next: npm run exercise ${next.number}   (${next.title})`);
    }
  } else if (summary.length === 1) {
    out.push(
      '',
      failed === 0 ? green('All checks pass.') : `${failed} test${failed === 1 ? '' : 's'} to fix.`,
    );
  }
  // The folder holds another step's code (its manifest says which): say so, last, where it is read.
  const [only] = summary;
  if (options.holds && only && summary.length === 1 && options.holds.step !== only.step.number)
    out.push(
      yellow(
        `${where} holds ${options.holds.words}, not step ${only.step.number}'s: npm run check -- ${options.holds.step} --dir ${rel(dir!)} checks it against its own step.`,
      ),
    );
  // Without --dir the reference code passes: a learner with an exercise in
  // workspace/ meant that, most likely.
  const mine = options.workspace;
  if (dir === undefined && mine && only && summary.length === 1 && mine.step === only.step.number)
    out.push(
      yellow(
        `That was the reference code. workspace/ holds ${mine.words}: npm run check -- ${mine.step} --dir workspace${part ? ` --part ${part}` : ''} checks yours.`,
      ),
    );
  // Joined to a room (npm run join): a check of the learner's own code sends its
  // counts, failing test names and hint numbers there (README, "The room"); a
  // check of the reference steps sends nothing, and says so.
  if (inProcess())
    void reportToRoom(
      dir === undefined
        ? undefined
        : summary.map((s) => {
            const mine = s.results.filter((r) => inPart(s.step, part, r));
            const failures = mine.filter((r) => !r.ok);
            const found = stepMistakes(s.step, failures, mine.length);
            return roomReport(
              s.step.number,
              part,
              mine.length - failures.length,
              failedIn(s),
              found,
            );
          }),
    );
  return { text: `${out.join('\n')}\n`, ok: failed === 0 };
}

// npm run check runs the tests in its own process, with tools/check-reporter.mjs
// as node:test's reporter (one process start less than a child of its own: the
// learner waits for this on every save). Run any other way, or with --watch,
// it starts itself that way.
const REPORTER = fileURLToPath(new URL('./check-reporter.mjs', import.meta.url));
const inProcess = () => process.execArgv.some((arg) => arg.includes('check-reporter'));

function runChecks(chosen: Step[], options: CheckOptions): void {
  // Both before the test files load: test/helpers/step.ts reads STEP_DIRS as it loads.
  process.env.STEP_DIRS = JSON.stringify(options.dir === undefined ? {} : { '*': options.dir });
  process.env.CHECK_OPTIONS = JSON.stringify(options);
  describe(ALL_FILES, { concurrency: true }, async () => {
    for (const step of chosen) await import(pathToFileURL(testFile(step)).href);
  });
}

/** Node's arguments for npm run check with these of its own: for a process of its own. */
export function checkArgs(args: string[]): string[] {
  return [
    '--import',
    'tsx',
    `--test-reporter=${pathToFileURL(REPORTER).href}`,
    '--test-reporter-destination=stdout',
    fileURLToPath(import.meta.url),
    ...args,
  ];
}

/** Run the check in a process of its own, as npm run check does; resolves with its exit status. */
function checkInChild(args: string[]): Promise<number> {
  const child = spawn(process.execPath, checkArgs(args), {
    cwd: root,
    stdio: 'inherit',
    // Without npm's settings: the arguments above are complete, and a flag npm
    // took (npm_config_watch=true) would be read again and refused.
    env: {
      ...Object.fromEntries(
        Object.entries(process.env).filter(([name]) => !name.startsWith('npm_config_')),
      ),
      NODE_TEST_CONTEXT: undefined,
    },
  });
  return new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)));
}

if (isMain(import.meta.url)) {
  const usage = `
Usage: npm run check [n]                     the reference step n (every step without n)
       npm run check -- <n> --dir workspace  your own code in workspace/ against step n
       npm run check -- --dir workspace      how far your code gets through every step
       npm run check -- 6 --dir workspace --part key   one part of step 6
Options:
  --dir <folder>  test the code in this folder instead of the reference step
  --part <name>   only the tests of one part of a step (step 6: ${
    findStep(6)
      .parts?.map((p) => p.id)
      .join(', ') ?? 'none'
  })
  --watch         check again whenever a file in --dir changes
  --all           list every test, not the mistakes grouped
  --quiet         print the summary only`;
  const { values, positionals } = cli(
    usage,
    {
      dir: { type: 'string' },
      part: { type: 'string' },
      watch: { type: 'boolean' },
      all: { type: 'boolean' },
      quiet: { type: 'boolean' },
    },
    { max: steps.length, looksLike: (p) => /^\d+$/.test(p) },
  );
  let chosen: Step[];
  try {
    chosen = positionals.length > 0 ? positionals.map((p) => findStep(p)) : steps;
  } catch (err) {
    fail((err as Error).message);
  }
  // Typed inside a workspace without --dir: that workspace is what to check.
  const typedIn = process.env.INIT_CWD;
  if (values.dir === undefined && typedIn && isWorkspace(typedIn)) {
    values.dir = typedIn;
    console.error(dim(`(checking ${rel(typedIn) || '.'}/, the folder you are in)`));
  }
  if (values.dir !== undefined && !existsSync(userPath(values.dir)))
    fail(
      `No folder ${values.dir}: npm run exercise <n> hands out one (or npm run start-from <n>).`,
    );
  if (values.dir !== undefined && rel(userPath(values.dir)).startsWith('..')) {
    fail(
      `Keep ${values.dir} inside the workshop folder (like workspace/), so that its code finds the installed packages.`,
    );
  }
  partArgument(chosen.length === 1 ? chosen[0] : undefined, values.part);
  if (values.watch && values.dir === undefined)
    fail('--watch checks your own folder: npm run check -- <n> --dir workspace --watch');
  const dir = values.dir === undefined ? undefined : userPath(values.dir);
  const heldBy = (folder: string) => {
    const step = workspaceTarget(folder);
    return step && { step: step.number, words: describeWorkspace(folder)! };
  };
  const options: CheckOptions = {
    steps: chosen.map((s) => s.number),
    dir,
    part: values.part,
    coach: dir !== undefined && !values.all,
    quiet: Boolean(values.quiet),
    holds: dir === undefined ? undefined : heldBy(dir),
    workspace: dir === undefined ? heldBy(defaultWorkspace) : undefined,
  };
  // The arguments for a run of its own: as given, less --watch, and the folder made absolute.
  const args = [
    ...chosen.map((s) => String(s.number)),
    ...(dir ? ['--dir', dir] : []),
    ...(values.part ? ['--part', values.part] : []),
    ...(values.all ? ['--all'] : []),
    ...(values.quiet ? ['--quiet'] : []),
  ];

  if (!values.watch && inProcess()) runChecks(chosen, options);
  else if (!values.watch) process.exitCode = await checkInChild(args);
  else {
    await checkInChild(args);
    console.log(
      dim(`\nWatching ${rel(dir!) || '.'}/ : save a file to check again, Ctrl-C to stop.`),
    );
    let timer: NodeJS.Timeout | undefined;
    let running = false;
    watch(dir!, { recursive: true }, (_event, file) => {
      if (file && /(^|[\\/])\.workshop\.json$/.test(String(file))) return;
      clearTimeout(timer);
      timer = setTimeout(async () => {
        if (running) return;
        running = true;
        console.log(
          dim(`\n--- ${new Date().toLocaleTimeString()}: ${file ?? 'a file'} changed ---`),
        );
        await checkInChild(args);
        running = false;
      }, 200);
    });
  }
}
