// Proof that every checkpoint means something: step N's tests fail on the
// code of the step it builds on, so no step is done before the learner has
// done its work. (That they pass on step N itself is the rest of npm test.)
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { checkpoints, type StepResult } from '../tools/check.ts';
import { baseOf, stepDir, steps } from '../tools/steps.ts';

describe("each step's checkpoint fails on the step it builds on", { concurrency: 1 }, () => {
  const built = steps.filter((step) => baseOf(step) !== undefined);
  // One run, the way npm run check runs them, each step against its base.
  let results: StepResult[];
  before(async () => {
    const dirs = Object.fromEntries(built.map((step) => [step.number, stepDir(baseOf(step)!)]));
    results = await checkpoints(built, dirs);
  });

  for (const [i, step] of built.entries()) {
    const base = baseOf(step)!;
    test(`checkpoint ${step.slug} fails on ${base.slug}`, () => {
      const { passed, failed, results: ran, error } = results[i]!;
      assert.ok(ran.length > 0, `Step ${step.number}'s checkpoint did not run on ${base.slug}: ${error ?? 'no results'}`);
      assert.ok(failed > 0, `test/${step.slug}.test.ts passes on ${base.slug}'s code (${passed} tests): add a test for what step ${step.number} adds`);
    });
  }
});
