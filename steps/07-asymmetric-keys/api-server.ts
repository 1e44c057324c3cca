// Step 07, a resource service: it holds no secret at all. It verifies tokens
// with the login service's public keys, fetched from its JWKS and cached.
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import Router from '@koa/router';
import jwt from 'jsonwebtoken';
import { AuthError, ConfigError, answerErrors, bearerError, missingToken } from './errors.ts';
import { MAX_JWKS_MAX_AGE_SECONDS, MAX_TTL_SECONDS, httpUrl, seconds } from './settings.ts';

export interface ApiConfig {
  jwksUrl: string;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  clockToleranceSeconds: number;
  maxTokenLength: number;
  /** The longest the keys of one JWKS fetch are used; a shorter Cache-Control max-age wins. */
  jwksMaxAgeSeconds: number;
  /** At most one fetch for an unknown kid, and one retry after a failed fetch, in this many seconds. */
  refetchSeconds: number;
  /** A JWKS fetch that takes longer has failed. */
  fetchTimeoutMs: number;
  now: () => number;
  /** Where the API says that the JWKS cannot be fetched, and that it can again. */
  log: (line: string) => void;
}

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return {
    jwksUrl: httpUrl(env, 'JWKS_URL', 'http://localhost:3000/.well-known/jwks.json'),
    issuer: 'jwt-koa-workshop',
    audience: 'jwt-koa-workshop-api',
    ttlSeconds: seconds(env, 'TOKEN_TTL_SECONDS', 40, MAX_TTL_SECONDS),
    clockToleranceSeconds: 5,
    maxTokenLength: 4096,
    jwksMaxAgeSeconds: seconds(env, 'JWKS_MAX_AGE_SECONDS', 60, MAX_JWKS_MAX_AGE_SECONDS),
    refetchSeconds: 5,
    fetchTimeoutMs: 2000,
    now: () => Math.floor(Date.now() / 1000),
    log: console.error,
  };
}

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
  // #endregion
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
        'The login service\'s public keys cannot be fetched right now; ' +
          'try again shortly.',
        this.config.refetchSeconds,
      );
    }
    return this.keys.get(kid);
  }
    // #endregion

  /** Not within refetchSeconds of a failed fetch. */
  private mayFetch(now: number): boolean {
    return now >= this.failedAt + this.config.refetchSeconds;
  }

  private refresh(): Promise<void> {
    this.inFlight ??= this.fetchKeys().finally(() => (this.inFlight = undefined));
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
        if (
          typeof jwk?.kid !== 'string' || jwk.kty !== 'EC' || jwk.crv !== 'P-256' ||
          (jwk.use && jwk.use !== 'sig') || (jwk.alg && jwk.alg !== 'ES256')
        ) {
          continue;
        }
        const key = publicKey(jwk);
        if (key) fresh.set(jwk.kid, key);
      }
      // #endregion
      const maxAge = Number(/(?:^|,)\s*max-age=(\d+)\s*(?:,|$)/i.exec(res.headers.get('Cache-Control') ?? '')?.[1] ?? Infinity);
      this.maxAge = Math.max(1, Math.min(maxAge, this.config.jwksMaxAgeSeconds));
      this.keys = fresh;
      this.fetchedAt = this.config.now();
      if (this.failedAt > -Infinity) this.config.log(`JWKS ${this.config.jwksUrl} fetched again: ${fresh.size} keys.`);
      this.failedAt = -Infinity;
    } catch (err) {
      if (this.failedAt === -Infinity) this.config.log(`JWKS ${this.config.jwksUrl} cannot be fetched (${(err as Error).message}): keys fetched before are used until their max-age, then requests get 503.`);
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

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

function bearerToken(ctx: Koa.Context): string {
  if ('token' in ctx.query || 'access_token' in ctx.query) {
    throw bearerError(
      400,
      'invalid_request',
      'Send the token in the Authorization header (Bearer), never in the URL.',
    );
  }
  const header = ctx.get('Authorization');
  if (!/^bearer(\s|$)/i.test(header)) throw missingToken();
  const match = BEARER.exec(header);
  if (!match)
    throw bearerError(
      400,
      'invalid_request',
      'The Authorization header must be Bearer followed by one token.',
    );
  return match[1]!;
}

function decodeHeader(token: string): Record<string, unknown> | undefined {
  try {
    const header: unknown = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8'));
    return header !== null && typeof header === 'object' && !Array.isArray(header) ? (header as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const isTime = (value: unknown): value is number => Number.isSafeInteger(value);

export async function verifyToken(token: string, config: ApiConfig, jwks: JwksClient): Promise<{ sub: string }> {
  const invalid = (message: string) => bearerError(401, 'invalid_token', message);
  if (token.length > config.maxTokenLength) throw invalid('The token is too long.');
  if (token.split('.').length !== 3) throw invalid('The token is not a signed JWT (three parts).');

  // #region header-kid
  // ES256 and a kid, nothing else: never a key the token brings itself
  // (jwk, jku, x5u: RFC 8725 section 3.10), never an HMAC keyed with our
  // public key (RS256/HS256 confusion, RFC 8725 section 2.1).
  const header = decodeHeader(token);
  if (!header) throw invalid('The token header is not JSON.');
  const extra = Object.keys(header)
    .filter((name) => !['alg', 'typ', 'kid'].includes(name));
  if (
    header.alg !== 'ES256' || header.typ !== 'JWT' ||
    typeof header.kid !== 'string' || extra.length > 0
  ) {
    throw invalid('The token header may only hold alg ES256, typ JWT and a kid.');
  }
  const key = await jwks.key(header.kid);
  if (!key)
    throw invalid('The token was signed with a key this service does not know.');
  // #endregion

  const now = config.now();
  let payload: unknown;
  try {
    payload = jwt.verify(token, key, {
      algorithms: ['ES256'],
      issuer: config.issuer,
      audience: config.audience,
      clockTolerance: config.clockToleranceSeconds,
      clockTimestamp: now,
    });
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'TokenExpiredError') throw invalid('The token has expired.');
    if (name === 'NotBeforeError') throw invalid('The token is not valid yet.');
    if ((err as Error).message === 'invalid signature') throw invalid('The token signature is invalid.');
    if (name === 'JsonWebTokenError' && /issuer|audience/.test((err as Error).message)) throw invalid('The token is for another issuer or audience.');
    throw invalid('The token is malformed.');
  }

  if (payload === null || typeof payload !== 'object' || Array.isArray(payload))
    throw invalid('The token claims are not a JSON object.');
  const claims = payload as Record<string, unknown>;
  if (!isTime(claims.exp) || !isTime(claims.iat))
    throw invalid('The token needs whole-second exp and iat claims.');
  if ('nbf' in claims && !isTime(claims.nbf))
    throw invalid('The token nbf claim is not a time.');
  if (typeof claims.sub !== 'string' || claims.sub === '')
    throw invalid('The token needs a sub claim.');
  if (claims.iat > now + config.clockToleranceSeconds)
    throw invalid('The token was issued in the future.');
  if (claims.exp - claims.iat > config.ttlSeconds)
    throw invalid('The token lives longer than this server issues tokens for.');
  return { sub: claims.sub };
}

export function createApiApp(config: ApiConfig): Koa {
  const app = new Koa();
  const router = new Router();
  const jwks = new JwksClient(config);
  app.use(answerErrors);

  router.get('/unprotected', (ctx) => {
    ctx.body = { message: 'Anyone can view this.' };
  });

  router.get('/protected', async (ctx) => {
    const claims = await verifyToken(bearerToken(ctx), config, jwks);
    ctx.body = { message: 'Only available to people with valid tokens.', user: claims.sub };
  });

  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

// Listen when run directly (npx tsx), not when a test imports the app. A bad
// setting is one line and exit 1, never a stack trace.
if (realpathSync(process.argv[1] ?? '.') === fileURLToPath(import.meta.url)) {
  try {
    createApiApp(loadApiConfig()).listen(Number(process.env.PORT) || 3001);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}
