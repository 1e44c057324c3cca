// The room's memory: its signing key, its code, the presenter's secret, and
// each attendee with the latest result of every step they checked. Kept in
// one file (tools/room/files.ts) written a moment after each change, so a
// presenter's laptop that restarts, or a room stopped and started again,
// loses nothing.
import { createSecretKey, randomBytes, randomInt, type KeyObject } from 'node:crypto';
import { readJson, writeJson } from './files.ts';
import type { Report } from './report.ts';

export interface Result extends Report {
  /** When the room received it, ISO 8601. */
  at: string;
}

export interface Attendee {
  id: string;
  /** As typed at npm run join: shown as text, never as HTML. */
  name: string;
  joined: string;
  /** The latest result of each step, in step order. */
  results: Result[];
}

interface Saved {
  version: 1;
  id: string;
  code: string;
  secret: string;
  /** The HS256 key of the attendees' tokens, base64url. */
  key: string;
  created: string;
  attendees: Attendee[];
}

// Said aloud and typed from a projector: no letters or digits that sound or
// look alike (0 O, 1 I L, 2 Z, 5 S, 6 G, 8 B).
const CODE_LETTERS = 'ACDEFHJKMNPRTUVWXY3479';

export function newCode(length = 6): string {
  return Array.from({ length }, () => CODE_LETTERS[randomInt(CODE_LETTERS.length)]).join('');
}

/** A code as an attendee may type it: any case, with spaces or dashes. */
export const normalCode = (code: string) => code.toUpperCase().replace(/[\s-]/g, '');

function newRoom(now: Date): Saved {
  return {
    version: 1,
    id: randomBytes(8).toString('hex'),
    code: newCode(),
    secret: randomBytes(24).toString('base64url'),
    key: randomBytes(32).toString('base64url'),
    created: now.toISOString(),
    attendees: [],
  };
}

function isSaved(value: unknown): value is Saved {
  const v = value as Saved | undefined;
  return (
    v?.version === 1 &&
    [v.id, v.code, v.secret, v.key].every((s) => typeof s === 'string' && s.length >= 6) &&
    Array.isArray(v.attendees)
  );
}

export type Change = { attendee: Attendee } | { left: string };

export class Room {
  readonly key: KeyObject;
  private readonly people: Map<string, Attendee>;
  private readonly listeners = new Set<(change: Change) => void>();
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly saved: Saved,
    /** Where it is kept; undefined: in memory only. */
    readonly file: string | undefined,
  ) {
    this.key = createSecretKey(Buffer.from(saved.key, 'base64url'));
    this.people = new Map(saved.attendees.map((a) => [a.id, a]));
  }

  /**
   * The room kept in `file`, or a new one when there is none (or `fresh`).
   * A file that cannot be read as a room throws: the room refuses to start
   * rather than forget its attendees unasked.
   */
  static open(file: string | undefined, { fresh = false, now = new Date() } = {}): Room {
    const kept = file && !fresh ? readJson<unknown>(file) : undefined;
    if (kept !== undefined && !isSaved(kept))
      throw new Error(`${file} is not a room this tool wrote`);
    const room = new Room(kept ?? newRoom(now), file);
    if (kept === undefined) room.save();
    return room;
  }

  get code(): string {
    return this.saved.code;
  }

  get secret(): string {
    return this.saved.secret;
  }

  /** The audience of its tokens: this room and no other. */
  get audience(): string {
    return `jwt-koa-workshop room ${this.saved.id}`;
  }

  attendees(): Attendee[] {
    return [...this.people.values()];
  }

  find(id: string): Attendee | undefined {
    return this.people.get(id);
  }

  /** A new attendee; or, given the id of one already here (joining again), that one renamed. */
  join(name: string, id?: string, now = new Date()): Attendee {
    const known = id === undefined ? undefined : this.people.get(id);
    const attendee = known ?? {
      id: randomBytes(9).toString('base64url'),
      name,
      joined: now.toISOString(),
      results: [],
    };
    attendee.name = name;
    this.people.set(attendee.id, attendee);
    this.changed({ attendee });
    return attendee;
  }

  leave(id: string): boolean {
    if (!this.people.delete(id)) return false;
    this.changed({ left: id });
    return true;
  }

  /** Keep each report as the attendee's latest for its step. */
  record(id: string, reports: Report[], now = new Date()): Attendee | undefined {
    const attendee = this.people.get(id);
    if (!attendee) return undefined;
    for (const report of reports) {
      const result = { ...report, at: now.toISOString() };
      const others = attendee.results.filter((r) => r.step !== report.step);
      attendee.results = [...others, result].sort((a, b) => a.step - b.step);
    }
    this.changed({ attendee });
    return attendee;
  }

  /** Be told of every change; returns the way to stop. */
  subscribe(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Write the room now, if anything changed since it was last written. */
  flush(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.save();
  }

  private save(): void {
    if (this.file) writeJson(this.file, { ...this.saved, attendees: this.attendees() });
  }

  private changed(change: Change): void {
    for (const listener of this.listeners) listener(change);
    // A burst of posts is one write, a quarter of a second after it starts.
    this.timer ??= setTimeout(() => this.flush(), 250).unref();
  }
}
