// Proof that check's hint pointers point right: for each hint, a mistake made
// in a copy of the reference step (test/fixtures/hint-mutations.ts), the
// step's checkpoint run on it as npm run check runs it, and every mistake
// check reports on it pointed at that hint and at no other.
//
// The copies run, and their results are kept by content, through
// test/helpers/copies.ts: a second run of unchanged rows runs no checkpoint.
// The pointers are worked out again on every run, from the hints and the
// scoring as they are now, so a change of keywords or scoring costs no run.
// A hint of a part is judged as check --part judges it: on that part's tests.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { inPart, stepMistakes } from '../tools/check.ts';
import { findChromium } from '../tools/chromium.ts';
import { loadExercise, type Hint } from '../tools/exercise.ts';
import type { TestResult } from '../tools/run-tests.ts';
import { findStep, stepDir, steps, type Step } from '../tools/steps.ts';
import { asInWorkspace, copyStep } from '../tools/workspace.ts';
import { browserSkip } from './helpers/browser.ts';
import { type Copy, runCopies } from './helpers/copies.ts';
import { HINT_MUTATIONS, type HintMutation } from './fixtures/hint-mutations.ts';

const TABLE = 'test/fixtures/hint-mutations.ts';
const pad = (n: number) => String(n).padStart(2, '0');
const hintsOf = (step: Step): Hint[] => loadExercise(step)?.hints ?? [];
const hintOf = (row: HintMutation): Hint | undefined =>
  hintsOf(findStep(row.step)).find((h) => h.number === row.hint);
const label = (row: HintMutation) =>
  `step ${pad(row.step)} hint ${row.hint} (${hintOf(row)?.title ?? 'no such hint'})`;
/** A row that needs a real browser runs when there is one, as the browser tests do. */
const chromium = findChromium();
const skipOf = (row: HintMutation) => (row.browser ? browserSkip(chromium) : false);

/** A file of a step as a workspace holds it (copyStep): region markers left out of code. */
function referenceText(row: HintMutation): string | undefined {
  const file = path.join(stepDir(findStep(row.step)), row.file);
  if (!existsSync(file)) return undefined;
  return asInWorkspace(file, readFileSync(file, 'utf8'));
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
  const wrong = stepMistakes(step, failures, mine.length)
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
  const rows = HINT_MUTATIONS.filter((row) => hintOf(row) && !skipOf(row));
  const problems = new Map<HintMutation, string>();
  const verdicts = new Map<HintMutation, string | undefined>();
  /** Each row's copy: its step with the row's mistake made in it. */
  const copies = new Map<HintMutation, Copy>();
  let run: Awaited<ReturnType<typeof runCopies>> | undefined;

  before(async () => {
    for (const row of rows) {
      const stale = staleness(row);
      if (stale) {
        problems.set(row, stale);
        continue;
      }
      const step = findStep(row.step);
      copies.set(row, {
        step,
        name: `hint-${row.hint}`,
        // A browser row needs the browser test, which proof mode skips.
        proof: !row.browser,
        make(dir) {
          copyStep(step, dir);
          const file = path.join(dir, row.file);
          writeFileSync(
            file,
            readFileSync(file, 'utf8').replace(row.find, () => row.replace),
          );
        },
      });
    }
    run = await runCopies([...copies.values()], 'hint-mutations');
    for (const [row, copy] of copies) {
      const result = run.outcomes.get(copy)!;
      verdicts.set(row, verdict(row, result.error ?? result.results));
    }
  });

  after(() => {
    // Keep the results of the rows whose pointers are right, as they are now:
    // one that fails, or ran into an error, runs again next time.
    for (const [row, copy] of copies) if (verdicts.get(row) === undefined) run?.keep(copy);
    run?.save();
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
    test(`${label(row)}: ${row.mistake}`, { skip: skipOf(row) }, () => {
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
