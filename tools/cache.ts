// Results of deterministic checks, kept by the hash of everything they read,
// so that a second run skips what the first one already proved. The cache
// lives in node_modules/.cache (never committed, gone on a fresh clone, and
// neither read nor written under CI); a key that misses is checked for real.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cacheDir } from './steps.ts';

/** A key from every input of a check: change any of them and it is checked again. */
export function cacheKey(...inputs: (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const input of inputs) hash.update(createHash('sha256').update(input).digest());
  return hash.digest('hex');
}

/** Under CI=true nothing is kept: CI checks everything, every time. */
export const keeping = !process.env.CI;

/** Results found in the last run, and this run's to keep for the next. */
export interface Kept<T> {
  /** The result the last run kept for this key, if any. */
  get(key: string): T | undefined;
  /** Keep a result of this run. */
  set(key: string, value: T): void;
  /** Write this run's results only: a key of an input since changed is dropped. */
  save(): void;
}

/**
 * Results kept by key in node_modules/.cache/jwt-koa-workshop/<name>.json.
 * One keeper per name and run: save() replaces the file with its own results.
 */
export function keptResults<T>(name: string): Kept<T> {
  const file = path.join(cacheDir, `${name}.json`);
  let last: Record<string, T> = {};
  try {
    if (keeping) last = JSON.parse(readFileSync(file, 'utf8')) as Record<string, T>;
  } catch {
    // nothing kept yet, or a broken file: everything is checked
  }
  const now: Record<string, T> = {};
  return {
    get: (key) => (Object.hasOwn(last, key) ? last[key] : undefined),
    set: (key, value) => void (now[key] = value),
    save() {
      if (!keeping) return;
      mkdirSync(cacheDir, { recursive: true });
      // Written whole, then renamed into place: a reader never sees half a file.
      writeFileSync(`${file}.${process.pid}`, JSON.stringify(now));
      renameSync(`${file}.${process.pid}`, file);
    },
  };
}
