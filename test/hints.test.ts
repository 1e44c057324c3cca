// Proof that check's hint pointers point right: for each hint, a mistake made
// in a copy of the reference step (test/fixtures/hint-mutations.ts), the
// step's checkpoint run on it as npm run check runs it, and every mistake
// check reports on it pointed at that hint and at no other.
//
// A run takes one folder per step (STEP_DIRS), so the rows go in rounds: the
// k-th row of each step in round k, all steps of a round in one process, in
// the checkpoint proof's mode (no browser, no Redis), two rounds at a time.
// A hint of a part is judged as check --part judges it: on that part's tests.
//
// The test results of a row are kept (test/helpers/cache.ts) by the hash of
// everything they depend on: the step's files, the row, the checkpoint's test
// file and every file it imports, the runner. The pointers are worked out
// again on every run, from the hints and the scoring as they are now, so a
// change of keywords or scoring costs no checkpoint run; a change of a step
// or of its tests runs that step's rows again.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkpoints, inPart, mistakes } from '../tools/check.ts';
import { loadExercise, type Hint } from '../tools/exercise.ts';
import type { TestResult } from '../tools/run-tests.ts';
import { findStep, root, stepDir, steps, testFile, type Step } from '../tools/steps.ts';
import { copyStep, listFiles, withoutRegionMarkers } from '../tools/workspace.ts';
import { cacheDir, cacheKey } from './helpers/cache.ts';
import { HINT_MUTATIONS, type HintMutation } from './fixtures/hint-mutations.ts';

const TABLE = 'test/fixtures/hint-mutations.ts';
const pad = (n: number) => String(n).padStart(2, '0');
const hintsOf = (step: Step): Hint[] => loadExercise(step)?.hints ?? [];
const hintOf = (row: HintMutation): Hint | undefined =>
  hintsOf(findStep(row.step)).find((h) => h.number === row.hint);
const label = (row: HintMutation) =>
  `step ${pad(row.step)} hint ${row.hint} (${hintOf(row)?.title ?? 'no such hint'})`;
/** Under CI=true only: the row needs a real browser (see HintMutation.browser). */
const browserSkip = (row: HintMutation) =>
  row.browser && !process.env.CI ? 'needs a real browser: runs under CI=true' : false;

/** The rows in rounds: the k-th row of each step in round k. */
function rounds(rows: HintMutation[]): HintMutation[][] {
  const byStep = new Map<number, HintMutation[]>();
  for (const row of rows) byStep.set(row.step, [...(byStep.get(row.step) ?? []), row]);
  const count = Math.max(0, ...[...byStep.values()].map((list) => list.length));
  return Array.from({ length: count }, (_, k) =>
    [...byStep.values()].flatMap((list) => (list[k] ? [list[k]] : [])),
  );
}

/** A file of a step as a workspace holds it (copyStep): region markers left out of code. */
function referenceText(row: HintMutation): string | undefined {
  const file = path.join(stepDir(findStep(row.step)), row.file);
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  return /\.(ts|js|mjs)$/.test(file) ? withoutRegionMarkers(text) : text;
}

/** Why a row cannot be applied to its step, or undefined. */
function staleness(row: HintMutation): string | undefined {
  const where = `steps/${findStep(row.step).slug}/${row.file}`;
  const text = referenceText(row);
  if (text === undefined) return `${where} does not exist`;
  const found = text.split(row.find).length - 1;
  if (found === 0) return `its find-string no longer occurs in ${where}`;
  if (found > 1) return `its find-string occurs ${found} times in ${where}: make it unique`;
  return undefined;
}

/** Local files a module imports, and theirs, from `start` (paths from the root). */
function importClosure(start: string[]): string[] {
  const seen = new Set<string>();
  const todo = start.map((file) => path.resolve(root, file));
  for (let file = todo.pop(); file; file = todo.pop()) {
    if (seen.has(file) || !existsSync(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g))
      todo.push(path.resolve(path.dirname(file), m[1]!));
  }
  return [...seen].sort();
}

/**
 * The files a step's checkpoint results depend on: what a copy of the step
 * holds (its hints, in EXERCISE.md, are not copied), its test file and
 * every file that imports.
 */
function stepFiles(step: Step): string[] {
  return [
    ...listFiles(stepDir(step))
      .filter((file) => file !== 'EXERCISE.md')
      .map((file) => path.join(stepDir(step), file)),
    ...importClosure([testFile(step)]),
  ];
}

/** Files as one hash: their paths and their contents. */
const hashOf = (files: string[]) =>
  cacheKey(...files.flatMap((file) => [path.relative(root, file), readFileSync(file)]));

/** What is wrong with the pointers for a row: undefined when check names its hint and no other. */
function verdict(row: HintMutation, results: TestResult[] | string): string | undefined {
  const step = findStep(row.step);
  const hint = hintOf(row)!;
  if (typeof results === 'string')
    return `the checkpoint did not run on the mutation '${row.mistake}': ${results}`;
  const mine = results.filter((r) => inPart(step, hint.part, r));
  const failures = mine.filter((r) => !r.ok);
  const where = hint.part
    ? `part "${hint.part}" of step ${pad(step.number)}`
    : `step ${pad(step.number)}`;
  if (failures.length === 0)
    return `the mutation '${row.mistake}' breaks no test of ${where}: make a mistake its checkpoint catches`;
  const wrong = mistakes(failures, hintsOf(step), mine.length)
    .filter((m) => m.hints[0]?.number !== row.hint)
    .map((m) => {
      const to = m.hints[0] ? `hint ${m.hints[0].number} (${m.hints[0].title})` : 'no hint';
      const count = m.tests.length === 1 ? '1 test' : `${m.tests.length} tests`;
      return `is pointed at ${to} for "${m.what.slice(0, 120)}" (${count}, e.g. ${m.tests[0]!.name})`;
    });
  if (wrong.length === 0) return undefined;
  return `the mutation '${row.mistake}' ${wrong.join('; and ')}. Fix the "Tests:" keywords in steps/${step.slug}/EXERCISE.md, or the scoring in tools/check.ts`;
}

