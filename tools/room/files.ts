// Where the room keeps what it must not forget: .room/ at the workshop's root
// (git ignores it), beside every workspace rather than inside one, so that
// npm run exercise and npm run start-from --force leave it alone. ROOM_DIR
// moves it (the tests give each room a folder of its own).
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { root } from '../steps.ts';

export const roomDir = (env: NodeJS.ProcessEnv = process.env) =>
  env.ROOM_DIR ? path.resolve(env.ROOM_DIR) : path.join(root, '.room');

/** The presenter's room: its key, code, secret and attendees. */
export const roomFile = (dir = roomDir()) => path.join(dir, 'room.json');

/** The attendee's side: which room this copy of the workshop reports to, and its token. */
export const joinedFile = (dir = roomDir()) => path.join(dir, 'joined.json');

/** The file as JSON, or undefined when there is none; anything unreadable throws. */
export function readJson<T>(file: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return JSON.parse(text) as T;
}

/**
 * Write the whole file or nothing: a new file beside it, then a rename, so a
 * laptop that dies mid-write keeps the last good copy. Readable by its owner
 * only: it holds keys and tokens.
 */
export function writeJson(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const next = `${file}.${process.pid}.tmp`;
  writeFileSync(next, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(next, file);
}

export function removeFile(file: string): void {
  rmSync(file, { force: true });
}
