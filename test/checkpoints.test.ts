// Proof that every checkpoint means something: step N's tests fail on the
// exercise for step N as a learner gets it (the step it builds on, with the
// TODO markers), so no step is done before the learner has done its work.
// That they pass on step N itself is the rest of npm test.
//
// A step in parts (06, 09) is proven part by part: the step with one part's
// lesson cut out (only that part's markers) fails that part's tests, and no
// other part's unless check says that part needs this one first.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildsOn, checkReport, inPart, type StepResult } from '../tools/check.ts';
import { testName, type TestResult } from '../tools/run-tests.ts';
import { handOut, handOutPart, lessonParts, loadExercise } from '../tools/exercise.ts';
import { baseOf, root, steps, type Step } from '../tools/steps.ts';
import { type Copy, runCopies } from './helpers/copies.ts';

const built = steps.filter((step) => baseOf(step) !== undefined);
const inParts = built.filter((step) => (step.parts ?? []).length > 0);
const failing = (result: StepResult, part: string) =>
  result.results.filter((r) => !r.ok && inPart(result.step, part, r));
const names = (tests: { name: string }[]) =>
  tests
    .slice(0, 3)
    .map((t) => `"${t.name}"`)
    .join(', ') + (tests.length > 3 ? ` and ${tests.length - 3} more` : '');

