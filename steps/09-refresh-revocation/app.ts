// Step 09: step 08's server and page, with access tokens of five minutes and
// a refresh token in an HttpOnly cookie that rotates at every use; logout and
// "log out everywhere" refuse tokens at once, through a store shared by every
// instance (sessions.ts, store.ts, redis-store.ts).
import { createSecretKey, randomBytes, randomUUID, scrypt, timingSafeEqual, type KeyObject } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import Koa from 'koa';
import Router from '@koa/router';
import auth from 'basic-auth';
import jwt from 'jsonwebtoken';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { RedisStore } from './redis-store.ts';
import { REFRESH_TOKEN, Refused, Sessions, type Issued } from './sessions.ts';
import { MemoryStore, StoreUnavailable, type Store } from './store.ts';

export interface Config {
  /** The HMAC key, made into a KeyObject once. */
  key: KeyObject;
  issuer: string;
  audience: string;
  /** Lifetime of an access token, in seconds. */
  ttlSeconds: number;
  /** Lifetime of a login's refresh tokens, in seconds: log in again after it. */
  refreshTtlSeconds: number;
  /** How long a spent refresh token still gets its successor (a second tab), in seconds. */
  graceSeconds: number;
  /** Refresh tokens and revocations: in this process, or in Redis. */
  store: Store;
  /** Leeway for clocks that disagree, in seconds: a number, never a string. */
  clockToleranceSeconds: number;
  /** Longest token accepted, in characters. */
  maxTokenLength: number;
  /** User name -> stored scrypt hash of the password. */
  users: Record<string, string>;
  /** Counts failed logins and takes turns at hashing; tests give one with lower limits. */
  throttle: LoginThrottle;
  /** The clock, in seconds since the epoch; tests inject their own. */
  now: () => number;
}

// RFC 7518 section 3.2: an HS256 key must be at least 256 bits.
// RFC 8725 section 3.5: and never a password a human chose or can remember.
const MIN_KEY_BYTES = 32;

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, warn: (message: string) => void = console.warn): Config {
  let secret: Buffer;
  if (env.JWT_SECRET === undefined || env.JWT_SECRET === '') {
    secret = randomBytes(MIN_KEY_BYTES);
    warn('JWT_SECRET is not set: using a random key, so tokens will not survive a restart (npm run secret makes one to keep).');
  } else {
    secret = Buffer.from(env.JWT_SECRET, 'utf8');
    if (secret.length < MIN_KEY_BYTES) {
      throw new ConfigError(
        `JWT_SECRET is ${secret.length} bytes; HS256 needs at least ` +
          `${MIN_KEY_BYTES} random bytes (RFC 7518 section 3.2). ` +
          'Make one with: npm run secret',
      );
    }
    // Long enough is not random enough: 32 spaces or 32 "a"s are no secret.
    if (/^(.)\1*$/su.test(env.JWT_SECRET) || env.JWT_SECRET.trim() === '') {
      throw new ConfigError(
        'JWT_SECRET is one character repeated or only whitespace, which anyone ' +
          'can guess. Make a random one with: npm run secret',
      );
    }
  }
  return {
    // jsonwebtoken given a string secret turns it into a key on every call;
    // a KeyObject made once skips that work on every request.
    key: createSecretKey(secret),
    issuer: 'jwt-koa-workshop',
    audience: 'jwt-koa-workshop-api',
    ttlSeconds: wholeSeconds(env, 'TOKEN_TTL_SECONDS', 300),
    refreshTtlSeconds: wholeSeconds(env, 'REFRESH_TTL_SECONDS', 86400, 60, 30 * 86400),
    graceSeconds: wholeSeconds(env, 'REFRESH_GRACE_SECONDS', 10, 0, 60),
    store: env.REDIS_URL ? new RedisStore(redisUrl(env.REDIS_URL), undefined, warn) : new MemoryStore(),
    clockToleranceSeconds: 5,
    maxTokenLength: 4096,
    users: DEMO_USERS,
    throttle: new LoginThrottle(LOGIN_LIMITS),
    now: () => Math.floor(Date.now() / 1000),
  };
}

