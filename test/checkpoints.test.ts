// Proof that every checkpoint means something: step N's tests fail on the
// exercise for step N as a learner gets it (the step it builds on, with the
// TODO markers), so no step is done before the learner has done its work.
// That they pass on step N itself is the rest of npm test.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkpoints, type StepResult } from '../tools/check.ts';
import { loadExercise } from '../tools/exercise.ts';
import { baseOf, root, steps } from '../tools/steps.ts';
import { handOut } from '../tools/exercise.ts';

describe('each exercise, as handed out, fails its checkpoint', { concurrency: 1 }, () => {
  const built = steps.filter((step) => baseOf(step) !== undefined);
  // Inside the repository, like workspace/: the code finds the installed packages.
  mkdirSync(path.join(root, '.scratch'), { recursive: true });
  const scratch = mkdtempSync(path.join(root, '.scratch', 'exercises-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  const handedOut = new Map<number, string>();
  const problems = new Map<number, string>();
  let results: StepResult[] = [];
  before(async () => {
    for (const step of built) {
      try {
        const dir = path.join(scratch, step.slug);
        handOut(step, dir);
        handedOut.set(step.number, dir);
      } catch (err) {
        problems.set(step.number, (err as Error).message);
      }
    }
    // One run, the way npm run check runs them, each step against its exercise.
    const ready = built.filter((step) => handedOut.has(step.number));
    results = await checkpoints(ready, Object.fromEntries(handedOut), { proof: true });
  });

  for (const step of built) {
    const base = baseOf(step)!;
    test(`step ${step.slug}: its exercise (${base.slug} with TODO markers) fails the checkpoint`, () => {
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
    });
  }
});
