// The provider's embedded store: Maps in this process, one room per kind
// and per sort (adapter.ts). Nothing to install; a restart forgets every
// session and grant, so everyone signs in again.
import type { Adapter, AdapterPayload } from 'oidc-provider';
import {
  STORE_LIMITS,
  isAnonymous,
  unavailable,
  type ProviderStore,
  type StoreLimits,
} from './adapter.ts';

interface Entry {
  payload: AdapterPayload;
  /** In ms, by the store's clock. */
  expiresAt: number;
}

/** One kind's entries: anonymous ones apart from those kept for a user. */
class Room {
  readonly anonymous = new Map<string, Entry>();
  readonly kept = new Map<string, Entry>();
  /** Session uid (and device flow user code) -> id. */
  readonly index = new Map<string, string>();
  /** grantId -> ids, to revoke a grant's codes and tokens together. */
  readonly grants = new Map<string, Set<string>>();

  constructor(
    readonly kind: string,
    private limits: StoreLimits,
    private now: () => number,
  ) {}

  find(id: string): AdapterPayload | undefined {
    const entry = this.anonymous.get(id) ?? this.kept.get(id);
    if (entry && entry.expiresAt <= this.now()) {
      this.remove(id);
      return undefined;
    }
    return entry?.payload;
  }

  add(id: string, payload: AdapterPayload, expiresInSeconds = 0): void {
    this.remove(id);
    const anonymous = isAnonymous(this.kind, payload);
    if (anonymous) this.makeRoomForAnonymous();
    else this.makeRoomToKeep();
    const expiresAt =
      expiresInSeconds > 0 ? this.now() + expiresInSeconds * 1000 : Infinity;
    (anonymous ? this.anonymous : this.kept).set(id, { payload, expiresAt });
    if (payload.uid) this.index.set(`uid:${payload.uid}`, id);
    if (payload.userCode) this.index.set(`userCode:${payload.userCode}`, id);
    if (payload.grantId) {
      const ids = this.grants.get(payload.grantId) ?? new Set();
      this.grants.set(payload.grantId, ids.add(id));
    }
  }

  remove(id: string): void {
    const entry = this.anonymous.get(id) ?? this.kept.get(id);
    if (!entry) return;
    this.anonymous.delete(id);
    this.kept.delete(id);
    const { uid, userCode, grantId } = entry.payload;
    if (uid && this.index.get(`uid:${uid}`) === id)
      this.index.delete(`uid:${uid}`);
    if (userCode && this.index.get(`userCode:${userCode}`) === id)
      this.index.delete(`userCode:${userCode}`);
    const ids = grantId ? this.grants.get(grantId) : undefined;
    ids?.delete(id);
    if (ids?.size === 0) this.grants.delete(grantId!);
  }

  // A flood of anonymous requests: the oldest of them goes, and nothing else.
  private makeRoomForAnonymous(): void {
    const now = this.now();
    for (const [id, entry] of this.anonymous) {
      if (entry.expiresAt > now && this.anonymous.size < this.limits.anonymous)
        break;
      this.remove(id);
    }
  }

  // A user's entries are never pushed out while they work: only the expired
  // and the consumed ones (a used code, a rotated refresh token, kept only
  // to notice a replay) make room.
  private makeRoomToKeep(): void {
    if (this.kept.size < this.limits.kept) return;
    const now = this.now();
    for (const [id, entry] of this.kept)
      if (entry.expiresAt <= now) this.remove(id);
    for (const [id, entry] of this.kept) {
      if (this.kept.size < this.limits.kept) return;
      if (entry.payload.consumed) this.remove(id);
    }
    if (this.kept.size >= this.limits.kept)
      throw unavailable(
        `The provider holds ${this.limits.kept} ${this.kind} entries of signed-in users and none has expired: try again later.`,
      );
  }
}

/** The store of one provider: its `factory` is oidc-provider's `adapter` setting. */
export class MemoryAdapter implements ProviderStore {
  private rooms = new Map<string, Room>();

  /** `now` is in ms. */
  constructor(
    readonly limits: StoreLimits = STORE_LIMITS,
    private now: () => number = Date.now,
  ) {}

  readonly factory = (kind: string): Adapter => {
    const room = this.rooms.get(kind) ?? new Room(kind, this.limits, this.now);
    this.rooms.set(kind, room);
    const byIndex = async (key: string) => {
      const id = room.index.get(key);
      return id === undefined ? undefined : room.find(id);
    };
    return {
      upsert: async (id, payload, expiresIn) =>
        room.add(id, payload, expiresIn),
      find: async (id) => room.find(id),
      findByUid: (uid) => byIndex(`uid:${uid}`),
      findByUserCode: (userCode) => byIndex(`userCode:${userCode}`),
      consume: async (id) => {
        const payload = room.find(id);
        if (payload) payload.consumed = Math.floor(this.now() / 1000);
      },
      destroy: async (id) => room.remove(id),
      revokeByGrantId: async (grantId) => {
        for (const id of room.grants.get(grantId) ?? []) room.remove(id);
      },
    };
  };

  async close(): Promise<void> {
    this.rooms.clear();
  }
}