// Decimal digits only: Number() would also take "0x10", " 40 " and "1e3",
// and no token should outlive a day.
const MAX_TTL_SECONDS = 86400;

function wholeSeconds(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1, max = MAX_TTL_SECONDS): number {
  const value = env[name];
  if (value === undefined) return fallback;
  if (!/^[0-9]{1,7}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(`${name} must be a whole number of seconds from ${min} to ${max}, in digits (like ${fallback}), not ${JSON.stringify(value)}.`);
  }
  return Number(value);
}

// redis://host:port, or rediss:// for TLS; a password may ride in the URL,
// so a wrong value is described, never printed.
function redisUrl(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
    const got = url ? `a ${url.protocol} URL` : 'a value that is not a URL';
    throw new ConfigError(`REDIS_URL must be a redis:// or rediss:// URL, such as redis://localhost:6379, not ${got}. Unset it to keep everything in memory.`);
  }
  return value;
}

// The demo account alice / pyconid, stored as a salted scrypt hash, never as
// the password itself. N=16384 is Node's default; OWASP's password storage
// cheat sheet asks for N=2^17 in production.
const DEMO_USERS: Record<string, string> = {
  alice:
    'scrypt$16384$8$1$fLyh3zoFhgIvNe6yHtk1Lg$' +
    'r-lvpKYe5l8dZ9ozrh74CwW-ms8aE8P2Zv054KyHm6o',
};

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;

export async function hashPassword(password: string, salt = randomBytes(16)): Promise<string> {
  const hash = await scryptAsync(password, salt, 32, { N: 16384, r: 8, p: 1 });
  return `scrypt$16384$8$1$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

// An unknown user is checked against a made-up hash that costs what a real
// one does (the same N, r and p), so that a wrong user name takes as long as
// a wrong password and timing tells nothing.
function dummyHash(users: Record<string, string>): string {
  const [, N = '16384', r = '8', p = '1'] = (Object.values(users)[0] ?? '').split('$');
  return `scrypt$${N}$${r}$${p}$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`;
}

async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [, N, r, p, salt, hash] = stored.split('$');
  const expected = Buffer.from(hash!, 'base64url');
  const actual = await scryptAsync(password, Buffer.from(salt!, 'base64url'), expected.length, { N: Number(N), r: Number(r), p: Number(p) });
  return timingSafeEqual(actual, expected);
}

export async function checkUser(
  users: Record<string, string>,
  name: string,
  password: string,
  compare: (password: string, stored: string) => Promise<boolean> =
    passwordMatches,
): Promise<boolean> {
  const stored = Object.hasOwn(users, name) ? users[name]! : undefined;
  const matches = await compare(password, stored ?? dummyHash(users));
  return matches && stored !== undefined;
}

// RFC 7617 section 2: no control characters in the user-id or password.
const CONTROL = /[\u0000-\u001f\u007f]/;
const MAX_USER_NAME = 64;
const MAX_PASSWORD = 1024;

function acceptableCredentials(name: string, password: string): boolean {
  return name.length > 0 && name.length <= MAX_USER_NAME && password.length <= MAX_PASSWORD && !CONTROL.test(name) && !CONTROL.test(password);
}

// Every failure is JSON {"error", "message"} with the status and challenge
// the RFCs name; nothing a client sends can turn into a 500.
const REALM = 'jwt-koa-workshop';

export class AuthError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 429 | 503,
    readonly challenge: string | undefined,
    readonly error: string,
    message: string,
    /** Seconds to wait before trying again: the Retry-After header (RFC 9110 section 10.2.3). */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

// RFC 6750 section 3: no token -> 401 with a bare challenge; a bad token ->
// 401 invalid_token; a malformed request -> 400 invalid_request. The
// description must not hold `"` or `\` (section 3, error_description).
function bearerError(
  status: 400 | 401,
  error: 'invalid_token' | 'invalid_request',
  message: string,
): AuthError {
  return new AuthError(
    status,
    `Bearer realm="${REALM}", error="${error}", error_description="${message}"`,
    error,
    message,
  );
}

const missingToken = () =>
  new AuthError(
    401,
    `Bearer realm="${REALM}"`,
    'unauthorized',
    'This resource needs a token: send Authorization: Bearer <token>.',
  );

const badCredentials = () =>
  // RFC 7617 section 2.1: say the server decodes credentials as UTF-8.
  new AuthError(401, 'Basic realm="Login Required", charset="UTF-8"', 'unauthorized', 'Could not verify: the user name or password is wrong.');

// The store cannot answer: refuse rather than guess (README.md says why).
const unavailable = () =>
  new AuthError(503, undefined, 'temporarily_unavailable', 'Sessions cannot be checked right now: try again in a few seconds.', 5);

async function answerErrors(ctx: Koa.Context, next: Koa.Next): Promise<void> {
  try {
    await next();
  } catch (thrown) {
    const err = thrown instanceof StoreUnavailable ? unavailable() : thrown;
    if (!(err instanceof AuthError)) throw err;
    ctx.status = err.status;
    if (err.challenge) ctx.set('WWW-Authenticate', err.challenge);
    if (err.retryAfter) ctx.set('Retry-After', String(err.retryAfter));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: err.error, message: err.message };
  }
}

