// Step 07, the login service: the only holder of a private key. It signs
// tokens with ES256 and publishes the public keys at /.well-known/jwks.json,
// so that any number of APIs can verify tokens without being able to mint one.
import { randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import Router from '@koa/router';
import auth from 'basic-auth';
import jwt from 'jsonwebtoken';
import {
  ConfigError,
  answerErrors,
  badCredentials,
  tooManyAttempts,
} from './errors.ts';
import { keyFile, watchedKeyRing } from './key-file.ts';
import type { KeyRing } from './keys.ts';
import { MAX_JWKS_MAX_AGE_SECONDS } from './jwks-settings.ts';
import { acceptableCredentials, checkUser, DEMO_USERS } from './passwords.ts';
import { MAX_TTL_SECONDS, seconds } from './settings.ts';
import { LOGIN_LIMITS, LoginThrottle } from './throttle.ts';

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

export function loadAuthConfig(
  env: NodeJS.ProcessEnv = process.env,
): AuthConfig {
  const ttlSeconds = seconds(env, 'TOKEN_TTL_SECONDS', 40, MAX_TTL_SECONDS);
  const jwksMaxAgeSeconds = seconds(
    env,
    'JWKS_MAX_AGE_SECONDS',
    60,
    MAX_JWKS_MAX_AGE_SECONDS,
  );
  const clockToleranceSeconds = 5;
  const now = () => Math.floor(Date.now() / 1000);
  // From this service's own settings, never from the rotating command's: a
  // new key signs once every API's copy of the JWKS has it, and an old one is
  // published until its last token has expired.
  const times = {
    publishAhead: jwksMaxAgeSeconds + clockToleranceSeconds,
    keepAfter: ttlSeconds + clockToleranceSeconds,
  };
  return {
    keys: watchedKeyRing(keyFile(env), times, now),
    issuer: 'jwt-koa-workshop',
    audience: 'jwt-koa-workshop-api',
    ttlSeconds,
    clockToleranceSeconds,
    jwksMaxAgeSeconds,
    users: DEMO_USERS,
    throttle: new LoginThrottle(LOGIN_LIMITS, now),
    now,
  };
}

export function createAuthApp(config: AuthConfig): Koa {
  const app = new Koa();
  const router = new Router();
  app.use(answerErrors);

  router.get('/login', async (ctx) => {
    const credentials = auth.parse(ctx.get('Authorization'));
    if (
      !credentials ||
      !acceptableCredentials(credentials.name, credentials.pass)
    )
      throw badCredentials();
    const { name, pass } = credentials;
    // Step 06's throttle (throttle.ts), counting by address: this service
    // sets no device cookie.
    const { throttle } = config;
    const wait = await throttle.countAttempt(name, ctx.ip);
    if (wait > 0) return tooManyAttempts(ctx, wait);
    const check = () => checkUser(config.users, name, pass);
    if (!(await throttle.inTurn(check, throttle.proven(name, ctx.ip))))
      throw badCredentials();
    throttle.loggedIn(name, ctx.ip);

    // #region sign-es256
    const iat = config.now();
    const claims = {
      sub: name,
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
