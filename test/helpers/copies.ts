// Checkpoints run on changed copies of steps: an exercise as handed out, a
// step with one part's lesson cut out, a step with one mistake made. The
// checkpoint proof and the hint table both run them through here.
//
// A run takes one folder per step (STEP_DIRS), so copies go in rounds: the
// k-th copy of each step in round k, one process per round, as many at a
// time as there are cores but one (the test files beside them need it).
// The results of a copy are kept (tools/cache.ts) by the hash of
// what they depend on: every file of the copy as made, the step's
// test file and every file it imports, the runner, the lockfile and Node. A
// second run of unchanged copies runs no checkpoint; its assertions still run.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { byStep, checkpoints, type StepResult } from '../../tools/check.ts';
import type { TestResult } from '../../tools/run-tests.ts';
import { root, testFile, type Step } from '../../tools/steps.ts';
import { listFiles, MANIFEST } from '../../tools/workspace.ts';
import { cacheKey, keptResults } from '../../tools/cache.ts';

export interface Copy {
  step: Step;
  /** A folder name for it, unique among the copies of its step. */
  name: string;
  /** Write the copy into `dir`; an error is the copy's result. */
  make(dir: string): void;
  /** Proof mode (no browser, no Redis) unless false. */
  proof?: boolean;
}

/** Local files a module imports, and theirs (absolute paths, sorted). */
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

/** Files as one hash: their paths from `base` and their contents. */
const hashOf = (base: string, files: string[]) =>
  cacheKey(...files.flatMap((file) => [path.relative(base, file), readFileSync(file)]));

/** Each job in turn, `width` at a time. */
async function inTurn(jobs: (() => Promise<void>)[], width: number): Promise<void> {
  const lane = async () => {
    for (let job = jobs.shift(); job; job = jobs.shift()) await job();
  };
  await Promise.all(Array.from({ length: Math.max(1, width) }, lane));
}

/**
 * Run the checkpoints on the copies, or take their kept results. `cache`
 * names the file they are kept in; call keep() for each copy whose results
 * passed their assertions, then save(): a copy that failed runs again.
 */
export async function runCopies(copies: Copy[], cache: string) {
  const kept = keptResults<TestResult[]>(cache);
  // Inside the repository, like workspace/: the code finds the installed packages.
  mkdirSync(path.join(root, '.scratch'), { recursive: true });
  const scratch = mkdtempSync(path.join(root, '.scratch', `${cache}-`));
  const runner = importClosure([
    'tools/import-all.ts',
    'tools/run-tests.ts',
    'tools/reporter.mjs',
    'steps/steps.json',
    'package-lock.json',
  ]);
  const setup = cacheKey(process.version, hashOf(root, runner));
  const tests = new Map<Step, string>();
  const outcomes = new Map<Copy, StepResult>();
  const failed = (step: Step, error: string): StepResult => ({
    step,
    results: [],
    passed: 0,
    failed: 1,
    error,
  });
  const keys = new Map<Copy, string>();
  const dirs = new Map<Copy, string>();
  const toRun: Copy[] = [];
  try {
    for (const copy of copies) {
      const dir = path.join(scratch, copy.step.slug, copy.name);
      try {
        copy.make(dir);
      } catch (err) {
        outcomes.set(copy, failed(copy.step, (err as Error).message));
        continue;
      }
      if (!tests.has(copy.step))
        tests.set(copy.step, hashOf(root, importClosure([testFile(copy.step)])));
      // The code and data of the copy; not its README and manifest, which no
      // checkpoint reads and which name the folder they were written in.
      const made = listFiles(dir)
        .filter((name) => name !== 'README.md' && name !== MANIFEST)
        .map((name) => path.join(dir, name));
      const key = cacheKey(
        setup,
        tests.get(copy.step)!,
        copy.proof === false ? 'full' : 'proof',
        hashOf(dir, made),
      );
      keys.set(copy, key);
      dirs.set(copy, dir);
      const results = kept.get(key);
      if (results) outcomes.set(copy, byStep([copy.step], results)[0]!);
      else toRun.push(copy);
    }
    // Round k: the k-th copy of each step, with the same proof mode. Full
    // runs first: a browser test that waits for what a mistake never shows
    // takes seconds of waiting, best spent while other runs use the cores.
    const rounds: Copy[][] = [];
    for (const proof of [false, true]) {
      const seen = new Map<Step, number>();
      const start = rounds.length;
      for (const copy of toRun.filter((c) => (c.proof ?? true) === proof)) {
        const k = start + (seen.get(copy.step) ?? 0);
        seen.set(copy.step, k - start + 1);
        (rounds[k] ??= []).push(copy);
      }
    }
    await inTurn(
      rounds.map((round) => async () => {
        const run = await checkpoints(
          round.map((c) => c.step),
          Object.fromEntries(round.map((c) => [c.step.number, dirs.get(c)!])),
          { proof: round[0]!.proof ?? true },
        );
        for (const copy of round) {
          outcomes.set(
            copy,
            run.find((r) => r.step === copy.step)!,
          );
        }
      }),
      // One core is left to the test files running beside these runs: more
      // would only make everything wait (and timers, such as the stores'
      // one second, run out).
      Math.max(1, availableParallelism() - 1),
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return {
    outcomes,
    /** Keep this copy's results: they passed what was asked of them. */
    keep(copy: Copy) {
      const outcome = outcomes.get(copy);
      const key = keys.get(copy);
      if (key && outcome && outcome.error === undefined) kept.set(key, outcome.results);
    },
    /** Write the kept results; copies not kept run again next time. */
    save: () => kept.save(),
  };
}
