// Where step 09 keeps what it must remember: refresh token records, spent
// marks, revoked families, the access token deny-list, each user's
// not-before time. One interface, two stores: this process's memory (the
// default, nothing to install), and Redis (redis-store.ts), which several
// instances of the API share so that a logout on one is refused by all.

// #region store
// Each value is kept until `until`, in seconds by the app's
// clock (`now`). add() sets a key only if it is free, and
// says if it did: how a refresh token is spent just once.
export interface Store {
  get(keys: string[], now: number): Promise<Value[]>;
  set(key: string, value: string, until: number, now: number): Promise<void>;
  add(key: string, value: string, until: number, now: number): Promise<boolean>;
  // #region hide
  /** set() for a revocation: it may use room kept for revocations. */
  revoke(key: string, value: string, until: number, now: number): Promise<void>;
  /** Add 1 to a count that ends at `until`; the new count. */
  incr(key: string, until: number, now: number): Promise<number>;
  /** Why this store could lose a revocation, if it could. */
  evictionProblem?(): Promise<string | undefined>;
  close(): Promise<void>;
  // #endregion
}
// #endregion

/** A stored value; undefined for a key that is not there, or has expired. */
export type Value = string | undefined;

/** The store cannot answer (Redis is down, or full): refused, never waved through. */
export class StoreUnavailable extends Error {
  /** Seconds to wait before trying again: Retry-After. */
  constructor(
    message: string,
    readonly retryAfter = 5,
  ) {
    super(message);
  }
}

// Enough for a workshop's users many times over. A tenth is kept for
// revocations: a store full of sessions still takes a logout.
const MAX_ENTRIES = 100_000;
const REVOCATIONS_ONLY = 0.1;

/** The embedded store: a Map in this process. An entry past its time is gone. */
export class MemoryStore implements Store {
  private entries = new Map<string, { value: string; until: number }>();

  constructor(readonly maxEntries = MAX_ENTRIES) {}

  async get(keys: string[], now: number): Promise<Value[]> {
    return keys.map((key) => this.read(key, now));
  }

  async set(
    key: string,
    value: string,
    until: number,
    now: number,
  ): Promise<void> {
    this.write(key, value, until, now, false);
  }

  async revoke(
    key: string,
    value: string,
    until: number,
    now: number,
  ): Promise<void> {
    this.write(key, value, until, now, true);
  }

  // Atomic as it is: no await between the read and the write, and
  // JavaScript runs one request's code at a time.
  async add(
    key: string,
    value: string,
    until: number,
    now: number,
  ): Promise<boolean> {
    if (this.read(key, now) !== undefined) return false;
    this.write(key, value, until, now, false);
    return true;
  }

  async incr(key: string, until: number, now: number): Promise<number> {
    const entry = this.entries.get(key);
    const count = entry && entry.until > now ? Number(entry.value) + 1 : 1;
    this.write(key, String(count), entry?.until ?? until, now, false);
    return count;
  }

  async close(): Promise<void> {
    this.entries.clear();
  }

  private read(key: string, now: number): string | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  private write(
    key: string,
    value: string,
    until: number,
    now: number,
    revocation: boolean,
  ): void {
    const room = revocation
      ? this.maxEntries
      : Math.ceil(this.maxEntries * (1 - REVOCATIONS_ONLY));
    if (!this.entries.has(key) && this.entries.size >= room) {
      // Expired entries go when read, and all at once when the store is full.
      let soonest = Infinity;
      for (const [old, entry] of this.entries) {
        if (entry.until <= now) this.entries.delete(old);
        else soonest = Math.min(soonest, entry.until);
      }
      if (this.entries.size >= room)
        throw new StoreUnavailable(
          `The in-memory store holds ${this.entries.size} entries and none has expired.`,
          Math.max(1, soonest - now),
        );
    }
    this.entries.set(key, { value, until });
  }
}