describe('each hint is what check points to for its mistake', () => {
  const cacheFile = path.join(cacheDir, 'hint-mutations.json');
  let scratch: string | undefined;
  const rows = HINT_MUTATIONS.filter((row) => hintOf(row) && !browserSkip(row));
  const problems = new Map<HintMutation, string>();
  const verdicts = new Map<HintMutation, string | undefined>();
  const keys = new Map<HintMutation, string>();
  const fresh = new Map<HintMutation, TestResult[] | string>();
  let kept: Record<string, TestResult[]> = {};

  /** Copy each row's step, make its mistake, and run the checkpoints of the round. */
  async function runRound(round: HintMutation[], name: string, proof: boolean): Promise<void> {
    const dirs: Record<string, string> = {};
    for (const row of round) {
      const step = findStep(row.step);
      const dir = path.join(scratch!, name, step.slug);
      copyStep(step, dir);
      const file = path.join(dir, row.file);
      writeFileSync(
        file,
        readFileSync(file, 'utf8').replace(row.find, () => row.replace),
      );
      dirs[row.step] = dir;
    }
    const run = await checkpoints(
      round.map((row) => findStep(row.step)),
      dirs,
      { proof },
    );
    for (const row of round) {
      const result = run.find((r) => r.step.number === row.step)!;
      fresh.set(row, result.error ?? result.results);
    }
  }

  before(async () => {
    try {
      kept = JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, TestResult[]>;
    } catch {
      // no results kept yet: every row runs
    }
    const runner = importClosure([
      'tools/import-all.ts',
      'tools/run-tests.ts',
      'tools/reporter.mjs',
      'tools/workspace.ts',
      'steps/steps.json',
      'package-lock.json',
    ]);
    const setup = cacheKey(process.version, hashOf(runner));
    const stepHashes = new Map<number, string>();
    const stepHash = (n: number) => {
      if (!stepHashes.has(n)) stepHashes.set(n, hashOf(stepFiles(findStep(n))));
      return stepHashes.get(n)!;
    };
    const missing: HintMutation[] = [];
    for (const row of rows) {
      const stale = staleness(row);
      if (stale) {
        problems.set(row, stale);
        continue;
      }
      keys.set(row, cacheKey(setup, stepHash(row.step), JSON.stringify(row)));
      if (!kept[keys.get(row)!]) missing.push(row);
    }
    if (missing.length > 0) {
      // Inside the repository, like workspace/: the code finds the installed packages.
      mkdirSync(path.join(root, '.scratch'), { recursive: true });
      scratch = mkdtempSync(path.join(root, '.scratch', 'hints-'));
      const jobs = [
        ...rounds(missing.filter((row) => !row.browser)).map(
          (round, k) => () => runRound(round, `round-${k + 1}`, true),
        ),
        ...missing
          .filter((row) => row.browser)
          .map((row, k) => () => runRound([row], `browser-${k + 1}`, false)),
      ];
      // Two rounds side by side: one per core of the machine this is made for.
      const worker = async (): Promise<void> => {
        for (let job = jobs.shift(); job; job = jobs.shift()) await job();
      };
      await Promise.all([worker(), worker()]);
    }
    for (const row of keys.keys())
      verdicts.set(row, verdict(row, fresh.get(row) ?? kept[keys.get(row)!]!));
  });

  after(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    // Keep the results of the rows whose pointers are right, as they are now:
    // one that fails, or ran into an error, runs again next time.
    const keep: Record<string, TestResult[]> = {};
    for (const [row, key] of keys) {
      const results = fresh.get(row) ?? kept[key];
      if (Array.isArray(results) && verdicts.get(row) === undefined) keep[key] = results;
    }
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(cacheFile, JSON.stringify(keep));
  });

  test(`every hint of every step has one row in ${TABLE}, and every row a hint`, () => {
    const counts: string[] = [];
    for (const step of steps)
      for (const hint of hintsOf(step)) {
        const mine = HINT_MUTATIONS.filter((r) => r.step === step.number && r.hint === hint.number);
        if (mine.length !== 1)
          counts.push(
            `step ${pad(step.number)} hint ${hint.number} (${hint.title}): ${mine.length} rows`,
          );
      }
    assert.deepEqual(counts, [], `Each hint needs exactly one mistake in ${TABLE}`);
    const stray = HINT_MUTATIONS.filter((row) => !hintOf(row)).map(
      (row) => `step ${pad(row.step)} hint ${row.hint} ('${row.mistake}')`,
    );
    assert.deepEqual(stray, [], `Rows in ${TABLE} for hints that the steps do not have`);
  });

  for (const row of HINT_MUTATIONS.filter((r) => hintOf(r))) {
    test(`${label(row)}: ${row.mistake}`, { skip: browserSkip(row) }, () => {
      const problem = problems.get(row);
      assert.equal(
        problem,
        undefined,
        `${label(row)}: the row '${row.mistake}' in ${TABLE} is stale: ${problem}`,
      );
      assert.ok(verdicts.has(row), `${label(row)}: the checkpoint did not run on '${row.mistake}'`);
      const wrong = verdicts.get(row);
      assert.equal(wrong, undefined, `${label(row)}: ${wrong}`);
    });
  }
});
