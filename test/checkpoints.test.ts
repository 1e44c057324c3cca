// Proof that every checkpoint means something: step N's tests fail on the
// code of step N-1, so no step is done before the learner has done its work.
// (That they pass on step N itself is the rest of npm test.)
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { runTests, type RunOutcome } from '../tools/run-tests.ts';
import { checkpointName, stepDir, steps, testFile } from '../tools/steps.ts';

describe("each step's checkpoint fails on the step before it", { concurrency: 1 }, () => {
  // One process runs every checkpoint, each against the step before its own.
  let run: RunOutcome;
  before(async () => {
    const previous = Object.fromEntries(steps.slice(1).map((step, i) => [step.number, stepDir(steps[i]!)]));
    run = await runTests({ files: steps.slice(1).map(testFile), env: { STEP_DIRS: JSON.stringify(previous) } });
  });

  for (const [i, step] of steps.entries()) {
    const previous = steps[i - 1];
    if (!previous) continue;
    test(`checkpoint ${step.slug} fails on ${previous.slug}`, () => {
      const mine = run.results.filter((r) => r.suites[0] === checkpointName(step));
      const failed = mine.filter((r) => !r.ok).length;
      assert.ok(mine.length > 0, `No result of ${checkpointName(step)} came back: ${run.output.slice(-500)}`);
      assert.ok(failed > 0, `test/${step.slug}.test.ts passes on ${previous.slug}'s code (${mine.length} tests): add a test for what step ${step.number} adds`);
    });
  }
});
