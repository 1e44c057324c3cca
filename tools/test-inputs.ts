// What each test file can read, as one key. npm test does not run a file
// again while its key is that of a run where it passed (tools/test.ts).
//
// A file's inputs: the repository's files (what git would commit; every file
// when there is no git), the packages installed, Node, the browser and the
// redis-server the tests would use, and each environment variable the code
// names. A step's checkpoint file reads its own step's folder and no deck
// (traced with strace on every step's file), so its key leaves out the other
// steps' folders and slides/: an edit to step 09 or to a deck does not
// rerun the checkpoints of the other steps. Every other test file reads
// across steps, and its key covers them all.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { cacheKey } from './cache.ts';
import { findChromium } from './chromium.ts';
import { findRedisServer } from './redis.ts';
import { root, steps } from './steps.ts';

/** The repository's files, relative, with forward slashes. */
function repositoryFiles(dir: string): string[] {
  try {
    const listed = execFileSync(
      'git',
      ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
      { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const files = [...new Set(listed.split('\0').filter(Boolean))].sort();
    // Without package.json this is another repository's git, one that holds
    // a copy of the workshop and may ignore it: walk instead.
    if (files.includes('package.json')) return files;
  } catch {
    // No git (a downloaded archive): walk.
  }
  // Every file but the installed packages.
  const out: string[] = [];
  const walk = (sub: string) => {
    for (const entry of readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const file = sub ? `${sub}/${entry.name}` : entry.name;
      if (!entry.isDirectory()) out.push(file);
      else if (entry.name !== 'node_modules' && entry.name !== '.git') walk(file);
    }
  };
  walk('');
  return out.sort();
}

/** A program the tests start, as where it is, its size and when it last changed. */
function program(file: string | undefined): string {
  if (!file) return 'none';
  const { size, mtimeMs } = statSync(file);
  return `${file} ${size} ${mtimeMs}`;
}

/** npm's record of what is installed in a node_modules folder. */
function installed(folder: string): string {
  const lock = path.join(folder, '.package-lock.json');
  return existsSync(lock) ? readFileSync(lock, 'utf8') : 'none';
}

/**
 * Each test file's key. `files` and the keys' names are relative to `dir`
 * ("test/tools.test.ts"); `env` is the environment the tests will run in.
 */
export function testFileKeys(
  files: string[],
  { dir = root, env = process.env }: { dir?: string; env?: NodeJS.ProcessEnv } = {},
): Map<string, string> {
  const listed = repositoryFiles(dir);
  const digests = new Map<string, string>();
  const names = new Set<string>(['NODE_OPTIONS', 'NODE_ENV', 'TZ', 'LANG', 'LC_ALL']);
  for (const file of listed) {
    let content: Buffer;
    try {
      content = readFileSync(path.join(dir, file));
    } catch {
      digests.set(file, 'missing'); // deleted, not yet committed
      continue;
    }
    digests.set(file, createHash('sha256').update(content).digest('hex'));
    if (/\.(?:ts|mts|mjs|cjs|js|json)$/.test(file))
      for (const [name] of content.toString('utf8').matchAll(/\b[A-Z][A-Z0-9_]+\b/g))
        names.add(name);
  }
  const variables = Object.keys(env)
    .filter((name) => names.has(name))
    .sort()
    .map((name) => `${name}=${env[name]}`);
  const setting = cacheKey(
    process.version,
    process.platform,
    process.arch,
    program(findChromium()),
    program(findRedisServer(env)),
    installed(path.join(dir, 'node_modules')),
    installed(path.join(dir, 'slides', 'node_modules')),
    ...variables,
  );
  const stepFolders = steps.map((step) => `steps/${step.slug}/`);
  const keys = new Map<string, string>();
  for (const file of files) {
    const step = steps.find((s) => file === `test/${s.slug}.test.ts`);
    const own = step && `steps/${step.slug}/`;
    const inputs = step
      ? listed.filter(
          (f) =>
            !f.startsWith('slides/') &&
            (f.startsWith(own!) || !stepFolders.some((folder) => f.startsWith(folder))),
        )
      : listed;
    keys.set(file, cacheKey(setting, file, ...inputs.map((f) => `${f} ${digests.get(f)}`)));
  }
  return keys;
}
