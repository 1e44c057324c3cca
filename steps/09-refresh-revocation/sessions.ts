// Sessions: one refresh token family per login, rotated at every use,
// revoked whole when a spent token comes back (RFC 9700 section 4.14.2);
// and what makes a logout refuse an access token at once: its jti on a
// deny-list, and a not-before time per user for "log out everywhere".
import {
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  randomUUID,
  type KeyObject,
} from 'node:crypto';
import type { Store } from './store.ts';

/** A refresh token: 32 bytes, base64url, 43 characters. Anything else is refused unread. */
export const REFRESH_TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** What the store keeps for each refresh token, under the hash of the token. */
export interface Family {
  /** The family: every token from one login shares it. */
  id: string;
  sub: string;
  /** When the login happened, in seconds. */
  created: number;
  /** The family's end: log in again after it, whatever the rotations. */
  exp: number;
}

export interface Issued {
  token: string;
  family: Family;
}

/** What sessions need of a verified access token. */
export interface AccessToken {
  sub: string;
  iat: number;
  exp: number;
  jti: string;
}

export interface SessionTimes {
  refreshTtlSeconds: number;
  graceSeconds: number;
  ttlSeconds: number;
  clockToleranceSeconds: number;
  /** One user's share of the store, a day (LOGINS_PER_DAY, REFRESHES_PER_DAY). */
  loginsPerDay?: number;
  refreshesPerDay?: number;
}

/** A refresh token that does not refresh: 400 invalid_grant (RFC 6749 section 5.2). */
export class Refused extends Error {}

/** One user asked for more than a day's share of the store: 429, with when to try again. */
export class OverLimit extends Error {
  constructor(
    message: string,
    readonly retryAfter: number,
  ) {
    super(message);
  }
}

// Each login and refresh leaves records until its family ends. A user's
// share of the store, per day: about 4,000 records at most, so that no one
// user can fill it and lock everyone else out (a normal day is one login
// and 288 refreshes of 5-minute tokens).
const DAY = 86400;
export const LOGINS_PER_DAY = 100;
export const REFRESHES_PER_DAY = 2000;
// Kept as long as any token could outlive it.
const FOREVER = 10 * 365 * DAY;

const REUSED =
  'This refresh token was already used: the whole session is revoked.';

// Refresh tokens are 256 random bits, so a fast hash is enough to store them:
// a stolen store holds nothing that refreshes (no dictionary to try).
const hash = (token: string) =>
  createHash('sha256').update(token).digest('base64url');

export class Sessions {
  private successorKey: Buffer;

  constructor(
    private store: Store,
    private times: SessionTimes,
    key: KeyObject,
  ) {
    // Its own key, derived from the signing key (RFC 5869): every instance
    // with the same JWT_SECRET derives the same successors.
    this.successorKey = Buffer.from(
      hkdfSync('sha256', key, '', 'step 09 refresh token successors', 32),
    );
  }

  /** A login: a new family and its first refresh token. */
  async start(sub: string, now: number): Promise<Issued> {
    await this.withinShare(
      'logins',
      sub,
      this.times.loginsPerDay ?? LOGINS_PER_DAY,
      now,
    );
    const token = randomBytes(32).toString('base64url');
    const family: Family = {
      id: randomUUID(),
      sub,
      created: now,
      exp: now + this.times.refreshTtlSeconds,
    };
    await this.keep({ token, family }, now);
    return { token, family };
  }

  /** Store a refresh token's family under the token's hash, until the family ends. */
  private async keep(issued: Issued, now: number): Promise<void> {
    await this.store.set(
      `rt:${hash(issued.token)}`,
      JSON.stringify(issued.family),
      issued.family.exp,
      now,
    );
  }

  // The token that replaces `token`: an HMAC of it, as unguessable as a
  // random one, and the same each time it is asked for. The store keeps
  // only hashes, yet a second tab can be handed the very same successor.
  private successor(token: string): string {
    return createHmac('sha256', this.successorKey)
      .update(token)
      .digest('base64url');
  }

  // #region rotate
  /** Spend a refresh token for its successor. */
  async rotate(token: string, now: number): Promise<Issued> {
    const family = await this.usable(token, now);
    const refreshes = this.times.refreshesPerDay ?? REFRESHES_PER_DAY;
    await this.withinShare('refreshes', family.sub, refreshes, now);
    const next = { token: this.successor(token), family };
    await this.keep(next, now);
    const spent = `spent:${hash(token)}`;
    const at = String(now);
    if (await this.store.add(spent, at, family.exp, now)) return next;
    // Spent already. A moment ago: another tab, same successor.
    const [when] = await this.store.get([spent], now);
    if (now < Number(when) + this.times.graceSeconds) return next;
    // Later: a replay. Who is the thief? Revoke the family.
    await this.revoke(family, now);
    throw new Refused(REUSED);
  }
  // #endregion