// Login throttling (OWASP Authentication Cheat Sheet, "Account Lockout"), with
// rate-limiter-flexible's recipe for login endpoints. Each attempt is counted
// before its password is hashed, so that 200 requests at once cannot all slip
// past the count while the first hashes run; a right password gives it back.
/** Attempts that do not log in, allowed within `within` seconds; then `wait` seconds of 429. */
export interface Limit {
  failures: number;
  within: number;
  wait: number;
}

export interface LoginLimits {
  accountAtAddress: Limit;
  address: Limit;
  account: Limit;
  /** Password hashes at once, and how many more may wait their turn. */
  concurrentHashes: number;
  waitingHashes: number;
  /** How long a refused attempt waits for its 429, in ms. */
  refusalPauseMs: number;
}

export const LOGIN_LIMITS: LoginLimits = {
  // One client guessing at one account: 15 min.
  accountAtAddress: { failures: 5, within: 900, wait: 900 },
  // One client trying many accounts: an hour.
  address: { failures: 100, within: 86400, wait: 3600 },
  // Many clients at one account: a minute, not more.
  account: { failures: 50, within: 900, wait: 60 },
  // scrypt runs in libuv's 4 threads, as file reads do.
  concurrentHashes: 2, waitingHashes: 64,
  // A 429 takes a second: a flood slows to a trickle.
  refusalPauseMs: 1000,
};

// RFC 6585 section 4: 429 with Retry-After, in the JSON of every refusal.
// Answered here rather than thrown: in a flood it is most of the server's
// work, and an exception would add a third to its cost (npm run bench).
function tooManyAttempts(ctx: Koa.Context, seconds: number): void {
  ctx.status = 429;
  ctx.set('Retry-After', String(seconds));
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error: 'too_many_attempts', message: `Too many failed logins: try again in ${seconds} s.` };
}

export class LoginThrottle {
  readonly accountAtAddress: RateLimiterMemory;
  readonly address: RateLimiterMemory;
  readonly account: RateLimiterMemory;
  private hashing = 0;
  private waiting: (() => void)[] = [];

  constructor(readonly limits: LoginLimits) {
    const limiter = ({ failures, within, wait }: Limit) => new RateLimiterMemory({ points: failures, duration: within, blockDuration: wait });
    this.accountAtAddress = limiter(limits.accountAtAddress);
    this.address = limiter(limits.address);
    this.account = limiter(limits.account);
  }

