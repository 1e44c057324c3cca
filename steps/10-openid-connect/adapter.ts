// Where the provider keeps what it must remember between requests: sign-ins
// on their way (Interaction), sessions, grants, authorization codes and
// refresh tokens. oidc-provider asks an adapter for each kind; without one
// it uses a development-only store of about 1,000 entries in all, where a
// flood of anonymous /auth requests pushes out signed-in users' grants.
//
// Here: memory-adapter.ts, in this process (the default), or
// redis-adapter.ts when REDIS_URL is set. Both follow one rule: what nobody
// signed in for has a room of its own, and a flood of it pushes out only
// its own kind, never a session, a grant or a token of someone signed in.
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';

/** A store for the provider: `factory` is oidc-provider's `adapter` setting. */
export interface ProviderStore {
  factory: (kind: string) => Adapter;
  close(): Promise<void>;
}

export interface StoreLimits {
  /**
   * Entries of one kind that nobody signed in for: sign-ins on their way,
   * sessions without a user. When full, the oldest goes.
   */
  anonymous: number;
  /**
   * Entries of one kind that belong to a user: sessions, grants, codes,
   * refresh tokens. When full, the expired and the used-up (consumed) go;
   * if none has, a new one is refused with 503 and nobody is signed out.
   */
  kept: number;
}

export const STORE_LIMITS: StoreLimits = { anonymous: 10_000, kept: 10_000 };

/** What a flood of anonymous requests makes: /auth an Interaction, /session/end a Session. */
export const isAnonymous = (kind: string, payload: AdapterPayload) =>
  kind === 'Interaction' || (kind === 'Session' && !payload.accountId);

/** How long a request waits for the store (Redis) before it is refused. */
export const STORE_TIMEOUT_MS = 1000;

/** The store cannot take this now: 503 temporarily_unavailable, which the provider answers as JSON or a page. */
export function unavailable(message: string): Error {
  const err = new errors.TemporarilyUnavailable(message);
  return Object.assign(err, { status: 503, statusCode: 503, expose: true });
}
