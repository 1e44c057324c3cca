// Step 06: the talk's app as it should run in production. The same three
// routes; every change is a rule from an RFC or the OWASP JWT cheat sheet,
// cited where it is applied, in a file of its own:
//   config.ts    the key and the settings      passwords.ts  scrypt hashes
//   throttle.ts  login throttling              device-cookie.ts  who logged in before
//   bearer.ts    the token, from the header    tokens.ts     verifying it
//   errors.ts    RFC 6750 and 7617 answers     verified-tokens.ts  a cache
import { randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import Router from '@koa/router';
import auth from 'basic-auth';
import jwt from 'jsonwebtoken';
import { bearerToken } from './bearer.ts';
import { loadConfig, type Config } from './config.ts';
import { deviceProof, giveDeviceCookie } from './device-cookie.ts';
import {
  answerErrors,
  badCredentials,
  ConfigError,
  tooManyAttempts,
} from './errors.ts';
import { acceptableCredentials, checkUser } from './passwords.ts';
import { verifyToken, type Claims } from './tokens.ts';
import { VerifiedTokens } from './verified-tokens.ts';

export function createApp(config: Config): Koa {
  const app = new Koa();
  const router = new Router();
  const verified = new VerifiedTokens();
  app.use(answerErrors);

  router.get('/unprotected', (ctx) => {
    ctx.body = { message: 'Anyone can view this.' };
  });

  router.get('/protected', (ctx) => {
    const claims = verifyToken(bearerToken(ctx), config, verified);
    ctx.body = {
      message: 'Only available to people with valid tokens.',
      user: claims.sub,
    };
  });

  router.get('/login', async (ctx) => {
    const credentials = auth.parse(ctx.get('Authorization'));
    if (
      !credentials ||
      !acceptableCredentials(credentials.name, credentials.pass)
    )
      throw badCredentials();
    const { name, pass } = credentials;
    // #region throttled-login
    // ctx.ip is the TCP peer: app.proxy stays false, as X-Forwarded-For
    // is anyone's to write.
    const { throttle } = config;
    const proof = deviceProof(ctx, config, name);
    const wait = await throttle.countAttempt(name, ctx.ip, proof);
    if (wait > 0) return tooManyAttempts(ctx, wait);
    const first = throttle.proven(name, ctx.ip, proof);
    const check = () => checkUser(config.users, name, pass);
    if (!(await throttle.inTurn(check, first))) throw badCredentials();
    throttle.loggedIn(name, ctx.ip, proof);
    giveDeviceCookie(ctx, config, name, proof);
    // #endregion

    // #region issue-token
    const iat = config.now();
    const claims: Claims = {
      sub: name, // RFC 7519 section 4.1.2, rather than a private "user"
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
    // #endregion
  });

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