  /** The family of a refresh token that may still refresh; Refused saying why not. */
  private async usable(token: string, now: number): Promise<Family> {
    const family = await this.lookup(token, now);
    if (family === undefined)
      throw new Refused(
        'The refresh token is unknown or has expired: log in again.',
      );
    const [revoked, notBefore] = await this.store.get(
      [`revoked:${family.id}`, `nbf:${family.sub}`],
      now,
    );
    if (revoked !== undefined)
      throw new Refused(
        'This session was logged out or revoked: log in again.',
      );
    if (notBefore !== undefined && family.created <= Number(notBefore))
      throw new Refused(`${family.sub} logged out everywhere: log in again.`);
    return family;
  }

  private async lookup(
    token: string,
    now: number,
  ): Promise<Family | undefined> {
    if (!REFRESH_TOKEN.test(token)) return undefined;
    const [record] = await this.store.get([`rt:${hash(token)}`], now);
    const family =
      record === undefined ? undefined : (JSON.parse(record) as Family);
    return family !== undefined && now < family.exp ? family : undefined;
  }

  private async revoke(family: Family, now: number): Promise<void> {
    const key = `revoked:${family.id}`;
    await this.store.revoke(key, String(now), family.exp, now);
  }

  /** Count one more of `what` for `sub` today; OverLimit past `limit`. */
  private async withinShare(
    what: string,
    sub: string,
    limit: number,
    now: number,
  ): Promise<void> {
    const end = (Math.floor(now / DAY) + 1) * DAY;
    const count = await this.store.incr(`${what}:${sub}:${end}`, end, now);
    if (count > limit)
      throw new OverLimit(
        `${sub} has used a day's ${limit} ${what}: try again tomorrow.`,
        end - now,
      );
  }

  /**
   * When the store began: a store that lost its memory (Redis back empty,
   * the process restarted) begins again, and refuses every access token
   * issued before, since it no longer knows which were revoked.
   */
  async begin(now: number): Promise<number> {
    const [epoch] = await this.store.get(['epoch'], now);
    return this.began(epoch, now);
  }

  private async began(epoch: string | undefined, now: number) {
    if (epoch !== undefined) return Number(epoch);
    await this.store.add('epoch', String(now), now + FOREVER, now);
    const [set] = await this.store.get(['epoch'], now);
    return Number(set ?? now);
  }

  // #region logout
  /** Logout: the cookie's family, and this access token. */
  async logout(
    cookie: string | undefined,
    access: AccessToken | undefined,
    now: number,
  ): Promise<void> {
    if (access) {
      // Denied until it would expire anyway, leeway included.
      const until = access.exp + this.times.clockToleranceSeconds;
      await this.store.revoke(`deny:${access.jti}`, '1', until, now);
    }
    const family = await this.lookup(cookie ?? '', now);
    if (family) await this.revoke(family, now);
  }
  // #endregion

  /** Log out everywhere: every family and access token of `sub` issued until now. */
  async logoutEverywhere(sub: string, now: number): Promise<void> {
    // Kept until the last token issued before it would have expired anyway.
    const { refreshTtlSeconds, ttlSeconds, clockToleranceSeconds } = this.times;
    const until =
      now + Math.max(refreshTtlSeconds, ttlSeconds) + clockToleranceSeconds;
    await this.store.revoke(`nbf:${sub}`, String(now), until, now);
  }

  // #region revoked
  /** Why a verified access token is refused all the same. */
  async revoked(access: AccessToken, now: number) {
    const keys = [`deny:${access.jti}`, `nbf:${access.sub}`, 'epoch'];
    const [denied, notBefore, epoch] = await this.store.get(keys, now);
    if (denied) return 'The token was revoked: its session logged out.';
    if (access.iat < (await this.began(epoch, now)))
      return 'The session store restarted since: log in again.';
    // iat is in whole seconds: a token of that second goes too.
    if (notBefore && access.iat <= Number(notBefore)) {
      return 'The token was revoked: its user logged out everywhere.';
    }
    return undefined;
  }
  // #endregion
}