describe('each exercise, and each part of one, fails its checkpoint', () => {
  const problems = new Map<number, string>();
  const results: StepResult[] = [];
  /** Step, then part: the checkpoint on the step without that part's lesson. */
  const withoutPart = new Map<number, Map<string, StepResult>>();
  const partProblems = new Map<string, string>();
  let copies: Awaited<ReturnType<typeof runCopies>> | undefined;
  const exercises: Copy[] = built.map((step) => ({
    step,
    name: 'exercise',
    make: (dir) => handOut(step, dir),
  }));
  const cuts = new Map<Copy, string>();
  for (const step of inParts)
    for (const part of lessonParts(step))
      cuts.set(
        { step, name: `without-${part.id}`, make: (dir) => handOutPart(step, part.id, dir) },
        part.id,
      );

  before(async () => {
    // Each exercise the way npm run check runs them, then each step without
    // one part's lesson; only to show failures: proof mode.
    copies = await runCopies([...exercises, ...cuts.keys()], 'checkpoint-proof');
    for (const copy of exercises) {
      const result = copies.outcomes.get(copy)!;
      if (result.results.length === 0 && result.error && !/no test ran/.test(result.error))
        problems.set(copy.step.number, result.error);
      results.push(result);
    }
    for (const [copy, part] of cuts) {
      const result = copies.outcomes.get(copy)!;
      if (result.results.length === 0 && result.error)
        partProblems.set(`${copy.step.number}/${part}`, result.error);
      const mine = withoutPart.get(copy.step.number) ?? new Map<string, StepResult>();
      mine.set(part, result);
      withoutPart.set(copy.step.number, mine);
    }
  });
  // The results are kept for the next run when every proof passed on them;
  // otherwise they are found again (a failure under load must not stick).
  let allPassed = true;
  const proof = (name: string, fn: () => void) =>
    test(name, () => {
      try {
        fn();
      } catch (err) {
        allPassed = false;
        throw err;
      }
    });
  after(() => {
    if (allPassed) for (const copy of [...exercises, ...cuts.keys()]) copies?.keep(copy);
    copies?.save();
  });

  describe('each exercise, as handed out, fails its checkpoint', () => {
    for (const step of built) {
      const base = baseOf(step)!;
      proof(
        `step ${step.slug}: its exercise (${base.slug} with TODO markers) fails the checkpoint`,
        () => {
          assert.ok(
            loadExercise(step),
            `steps/${step.slug}/EXERCISE.md is missing: every step from 01 on has a task, markers and hints`,
          );
          assert.equal(
            problems.get(step.number),
            undefined,
            `The exercise for step ${step.number} cannot be handed out`,
          );
          const result = results.find((r) => r.step === step)!;
          assert.ok(
            result.results.length > 0,
            `Step ${step.number}'s checkpoint did not run on its exercise: ${result.error ?? 'no results'}`,
          );
          assert.ok(
            result.failed > 0,
            `test/${step.slug}.test.ts passes on the exercise as handed out (${result.passed} tests): add a test for what step ${step.number} adds`,
          );
        },
      );
    }
  });

  describe("each part's tests fail for that part's lesson, and only those", () => {
    for (const step of inParts) {
      const label = (part: string) => `part ${part} of step ${step.slug.slice(0, 2)}`;

      proof(`step ${step.slug}: a part with no lesson of its own comes last`, () => {
        const parts = step.parts!;
        const own = lessonParts(step);
        for (const [i, part] of parts.entries())
          assert.ok(
            own.includes(part) || i === parts.length - 1,
            `${label(part.id)} has no marker of its own in EXERCISE.md: such a part checks the parts before it together, so check sends a learner through all of them first; it must come last`,
          );
      });

      for (const part of lessonParts(step)) {
        proof(
          `step ${step.slug}, ${label(part.id)}: its tests fail without its lesson, and no other part's do`,
          () => {
            assert.equal(
              partProblems.get(`${step.number}/${part.id}`),
              undefined,
              `${label(part.id)}: the step with only its markers cannot be handed out`,
            );
            const cut = withoutPart.get(step.number)!.get(part.id)!;
            assert.ok(
              cut.results.length > 0,
              `${label(part.id)}: the checkpoint did not run with the ${part.id} lesson cut out: ${cut.error ?? 'no results'}`,
            );
            const mine = cut.results.filter((r) => inPart(step, part.id, r));
            assert.ok(
              failing(cut, part.id).length > 0,
              `${label(part.id)}: its tests pass with the ${part.id} lesson cut out (${mine.length} tests in ${part.suites.join('; ')}): add a test that sees it missing, one the checkpoint proof runs (not skipped as slow)`,
            );
            // (b) Another part's test that fails here fails for this lesson: only
            // a part that check says needs this one first may show it.
            for (const other of step.parts!.filter((p) => p !== part)) {
              const broken = failing(cut, other.id);
              if (broken.length === 0 || buildsOn(cut, other.id).includes(part.id)) continue;
              assert.fail(
                `${label(part.id)}: with its lesson cut out, tests of part ${other.id} fail too (${names(broken)}), and check -- ${step.number} --part ${other.id} does not say to finish ${part.id} first: make them independent of ${part.id}, or fail the way its tests do`,
              );
            }
            // (c) A test that sees the lesson missing sees it whatever else is
            // missing too: on the exercise as handed out, every part is cut out.
            const exercise = results.find((r) => r.step === step)!;
            const stillFailing = new Set(failing(exercise, part.id).map(testName));
            const passing = failing(cut, part.id).filter((r) => !stillFailing.has(testName(r)));
            assert.deepEqual(
              passing.map((r) => r.name),
              [],
              `${label(part.id)}: ${names(passing)} fail with only the ${part.id} lesson cut out, yet pass on the exercise as handed out, where the other parts are missing too: they pass there for another reason (a refusal for the way the request came, not for what it holds)`,
            );
          },
        );
      }

      proof(
        `step ${step.slug}: check --part names, as parts to finish first, only the ones each part's tests need`,
        () => {
          const exercise = results.find((r) => r.step === step)!;
          const parts = step.parts!;
          for (const [i, part] of parts.entries()) {
            // What the part's tests need: the earlier parts whose lesson, cut
            // alone, breaks them; all earlier ones for a part with no lesson.
            const earlier = parts.slice(0, i);
            const needed = lessonParts(step).includes(part)
              ? earlier.filter((p) => {
                  const cut = withoutPart.get(step.number)?.get(p.id);
                  return cut !== undefined && failing(cut, part.id).length > 0;
                })
              : earlier;
            const expected = needed.map((p) => p.id);
            assert.deepEqual(
              buildsOn(exercise, part.id),
              expected,
              `check -- ${step.number} --part ${part.id}, on the exercise as handed out, must name as parts to finish first only those its tests need (${expected.join(', ') || 'none'}): a plan that skips a part must not be sent to it`,
            );
            const { text } = checkReport([exercise], {
              steps: [step.number],
              dir: path.join(root, 'workspace'),
              part: part.id,
              coach: true,
              quiet: false,
            });
            const lines = text.split('\n').filter((l) => /builds on/.test(l));
            const named = parts.filter((p) => p !== part && lines.join('\n').includes(`"${p.id}"`));
            assert.deepEqual(
              { lines: lines.length, named: named.map((p) => p.id) },
              { lines: expected.length > 0 ? 1 : 0, named: expected },
              `check -- ${step.number} --part ${part.id} says in one line which parts to finish first, and names those only: ${lines.join(' / ') || 'no such line'}`,
            );
          }
        },
      );
    }
  });
});
