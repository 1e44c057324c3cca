// The key file of step 07's signing keys: written whole to a temporary file
// and renamed over the old one, with a lock, so that npm run rotate-key can
// change it while the login service runs and watches it.
import { createPrivateKey, randomBytes, type JsonWebKey } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { ConfigError } from './errors.ts';
import {
  type StoredKey,
  KeyRing,
  type KeyTimes,
  newKey,
  rotate,
} from './keys.ts';

// The key file. Written whole to a temporary file in the same folder, then
// renamed over the old one: a reader sees the old file or the new, never
// half of one. Mode 0600 on every write: it holds private keys.

/** The keys of a key file, checked; a ConfigError naming the file says what is wrong. */
export function readKeyFile(file: string): StoredKey[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw fileError(file, err);
  }
  const problem = (what: string) =>
    new ConfigError(
      `KEYS_FILE ${file} ${what}: fix it, or delete it to start again with a new key.`,
    );
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw problem('is not JSON');
  }
  const keys = (data as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0)
    throw problem('holds no keys (it should be {"keys": [...]})');
  const kids = new Set<string>();
  for (const [i, key] of (keys as Partial<StoredKey>[]).entries()) {
    const jwk = key?.privateJwk;
    const fine =
      typeof key?.kid === 'string' &&
      key.kid !== '' &&
      !kids.has(key.kid) &&
      Number.isSafeInteger(key.createdAt) &&
      (key.revokedAt === undefined || Number.isSafeInteger(key.revokedAt)) &&
      (key.signsAtOnce === undefined || typeof key.signsAtOnce === 'boolean') &&
      jwk?.kty === 'EC' &&
      jwk.crv === 'P-256' &&
      isPrivateKey(jwk);
    if (!fine)
      throw problem(
        `has a key (number ${i + 1}) that is not an EC P-256 private key with a kid and createdAt`,
      );
    kids.add(key.kid!);
  }
  if ((keys as StoredKey[]).every((k) => k.revokedAt !== undefined))
    throw problem('has only withdrawn keys');
  return keys as StoredKey[];
}

function isPrivateKey(jwk: JsonWebKey): boolean {
  try {
    return (
      createPrivateKey({ key: jwk, format: 'jwk' }).asymmetricKeyType === 'ec'
    );
  } catch {
    return false;
  }
}

/** The file system's error, as one line naming the file and what to do. */
function fileError(file: string, err: unknown): ConfigError {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'EACCES' || code === 'EPERM'
      ? 'cannot be read or written by this user'
      : code === 'ENOTDIR' || code === 'EEXIST'
        ? `cannot be made: a part of its path is a file, not a folder`
        : code === 'EISDIR'
          ? 'is a folder, not a file'
          : code === 'ENOENT'
            ? 'does not exist'
            : `cannot be used (${code ?? (err as Error).message})`;
  return new ConfigError(
    `KEYS_FILE ${file} ${why}: set KEYS_FILE to a file in a folder you own.`,
  );
}

function writeKeyFile(file: string, keys: StoredKey[]): void {
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    // 'wx': a new file, created with mode 0600, so no one else ever reads it.
    const fd = openSync(temporary, 'wx', 0o600);
    try {
      writeSync(fd, `${JSON.stringify({ keys }, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
  } catch (err) {
    try {
      unlinkSync(temporary);
    } catch {
      // Never made, or already renamed.
    }
    throw fileError(file, err);
  }
}

/**
 * Read, change and write the key file, one process at a time: rotations
 * wait for each other on a lock file that only one can create ('wx'). A lock
 * left by a process that died (kill -9) holds its pid, and is taken over.
 */
export function updateKeyFile(
  file: string,
  change: (keys: StoredKey[] | undefined) => StoredKey[],
): StoredKey[] {
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw fileError(file, err);
  }
  const lock = `${file}.lock`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
        throw fileError(file, err);
      if (lockIsStale(lock)) continue;
      if (Date.now() > deadline)
        throw new ConfigError(
          `KEYS_FILE ${file} is locked by another rotation (${lock}): wait for it, or delete the lock if no rotation runs.`,
        );
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20); // a short sleep, in a command
    }
  }
  try {
    const keys = change(exists(file) ? readKeyFile(file) : undefined);
    writeKeyFile(file, keys);
    return keys;
  } finally {
    rmSync(lock, { force: true });
  }
}

/** A lock whose process is gone: removed, so the caller may try again. */
function lockIsStale(lock: string): boolean {
  try {
    const pid = Number(readFileSync(lock, 'utf8'));
    // An empty lock: its writer died between creating and writing it.
    const dead =
      pid > 0 ? !isRunning(pid) : Date.now() - statSync(lock).mtimeMs > 5000;
    if (dead) unlinkSync(lock);
    return dead;
  } catch {
    return true; // gone already: try again
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw fileError(file, err);
  }
}

/** What changes when the file is replaced: a rename gives it a new inode. */
function stamp(file: string): string {
  try {
    const { ino, mtimeMs, size } = statSync(file);
    return `${ino}:${mtimeMs}:${size}`;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'unreadable';
  }
}

/**
 * The login service's key ring, read again whenever npm run rotate-key
 * replaces the file. At start-up a missing file is made with one key, and
 * any problem is a ConfigError. Later, a file that cannot be read or is not
 * valid is logged once, and the service goes on with the keys it has.
 */
export function watchedKeyRing(
  file: string,
  times: KeyTimes,
  now: () => number,
  log: (line: string) => void = console.error,
): () => KeyRing {
  const keys = exists(file)
    ? readKeyFile(file)
    : updateKeyFile(file, (found) => found ?? [newKey(now(), true)]);
  tighten(file, log);
  let ring = new KeyRing(keys, times);
  let seen = stamp(file);
  return () => {
    const current = stamp(file);
    if (current !== seen) {
      seen = current;
      try {
        ring = new KeyRing(readKeyFile(file), times);
      } catch (err) {
        log(
          `${(err as Error).message} Meanwhile the service goes on with the keys it read before.`,
        );
      }
    }
    return ring;
  };
}

/** A key file others can read is made 0600 (POSIX only: Windows has no such mode bits). */
function tighten(file: string, log: (line: string) => void): void {
  if (process.platform === 'win32') return;
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  try {
    chmodSync(file, 0o600);
    log(
      `KEYS_FILE ${file} was readable by others (mode ${mode.toString(8)}): now 600, owner only.`,
    );
  } catch (err) {
    throw fileError(file, err);
  }
}

// Outside the step folder, so that no copy or diff of the step carries a private key.
export const keyFile = (env: NodeJS.ProcessEnv) =>
  path.resolve(env.KEYS_FILE || path.join('.keys', 'step07-es256.json'));
