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
  close(): Promise<void>;
}
// #endregion

/** A stored value; undefined for a key that is not there, or has expired. */
export type Value = string | undefined;

/** The store cannot answer (Redis is down): the request is refused, never waved through. */
export class StoreUnavailable extends Error {}

// Enough for a workshop's users many times over; a full store refuses to
// remember more rather than forget a revocation to make room.
const MAX_ENTRIES = 100_000;

/** The embedded store: a Map in this process. An entry past its time is gone. */
export class MemoryStore implements Store {
  private entries = new Map<string, { value: string; until: number }>();

  constructor(readonly maxEntries = MAX_ENTRIES) {}

  async get(keys: string[], now: number): Promise<Value[]> {
    return keys.map((key) => this.read(key, now));
  }

  async set(key: string, value: string, until: number, now: number): Promise<void> {
    this.write(key, value, until, now);
  }

  // Atomic as it is: no await between the read and the write, and
  // JavaScript runs one request's code at a time.
  async add(key: string, value: string, until: number, now: number): Promise<boolean> {
    if (this.read(key, now) !== undefined) return false;
    this.write(key, value, until, now);
    return true;
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

  private write(key: string, value: string, until: number, now: number): void {
    if (!this.entries.has(key) && this.entries.size >= this.maxEntries) {
      // Expired entries go when read, and all at once when the store is full.
      for (const [old, entry] of this.entries) if (entry.until <= now) this.entries.delete(old);
      if (this.entries.size >= this.maxEntries) throw new StoreUnavailable(`The in-memory store holds ${this.maxEntries} entries and none has expired.`);
    }
    this.entries.set(key, { value, until });
  }
}
