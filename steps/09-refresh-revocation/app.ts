// Step 09: step 08's server and page, with access tokens of five minutes and
// a refresh token in an HttpOnly cookie that rotates at every use; logout and
// "log out everywhere" refuse tokens at once, through a store shared by every
// instance. New here: sessions.ts, store.ts, redis-store.ts, cookies.ts,
// auth-routes.ts, session-config.ts and public/; every other file is step 08's.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import Router from '@koa/router';
import auth from 'basic-auth';
import { bearerToken } from './bearer.ts';
import { deviceProof, giveDeviceCookie } from './device-cookie.ts';
import {
  answerToken,
  authRoutes,
  refusedLogin,
  revocable,
  storeErrors,
} from './auth-routes.ts';
import { setCookie } from './cookies.ts';
import {
  answerErrors,
  ConfigError,
  invalidToken,
  tooManyAttempts,
} from './errors.ts';
import { securityHeaders, servePage } from './page.ts';
import { acceptableCredentials, checkUser } from './passwords.ts';
import { loadConfig, type SessionConfig } from './session-config.ts';
import { Sessions } from './sessions.ts';
import { verifyToken } from './tokens.ts';
import { VerifiedTokens } from './verified-tokens.ts';

export function createApp(config: SessionConfig): Koa {
  const app = new Koa();
  const router = new Router();
  const verified = new VerifiedTokens();
  const sessions = new Sessions(config.store, config, config.key);
  // The store's epoch: a token from before it is refused (sessions.ts).
  sessions.begin(config.now()).catch(() => undefined);
  app.use(securityHeaders);
  app.use(answerErrors);
  app.use(storeErrors);
  app.use(servePage);

  router.get('/unprotected', (ctx) => {
    ctx.body = { message: 'Anyone can view this.' };
  });

  // A valid access token of a session that has not logged out.
  async function authenticate(ctx: Koa.Context) {
    const token = verifyToken(bearerToken(ctx), config, verified);
    const claims = revocable(token);
    const revoked = await sessions.revoked(claims, config.now());
    if (revoked) throw invalidToken(revoked);
    return claims;
  }

  router.get('/protected', async (ctx) => {
    const claims = await authenticate(ctx);
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
      throw refusedLogin(ctx);
    const { name, pass } = credentials;
    // ctx.ip is the TCP peer: app.proxy stays false, as X-Forwarded-For
    // is anyone's to write.
    const { throttle } = config;
    const proof = deviceProof(ctx, config, name);
    const wait = await throttle.countAttempt(name, ctx.ip, proof);
    if (wait > 0) return tooManyAttempts(ctx, wait);
    const first = throttle.proven(name, ctx.ip, proof);
    const check = () => checkUser(config.users, name, pass);
    if (!(await throttle.inTurn(check, first))) throw refusedLogin(ctx);
    throttle.loggedIn(name, ctx.ip, proof);
    giveDeviceCookie(ctx, config, name, proof);

    const now = config.now();
    setCookie(ctx, await sessions.start(name, now), now);
    answerToken(ctx, config, name, now);
  });

  authRoutes(router, config, sessions, verified, authenticate);

  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

// Listen when run directly (npx tsx), not when a test imports the app. A bad
// setting is one line and exit 1, never a stack trace.
if (realpathSync(process.argv[1] ?? '.') === fileURLToPath(import.meta.url)) {
  try {
    const config = loadConfig();
    // A Redis that evicts under memory pressure would drop revocations.
    const problem = await config.store.evictionProblem?.();
    if (problem) throw new ConfigError(problem);
    createApp(config).listen(Number(process.env.PORT) || 3000);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}
