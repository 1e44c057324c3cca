// Step 07, a resource service: it holds no secret at all. It verifies tokens
// with the login service's public keys, fetched from its JWKS and cached.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import Router from '@koa/router';
import jwt from 'jsonwebtoken';
import { ConfigError, answerErrors, bearerError } from './errors.ts';
import { bearerToken } from './bearer.ts';
import { JwksClient } from './jwks-client.ts';
import { MAX_JWKS_MAX_AGE_SECONDS, httpUrl } from './jwks-settings.ts';
import { MAX_TTL_SECONDS, seconds } from './settings.ts';

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
    jwksUrl: httpUrl(
      env,
      'JWKS_URL',
      'http://localhost:3000/.well-known/jwks.json',
    ),
    issuer: 'jwt-koa-workshop',
    audience: 'jwt-koa-workshop-api',
    ttlSeconds: seconds(env, 'TOKEN_TTL_SECONDS', 40, MAX_TTL_SECONDS),
    clockToleranceSeconds: 5,
    maxTokenLength: 4096,
    jwksMaxAgeSeconds: seconds(
      env,
      'JWKS_MAX_AGE_SECONDS',
      60,
      MAX_JWKS_MAX_AGE_SECONDS,
    ),
    refetchSeconds: 5,
    fetchTimeoutMs: 2000,
    now: () => Math.floor(Date.now() / 1000),
    log: console.error,
  };
}

function decodeHeader(token: string): Record<string, unknown> | undefined {
  try {
    const header: unknown = JSON.parse(
      Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8'),
    );
    return header !== null &&
      typeof header === 'object' &&
      !Array.isArray(header)
      ? (header as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const isTime = (value: unknown): value is number => Number.isSafeInteger(value);

export async function verifyToken(
  token: string,
  config: ApiConfig,
  jwks: JwksClient,
): Promise<{ sub: string }> {
  const invalid = (message: string) =>
    bearerError(401, 'invalid_token', message);
  if (token.length > config.maxTokenLength)
    throw invalid('The token is too long.');
  if (token.split('.').length !== 3)
    throw invalid('The token is not a signed JWT (three parts).');

  // #region header-kid
  // ES256 and a kid, nothing else: never a key the token brings itself
  // (jwk, jku, x5u: RFC 8725 section 3.10), never an HMAC keyed with our
  // public key (RS256/HS256 confusion, RFC 8725 section 2.1).
  const header = decodeHeader(token);
  if (!header) throw invalid('The token header is not JSON.');
  const { alg, typ, kid, ...extra } = header;
  const others = Object.keys(extra).length > 0;
  if (alg !== 'ES256' || typ !== 'JWT' || typeof kid !== 'string' || others)
    throw invalid('The token header may only hold ES256, JWT and a kid.');
  const key = await jwks.key(kid);
  if (!key) throw invalid('The token was signed with a key we do not know.');
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
    // jsonwebtoken's error classes, and the plain SyntaxError it throws when
    // a part is not JSON: every one of them means the token is no good.
    if (err instanceof jwt.TokenExpiredError)
      throw invalid('The token has expired.');
    if (err instanceof jwt.NotBeforeError)
      throw invalid('The token is not valid yet.');
    if (!(err instanceof jwt.JsonWebTokenError))
      throw invalid('The token is malformed.');
    // Refused either way; the unverified claims only choose the words.
    const claimed = jwt.decode(token, { json: true });
    if (claimed?.iss !== config.issuer || claimed.aud !== config.audience)
      throw invalid('The token is for another issuer or audience.');
    throw invalid('The token signature is invalid.');
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
    ctx.body = {
      message: 'Only available to people with valid tokens.',
      user: claims.sub,
    };
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
