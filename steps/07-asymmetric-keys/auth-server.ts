// Step 07, the login service: the only holder of a private key. It signs
// tokens with ES256 and publishes the public keys at /.well-known/jwks.json,
// so that any number of APIs can verify tokens without being able to mint one.
import { randomUUID, scrypt, timingSafeEqual } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Koa from 'koa';
import Router from '@koa/router';
import auth from 'basic-auth';
import jwt from 'jsonwebtoken';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AuthError, ConfigError, answerErrors, badCredentials } from './errors.ts';
import { keyFile, watchedKeyRing, type KeyRing } from './keys.ts';
import { MAX_JWKS_MAX_AGE_SECONDS, MAX_TTL_SECONDS, seconds } from './settings.ts';

export interface AuthConfig {
  /** The key ring as it is now (the file may be rotated while we run). */
  keys: () => KeyRing;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  clockToleranceSeconds: number;
  /** The JWKS's Cache-Control max-age: APIs use the keys of one fetch this long at most. */
  jwksMaxAgeSeconds: number;
  users: Record<string, string>;
  /** Counts failed logins and takes turns at hashing; tests give one with lower limits. */
  throttle: LoginThrottle;
  now: () => number;
}

export function loadAuthConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const ttlSeconds = seconds(env, 'TOKEN_TTL_SECONDS', 40, MAX_TTL_SECONDS);
  const jwksMaxAgeSeconds = seconds(env, 'JWKS_MAX_AGE_SECONDS', 60, MAX_JWKS_MAX_AGE_SECONDS);
  const clockToleranceSeconds = 5;
  const now = () => Math.floor(Date.now() / 1000);
  // From this service's own settings, never from the rotating command's: a
  // new key signs once every API's copy of the JWKS has it, and an old one is
  // published until its last token has expired.
  const times = { publishAhead: jwksMaxAgeSeconds + clockToleranceSeconds, keepAfter: ttlSeconds + clockToleranceSeconds };
  return {
    keys: watchedKeyRing(keyFile(env), times, now),
    issuer: 'jwt-koa-workshop',
    audience: 'jwt-koa-workshop-api',
    ttlSeconds,
    clockToleranceSeconds,
    jwksMaxAgeSeconds,
    users: DEMO_USERS,
    throttle: new LoginThrottle(LOGIN_LIMITS),
    now,
  };
}

// The users, as in step 06: alice / pyconid as a salted scrypt hash.
const DEMO_USERS: Record<string, string> = {
  alice:
    'scrypt$16384$8$1$fLyh3zoFhgIvNe6yHtk1Lg$' +
    'r-lvpKYe5l8dZ9ozrh74CwW-ms8aE8P2Zv054KyHm6o',
};
// An unknown user costs a hash with the same N, r and p as a real one.
const dummyHash = (users: Record<string, string>) => {
  const [, N = '16384', r = '8', p = '1'] = (Object.values(users)[0] ?? '').split('$');
  return `scrypt$${N}$${r}$${p}$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`;
};
const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;

async function checkUser(users: Record<string, string>, name: string, password: string): Promise<boolean> {
  const stored = Object.hasOwn(users, name) ? users[name]! : undefined;
  const [, N, r, p, salt, hash] = (stored ?? dummyHash(users)).split('$');
  const expected = Buffer.from(hash!, 'base64url');
  const actual = await scryptAsync(password, Buffer.from(salt!, 'base64url'), expected.length, { N: Number(N), r: Number(r), p: Number(p) });
  return timingSafeEqual(actual, expected) && stored !== undefined;
}

const CONTROL = /[\u0000-\u001f\u007f]/;
const acceptable = (name: string, password: string) =>
  name.length > 0 && name.length <= 64 && password.length <= 1024 && !CONTROL.test(name) && !CONTROL.test(password);

// Login throttling, as in step 06 (OWASP Authentication Cheat Sheet,
// "Account Lockout"; rate-limiter-flexible's recipe for login endpoints).
// Each attempt is counted before its password is hashed, so that 200
// requests at once cannot all slip past the count while the first hashes
// run; a right password gives it back.
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
   * names: a flood of hashes must leave some free.
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

export function createAuthApp(config: AuthConfig): Koa {
  const app = new Koa();
  const router = new Router();
  app.use(answerErrors);

  router.get('/login', async (ctx) => {
    const credentials = auth.parse(ctx.get('Authorization'));
    if (!credentials || !acceptable(credentials.name, credentials.pass)) throw badCredentials();
    // ctx.ip is the TCP peer: app.proxy stays false, as X-Forwarded-For is anyone's to write.
    const { throttle } = config;
    const wait = await throttle.attempt(credentials.name, ctx.ip);
    if (wait > 0) return tooManyAttempts(ctx, wait);
    if (!(await throttle.hash(() => checkUser(config.users, credentials.name, credentials.pass)))) throw badCredentials();
    await throttle.succeeded(credentials.name, ctx.ip);

    // #region sign-es256
    const iat = config.now();
    const claims = {
      sub: credentials.name,
      iss: config.issuer,
      aud: config.audience,
      iat,
      exp: iat + config.ttlSeconds,
      jti: randomUUID(),
    };
    // The private key signs; the kid in the header tells verifiers which
    // public key of the JWKS to check it with.
    const { kid, key } = config.keys().signingKey(iat);
    const token = jwt.sign(claims, key, { algorithm: 'ES256', keyid: kid });
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { token, token_type: 'Bearer', expires_in: config.ttlSeconds };
    // #endregion
  });

  // #region jwks
  // RFC 7517 section 5: a JWK Set. Public keys only. APIs keep it for max-age
  // seconds at most: a new key is published that long before it signs, and a
  // withdrawn one is refused everywhere that long after it leaves.
  router.get('/.well-known/jwks.json', (ctx) => {
    ctx.set('Cache-Control', `public, max-age=${config.jwksMaxAgeSeconds}`);
    ctx.body = config.keys().jwks(config.now());
  });
  // #endregion

  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

// Listen when run directly (npx tsx), not when a test imports the app. A bad
// setting is one line and exit 1, never a stack trace.
if (realpathSync(process.argv[1] ?? '.') === fileURLToPath(import.meta.url)) {
  try {
    createAuthApp(loadAuthConfig()).listen(Number(process.env.PORT) || 3000);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}
