// The API's view of the provider: its discovery document and its keys,
// fetched when first needed and checked, never trusted blindly.
import { createRemoteJWKSet, errors, type JWTVerifyGetKey } from 'jose';
import { unavailable } from './http.ts';

// The provider's keys, found lazily: the provider is the slowest of the three
// services to start, so the API asks for its discovery document on the first
// request that needs it, answers 503 while it cannot, and asks again on the
// next request. Never a crash at start-up.
export class ProviderKeys {
  private keys?: JWTVerifyGetKey;
  private pending?: Promise<JWTVerifyGetKey>;

  constructor(private issuer: string) {}

  get(): Promise<JWTVerifyGetKey> {
    if (this.keys) return Promise.resolve(this.keys);
    this.pending ??= this.discover().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async discover(): Promise<JWTVerifyGetKey> {
    let metadata: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const res = await fetch(
        `${this.issuer}/.well-known/openid-configuration`,
        { signal: AbortSignal.timeout(2000) },
      );
      if (!res.ok) throw new Error(`discovery answered ${res.status}`);
      metadata = (await res.json()) as typeof metadata;
    } catch {
      throw unavailable(
        `The OpenID Provider at ${this.issuer} cannot be reached yet: try again in a few seconds.`,
      );
    }
    // OpenID Connect Discovery section 4.3: the document must name the
    // issuer we asked, or anyone serving it could choose our keys.
    if (
      metadata.issuer !== this.issuer ||
      typeof metadata.jwks_uri !== 'string'
    ) {
      throw unavailable(
        `The discovery document of ${this.issuer} names another issuer or no jwks_uri.`,
      );
    }
    const remote = createRemoteJWKSet(new URL(metadata.jwks_uri), {
      timeoutDuration: 2000,
    });
    // jose caches the keys and fetches again for an unknown kid, at most
    // every 30 s. A key set that cannot be fetched is the provider's
    // failure, not the token's: 503, not 401.
    this.keys = async (header, token) => {
      try {
        return await remote(header, token);
      } catch (err) {
        if (
          err instanceof errors.JWKSNoMatchingKey ||
          err instanceof errors.JWKSMultipleMatchingKeys
        )
          throw err;
        throw unavailable(
          "The OpenID Provider's keys cannot be fetched right now: try again in a few seconds.",
        );
      }
    };
    return this.keys;
  }
}