  /** Count an attempt at `name` from `address`: 0 to go on, or the seconds to wait. */
  async attempt(name: string, address: string): Promise<number> {
    // The address first: once it is refused, a flood from it costs one count,
    // and made-up user names from it store nothing.
    const counts: [RateLimiterMemory, string][] = [[this.address, address], [this.accountAtAddress, JSON.stringify([name, address])], [this.account, name]];
    for (const [limiter, key] of counts) {
      const wait = await limiter.consume(key).then(
        () => 0,
        (refused: unknown) => {
          if (!(refused instanceof RateLimiterRes)) throw refused;
          return Math.max(1, Math.ceil(refused.msBeforeNext / 1000));
        },
      );
      if (wait > 0) {
        // A client that goes on after a 429 is answered slowly: each of a
        // flood's connections then costs one answer a second, not thousands.
        await new Promise((resolve) => setTimeout(resolve, this.limits.refusalPauseMs));
        return wait;
      }
    }
    return 0;
  }

  /** The password was right: the attempt was no failure. */
  async succeeded(name: string, address: string): Promise<void> {
    await Promise.all([this.accountAtAddress.delete(JSON.stringify([name, address])), this.address.reward(address), this.account.reward(name)]);
  }

  /**
   * Hash when it is our turn. Node's 4 threads also read files and look up
   * names: a flood of hashes must leave some free, so the page still loads.
   */
  async hash<T>(work: () => Promise<T>): Promise<T> {
    if (this.hashing < this.limits.concurrentHashes) this.hashing++;
    else if (this.waiting.length < this.limits.waitingHashes) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else throw new AuthError(503, undefined, 'temporarily_unavailable', 'Too many logins at once: try again in a few seconds.', 5);
    try {
      return await work();
    } finally {
      // Hand the turn to the next in line, or give it back.
      const next = this.waiting.shift();
      if (next) next();
      else this.hashing--;
    }
  }
}

// RFC 6750 section 2.1: Authorization: Bearer <b64token>, scheme in any case.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

