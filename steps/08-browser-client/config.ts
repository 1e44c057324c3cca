// What the server runs with: its key, names, lifetimes, users and clock, read
// once from the environment. Tests build their own, with a clock they move.
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { ConfigError } from './errors.ts';
import { DEMO_USERS } from './passwords.ts';
import { seconds } from './settings.ts';
import { LOGIN_LIMITS, LoginThrottle } from './throttle.ts';

export interface Config {
  /** The HMAC key, made into a KeyObject once. */
  key: KeyObject;
  issuer: string;
  audience: string;
  /** Lifetime of a token, in seconds. */
  ttlSeconds: number;
  /** Leeway for clocks that disagree, in seconds: a number, never a string. */
  clockToleranceSeconds: number;
  /** Longest token accepted, in characters. */
  maxTokenLength: number;
  /** User name -> stored scrypt hash of the password. */
  users: Record<string, string>;
  /** Counts failed logins; tests give one with lower limits. */
  throttle: LoginThrottle;
  /** The clock, in seconds since the epoch; tests inject their own. */
  now: () => number;
}

// RFC 7518 section 3.2: an HS256 key must be at least 256 bits.
// RFC 8725 section 3.5: and never a password a human chose or can remember.
const MIN_KEY_BYTES = 32;

export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  warn: (message: string) => void = console.warn,
  ttlFallback = 40,
): Config {
  // #region key
  let secret: Buffer;
  if (env.JWT_SECRET === undefined || env.JWT_SECRET === '') {
    secret = randomBytes(MIN_KEY_BYTES);
    warn(
      'JWT_SECRET is not set: using a random key, so tokens will not ' +
        'survive a restart (npm run secret makes one to keep).',
    );
  } else {
    // #region key-check
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
        'JWT_SECRET is one character repeated or only whitespace, which ' +
          'anyone can guess. Make a random one with: npm run secret',
      );
    }
    // #endregion
  }
  // #endregion
  const now = () => Math.floor(Date.now() / 1000);
  return {
    // jsonwebtoken given a string secret turns it into a key on every call;
    // a KeyObject made once skips that work on every request.
    key: createSecretKey(secret),
    issuer: 'jwt-koa-workshop',
    audience: 'jwt-koa-workshop-api',
    ttlSeconds: seconds(env, 'TOKEN_TTL_SECONDS', ttlFallback),
    clockToleranceSeconds: 5,
    maxTokenLength: 4096,
    users: DEMO_USERS,
    throttle: new LoginThrottle(LOGIN_LIMITS, now),
    now,
  };
}
