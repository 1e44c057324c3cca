// Results of deterministic checks, kept by the hash of everything they read,
// so that a second run skips what the first one already proved. The cache
// lives in node_modules/.cache (never committed, gone on a fresh clone: CI
// always checks in full); a key that misses is checked for real.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cacheDir } from '../../tools/steps.ts';

export { cacheDir };

/** A key from every input of a check: change any of them and it is checked again. */
export function cacheKey(...inputs: (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const input of inputs) hash.update(createHash('sha256').update(input).digest());
  return hash.digest('hex');
}

/** The keys of the checks that passed, in one file per kind of check. */
export function passedChecks(name: string) {
  const file = path.join(cacheDir, `${name}.json`);
  let keys = new Set<string>();
  try {
    keys = new Set(JSON.parse(readFileSync(file, 'utf8')) as string[]);
  } catch {
    // no cache yet, or a broken one: everything is checked
  }
  const passed = new Set<string>();
  return {
    has: (key: string) => keys.has(key),
    /** Note a check that passed in this run. */
    add: (key: string) => void passed.add(key),
    /** Keep this run's passes only: a key of a file since changed is dropped. */
    save() {
      mkdirSync(cacheDir, { recursive: true });
      writeFileSync(file, JSON.stringify([...passed]));
    },
  };
}