function bearerToken(ctx: Koa.Context): string {
  // RFC 6750 section 5.3: tokens in URLs end up in logs, history and Referer.
  if ('token' in ctx.query || 'access_token' in ctx.query) {
    throw bearerError(
      400,
      'invalid_request',
      'Send the token in the Authorization header (Bearer), never in the URL.',
    );
  }
  const header = ctx.get('Authorization');
  // No credentials, or another scheme: a bare challenge (RFC 6750 section 3.1).
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

export interface Claims {
  sub: string;
  iss: string;
  aud: string;
  iat: number;
  exp: number;
  jti: string;
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

const invalid = (message: string) => bearerError(401, 'invalid_token', message);

// Tokens that passed every check, by their exact text. The same bytes pass
// the same checks again: signature, header, issuer, audience, sub and
// lifetime depend on nothing else. What depends on the time (exp, nbf, a
// future iat) is checked again on every request. Without this, verifying
// takes more of a request's time than all the rest of Koa (npm run bench).
const MAX_CACHED_TOKENS = 1000;

export class VerifiedTokens {
  private claims = new Map<string, Claims>();

  get(token: string, config: Config, now: number): Claims | undefined {
    const claims = this.claims.get(token);
    if (claims) checkTimes(claims, config, now);
    return claims;
  }

  add(token: string, claims: Claims): void {
    // A Map iterates in insertion order: the first key is the oldest entry.
    if (this.claims.size >= MAX_CACHED_TOKENS)
      this.claims.delete(this.claims.keys().next().value!);
    this.claims.set(token, claims);
  }
}

// jsonwebtoken's exp and nbf rules, with the same tolerance, and ours for iat.
function checkTimes(claims: Claims & { nbf?: number }, config: Config, now: number): void {
  const leeway = config.clockToleranceSeconds;
  if (now >= claims.exp + leeway) throw invalid('The token has expired.');
  if (claims.nbf !== undefined && claims.nbf > now + leeway) throw invalid('The token is not valid yet.');
  if (claims.iat > now + leeway) throw invalid('The token was issued in the future.');
}

export function verifyToken(token: string, config: Config, cache = new VerifiedTokens()): Claims {
  if (token.length > config.maxTokenLength) throw invalid('The token is too long.');
  const now = config.now();
  const cached = cache.get(token, config, now);
  if (cached) return cached;
  if (token.split('.').length !== 3) throw invalid('The token is not a signed JWT (three parts).');

  // RFC 8725 sections 3.1 and 3.10, RFC 7515 section 4.1.11: the header may
  // only say HS256 and JWT. A jwk, jku, x5u or kid would let the token pick
  // its own key; crit would ask for extensions this server does not know.
  const header = decodeHeader(token);
  if (!header) throw invalid('The token header is not JSON.');
  const extra = Object.keys(header)
    .filter((name) => name !== 'alg' && name !== 'typ');
  if (header.alg !== 'HS256' || header.typ !== 'JWT' || extra.length > 0) {
    throw invalid('The token header may only hold alg HS256 and typ JWT.');
  }

  let payload: unknown;
  try {
    payload = jwt.verify(token, config.key, {
      algorithms: ['HS256'], // RFC 8725 section 3.1: never let the token choose
      issuer: config.issuer, // RFC 8725 section 3.8
      audience: config.audience, // RFC 8725 section 3.9
      clockTolerance: config.clockToleranceSeconds, // a number: '5' disables exp
      clockTimestamp: now,
    });
  } catch (err) {
    // jsonwebtoken's own errors, and the plain SyntaxError it throws when a
    // part is not JSON: every one of them means the token is no good.
    const name = (err as Error).name;
    if (name === 'TokenExpiredError') throw invalid('The token has expired.');
    if (name === 'NotBeforeError') throw invalid('The token is not valid yet.');
    if ((err as Error).message === 'invalid signature') throw invalid('The token signature is invalid.');
    if (name === 'JsonWebTokenError' && /issuer|audience/.test((err as Error).message)) throw invalid('The token is for another issuer or audience.');
    throw invalid('The token is malformed.');
  }

  // RFC 7519 section 7.2 step 10: the claims must be a JSON object.
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload))
    throw invalid('The token claims are not a JSON object.');
  const claims = payload as Record<string, unknown>;
  // jsonwebtoken checks exp only when it is there, and takes 1e999 (Infinity).
  if (!isTime(claims.exp) || !isTime(claims.iat))
    throw invalid('The token needs whole-second exp and iat claims.');
  if ('nbf' in claims && !isTime(claims.nbf))
    throw invalid('The token nbf claim is not a time.');
  if (typeof claims.sub !== 'string' || claims.sub === '')
    throw invalid('The token needs a sub claim.');
  // RFC 7519 section 4.1.7: without a jti, a token cannot be revoked alone.
  if (typeof claims.jti !== 'string' || claims.jti === '' || claims.jti.length > 64) throw invalid('The token needs a jti claim.');
  if (claims.iat > now + config.clockToleranceSeconds)
    throw invalid('The token was issued in the future.');
  if (claims.exp - claims.iat > config.ttlSeconds)
    throw invalid('The token lives longer than this server issues tokens for.');
  cache.add(token, claims as unknown as Claims);
  return claims as unknown as Claims;
}

// The page: three static files, read from public/ on each request so that an
// edit shows on reload. A fixed list, so no path can reach another file.
const PUBLIC = path.join(path.dirname(fileURLToPath(import.meta.url)), 'public');
const PAGE_FILES: Record<string, [file: string, type: string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
};

// Scripts and styles only from this origin, none inline: an injected
// <script> cannot run, so cannot read the token held in memory.
export const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; " +
    "connect-src 'self'; img-src 'self'; base-uri 'none'; " +
    "form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

