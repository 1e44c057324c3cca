import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { ApiConfig } from './api-server.ts';
import { AuthError } from './errors.ts';

// The public keys by kid, from the JWKS, used no longer than its
// Cache-Control max-age says: a key the login service withdraws is refused
// here within max-age. From half that age, the next fetch runs in the
// background while requests go on with the keys in hand. One fetch at a
// time, shared by every request that waits for it; a kid not in the JWKS
// fetches again at most once per refetchSeconds, and a failed fetch is
// retried no sooner, so neither made-up kids nor a hung login service can
// pile requests onto it.
export class JwksClient {
  private keys = new Map<string, KeyObject>();
  private fetchedAt = -Infinity;
  private maxAge = 0;
  private failedAt = -Infinity;
  private unknownKidAt = -Infinity;
  private inFlight: Promise<void> | undefined;

  constructor(private config: ApiConfig) {}

  // #region key-lookup
  async key(kid: string): Promise<KeyObject | undefined> {
    const now = this.config.now();
    const age = now - this.fetchedAt;
    if (age >= this.maxAge && this.mayFetch(now)) await this.refresh();
    else if (age >= this.maxAge / 2 && this.mayFetch(now)) void this.refresh();
    if (!this.keys.has(kid) && this.inFlight) await this.inFlight;
    // #region hide-key-lookup
    // #region unknown-kid
    // #region new-kid
    // A new kid may be a key published since our fetch: look once more.
    if (
      !this.keys.has(kid) &&
      this.mayFetch(now) &&
      this.fetchedAt < now &&
      now >= this.unknownKidAt + this.config.refetchSeconds
    ) {
      this.unknownKidAt = now;
      await this.refresh();
    }
    // #endregion
    if (this.config.now() >= this.fetchedAt + this.maxAge) {
      // Not the token's fault: we cannot tell whether it is good.
      throw new AuthError(
        503,
        undefined,
        'temporarily_unavailable',
        "The login service's public keys cannot be fetched right now; " +
          'try again shortly.',
        this.config.refetchSeconds,
      );
    }
    // #endregion
    // #endregion
    return this.keys.get(kid);
  }
  // #endregion

  /** Not within refetchSeconds of a failed fetch. */
  private mayFetch(now: number): boolean {
    return now >= this.failedAt + this.config.refetchSeconds;
  }

  private refresh(): Promise<void> {
    this.inFlight ??= this.fetchKeys().finally(
      () => (this.inFlight = undefined),
    );
    return this.inFlight;
  }

  private async fetchKeys(): Promise<void> {
    try {
      // #region fetch-jwks
      const res = await fetch(this.config.jwksUrl, {
        signal: AbortSignal.timeout(this.config.fetchTimeoutMs),
      });
      if (!res.ok) throw new Error(`it answered ${res.status}`);
      const { keys } = (await res.json()) as { keys?: JsonWebKey[] };
      if (!Array.isArray(keys)) throw new Error('it is not a JWK Set');
      const fresh = new Map<string, KeyObject>();
      for (const jwk of keys) {
        // Only what this API expects: EC P-256 signing keys for ES256.
        const ec = jwk?.kty === 'EC' && jwk.crv === 'P-256';
        const es256 = (jwk?.alg ?? 'ES256') === 'ES256';
        const signing = (jwk?.use ?? 'sig') === 'sig';
        if (typeof jwk?.kid !== 'string' || !ec || !es256 || !signing) continue;
        const key = publicKey(jwk);
        if (key) fresh.set(jwk.kid, key);
      }
      // #endregion
      const maxAge = Number(
        /(?:^|,)\s*max-age=(\d+)\s*(?:,|$)/i.exec(
          res.headers.get('Cache-Control') ?? '',
        )?.[1] ?? Infinity,
      );
      this.maxAge = Math.max(
        1,
        Math.min(maxAge, this.config.jwksMaxAgeSeconds),
      );
      this.keys = fresh;
      this.fetchedAt = this.config.now();
      if (this.failedAt > -Infinity)
        this.config.log(
          `JWKS ${this.config.jwksUrl} fetched again: ${fresh.size} keys.`,
        );
      this.failedAt = -Infinity;
    } catch (err) {
      if (this.failedAt === -Infinity)
        this.config.log(
          `JWKS ${this.config.jwksUrl} cannot be fetched (${(err as Error).message}): keys fetched before are used until their max-age, then requests get 503.`,
        );
      this.failedAt = this.config.now();
    }
  }
}

function publicKey(jwk: JsonWebKey): KeyObject | undefined {
  try {
    return createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    return undefined; // not a point on the curve, say: that key is no use
  }
}
