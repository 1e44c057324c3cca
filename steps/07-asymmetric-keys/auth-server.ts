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
import { ConfigError, answerErrors, badCredentials } from './errors.ts';
import { defaultKeyFile, watchedKeyRing, type KeyRing } from './keys.ts';

export interface AuthConfig {
  /** The key ring as it is now (the file may be rotated while we run). */
  keys: () => KeyRing;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  clockToleranceSeconds: number;
  users: Record<string, string>;
  now: () => number;
}

export function loadAuthConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const ttl = Number(env.TOKEN_TTL_SECONDS ?? 40);
  if (!Number.isSafeInteger(ttl) || ttl <= 0) throw new ConfigError(`TOKEN_TTL_SECONDS must be a whole number of seconds above 0, not ${JSON.stringify(env.TOKEN_TTL_SECONDS)}.`);
  const now = () => Math.floor(Date.now() / 1000);
  return {
    keys: watchedKeyRing(defaultKeyFile(env), now),
    issuer: 'jwt-koa-workshop',
    audience: 'jwt-koa-workshop-api',
    ttlSeconds: ttl,
    clockToleranceSeconds: 5,
    users: DEMO_USERS,
    now,
  };
}

// The users, as in step 06: alice / pyconid as a salted scrypt hash.
const DEMO_USERS: Record<string, string> = {
  alice: 'scrypt$16384$8$1$fLyh3zoFhgIvNe6yHtk1Lg$r-lvpKYe5l8dZ9ozrh74CwW-ms8aE8P2Zv054KyHm6o',
};
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;

async function checkUser(users: Record<string, string>, name: string, password: string): Promise<boolean> {
  const stored = Object.hasOwn(users, name) ? users[name]! : undefined;
  const [, N, r, p, salt, hash] = (stored ?? DUMMY_HASH).split('$');
  const expected = Buffer.from(hash!, 'base64url');
  const actual = await scryptAsync(password, Buffer.from(salt!, 'base64url'), expected.length, { N: Number(N), r: Number(r), p: Number(p) });
  return timingSafeEqual(actual, expected) && stored !== undefined;
}

const CONTROL = /[\u0000-\u001f\u007f]/;
const acceptable = (name: string, password: string) =>
  name.length > 0 && name.length <= 64 && password.length <= 1024 && !CONTROL.test(name) && !CONTROL.test(password);

export function createAuthApp(config: AuthConfig): Koa {
  const app = new Koa();
  const router = new Router();
  app.use(answerErrors);

  // #region login
  router.get('/login', async (ctx) => {
    const credentials = auth.parse(ctx.get('Authorization'));
    if (!credentials || !acceptable(credentials.name, credentials.pass)) throw badCredentials();
    if (!(await checkUser(config.users, credentials.name, credentials.pass))) throw badCredentials();

    const iat = config.now();
    const claims = { sub: credentials.name, iss: config.issuer, aud: config.audience, iat, exp: iat + config.ttlSeconds, jti: randomUUID() };
    // The private key signs; the kid in the header tells verifiers which
    // public key of the JWKS to check it with.
    const { kid, key } = config.keys().signingKey();
    const token = jwt.sign(claims, key, { algorithm: 'ES256', keyid: kid });
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { token, token_type: 'Bearer', expires_in: config.ttlSeconds };
  });
  // #endregion

  // #region jwks
  // RFC 7517 section 5: a JWK Set. Public keys only; verifiers may cache it.
  router.get('/.well-known/jwks.json', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=60');
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