async function servePage(ctx: Koa.Context, next: Koa.Next): Promise<void> {
  const entry = ctx.method === 'GET' || ctx.method === 'HEAD' ? PAGE_FILES[ctx.path] : undefined;
  if (!entry) return next();
  ctx.type = entry[1];
  ctx.set('Cache-Control', 'no-cache');
  ctx.body = await readFile(path.join(PUBLIC, entry[0]));
}

// The page logs in with cookies on, to keep the refresh cookie. A Basic
// challenge would then make the browser pop up its own password dialog:
// the page says X-Requested-With: fetch, and its 401 comes without one.
function refusedLogin(ctx: Koa.Context): AuthError {
  const err = badCredentials();
  return ctx.get(CSRF_HEADER) === 'fetch' ? new AuthError(401, undefined, err.error, err.message) : err;
}

const forbidden = (message: string) => new AuthError(403, undefined, 'forbidden', message);

// #region csrf
// A browser sends the cookie by itself, whichever site asks:
// SameSite=Strict stops most of that; a header no form can
// send, and an Origin that is ours, stop the rest.
const CSRF_HEADER = 'X-Requested-With';
async function sameOrigin(ctx: Koa.Context, next: Koa.Next) {
  if (ctx.get(CSRF_HEADER) !== 'fetch') {
    throw forbidden(`Send ${CSRF_HEADER}: fetch.`);
  }
  // Koa 3's ctx.origin IS this header: compare with our own.
  const origin = ctx.get('Origin');
  if (origin && origin !== `${ctx.protocol}://${ctx.host}`) {
    throw forbidden('Requests from another origin are refused.');
  }
  await next();
}
// #endregion

// #region cookie
// The refresh token: HttpOnly (no script reads it),
// SameSite=Strict (no other site's page sends it),
// for /auth only, and Secure over https.
const COOKIE = 'refresh_token';

function setCookie(ctx: Koa.Context, issued: Issued, now: number) {
  ctx.cookies.set(COOKIE, issued.token, {
    path: '/auth',
    httpOnly: true,
    sameSite: 'strict',
    secure: ctx.secure,
    maxAge: (issued.family.exp - now) * 1000,
  });
}
// #endregion

function clearCookie(ctx: Koa.Context): void {
  ctx.cookies.set(COOKIE, null, { path: '/auth', httpOnly: true, sameSite: 'strict', secure: ctx.secure });
}

// The page's lab keeps a thief's copy of the refresh cookie here: in a
// second HttpOnly cookie, so that the page never sees it either.
const LAB_COOKIE = 'lab_copy';

export function createApp(config: Config): Koa {
  const app = new Koa();
  const router = new Router();
  const verified = new VerifiedTokens();
  const sessions = new Sessions(config.store, config, config.key);
  app.use(async (ctx, next) => {
    ctx.set(SECURITY_HEADERS);
    await next();
  });
  app.use(answerErrors);
  app.use(servePage);

  router.get('/unprotected', (ctx) => {
    ctx.body = { message: 'Anyone can view this.' };
  });

  // A valid access token of a session that has not logged out.
  async function authenticate(ctx: Koa.Context): Promise<Claims> {
    const claims = verifyToken(bearerToken(ctx), config, verified);
    const revoked = await sessions.revoked(claims, config.now());
    if (revoked) throw invalid(revoked);
    return claims;
  }

  router.get('/protected', async (ctx) => {
    const claims = await authenticate(ctx);
    ctx.body = { message: 'Only available to people with valid tokens.', user: claims.sub };
  });

  router.get('/login', async (ctx) => {
    const credentials = auth.parse(ctx.get('Authorization'));
    if (!credentials || !acceptableCredentials(credentials.name, credentials.pass)) throw refusedLogin(ctx);
    // ctx.ip is the TCP peer: app.proxy stays false, as X-Forwarded-For is anyone's to write.
    const { throttle } = config;
    const wait = await throttle.attempt(credentials.name, ctx.ip);
    if (wait > 0) return tooManyAttempts(ctx, wait);
    if (!(await throttle.hash(() => checkUser(config.users, credentials.name, credentials.pass)))) throw refusedLogin(ctx);
    await throttle.succeeded(credentials.name, ctx.ip);

    const now = config.now();
    setCookie(ctx, await sessions.start(credentials.name, now), now);
    answerToken(ctx, credentials.name, now);
  });

  // A new access token for `sub`, as step 08's login made it; a refresh makes one too.
  function answerToken(ctx: Koa.Context, sub: string, iat: number): void {
    const claims: Claims = {
      sub, // RFC 7519 section 4.1.2, rather than a private "user"
      iss: config.issuer,
      aud: config.audience,
      iat,
      exp: iat + config.ttlSeconds,
      jti: randomUUID(), // RFC 7519 section 4.1.7: to revoke or log a token
    };
    const token = jwt.sign(claims, config.key, { algorithm: 'HS256' });
    // RFC 6749 section 5.1: a response carrying a token must not be cached.
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { token, token_type: 'Bearer', expires_in: config.ttlSeconds };
  }

  // A new access token for a refresh token, which rotates.
  async function refresh(ctx: Koa.Context, token: string): Promise<void> {
    const now = config.now();
    try {
      const issued = await sessions.rotate(token, now);
      setCookie(ctx, issued, now);
      answerToken(ctx, issued.family.sub, now);
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      clearCookie(ctx);
      throw new AuthError(400, undefined, 'invalid_grant', err.message);
    }
  }

  router.post('/auth/refresh', sameOrigin, (ctx) => refresh(ctx, ctx.cookies.get(COOKIE) ?? ''));

  // The access token sent with a logout, if valid: a logout works without.
  function accessToken(ctx: Koa.Context): Claims | undefined {
    if (ctx.get('Authorization') === '') return undefined;
    try {
      return verifyToken(bearerToken(ctx), config, verified);
    } catch (err) {
      if (err instanceof AuthError) return undefined;
      throw err;
    }
  }

  router.post('/auth/logout', sameOrigin, async (ctx) => {
    await sessions.logout(ctx.cookies.get(COOKIE), accessToken(ctx), config.now());
    clearCookie(ctx);
    ctx.body = { message: 'Logged out: the refresh token and this access token are revoked.' };
  });

  router.post('/auth/logout-everywhere', sameOrigin, async (ctx) => {
    const claims = await authenticate(ctx);
    await sessions.logoutEverywhere(claims.sub, config.now());
    clearCookie(ctx);
    ctx.body = { message: `Logged out everywhere: every session of ${claims.sub} is revoked.` };
  });

  // The page's lab: copy the refresh cookie as a thief would, refresh,
  // then replay the copy. It only ever touches this browser's own session;
  // an app of yours has no need of it.
  router.post('/auth/lab/copy', sameOrigin, (ctx) => {
    const token = ctx.cookies.get(COOKIE) ?? '';
    if (!REFRESH_TOKEN.test(token)) throw new AuthError(400, undefined, 'invalid_grant', 'There is no refresh cookie to copy: log in first.');
    ctx.cookies.set(LAB_COOKIE, token, { path: '/auth/lab', httpOnly: true, sameSite: 'strict', secure: ctx.secure });
    ctx.body = { message: 'Copied: the browser keeps the copy in a second HttpOnly cookie.' };
  });

  router.post('/auth/lab/replay', sameOrigin, (ctx) => refresh(ctx, ctx.cookies.get(LAB_COOKIE) ?? ''));

  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

// Listen when run directly (npx tsx), not when a test imports the app. A bad
// setting is one line and exit 1, never a stack trace.
if (realpathSync(process.argv[1] ?? '.') === fileURLToPath(import.meta.url)) {
  try {
    createApp(loadConfig()).listen(Number(process.env.PORT) || 3000);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}
