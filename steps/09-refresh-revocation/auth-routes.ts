// The routes sessions add under /auth: refresh, logout, log out everywhere,
// and the page's lab; with the answers they need.
import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import type Router from '@koa/router';
import jwt from 'jsonwebtoken';
import { bearerToken } from './bearer.ts';
import {
  clearCookie,
  COOKIE,
  CSRF_HEADER,
  LAB_COOKIE,
  sameOrigin,
  setCookie,
} from './cookies.ts';
import { AuthError, badCredentials, invalidToken } from './errors.ts';
import type { SessionConfig } from './session-config.ts';
import { OverLimit, REFRESH_TOKEN, Refused, Sessions } from './sessions.ts';
import { StoreUnavailable } from './store.ts';
import { verifyToken, type Claims } from './tokens.ts';
import type { VerifiedTokens } from './verified-tokens.ts';

// The store cannot answer: refuse rather than guess (README.md says why).
// A user past their share of the store: 429 until the day ends.
export async function storeErrors(ctx: Koa.Context, next: Koa.Next) {
  try {
    await next();
  } catch (err) {
    if (err instanceof OverLimit)
      throw new AuthError(
        429,
        undefined,
        'too_many_requests',
        err.message,
        err.retryAfter,
      );
    if (!(err instanceof StoreUnavailable)) throw err;
    throw new AuthError(
      503,
      undefined,
      'temporarily_unavailable',
      'Sessions cannot be checked right now: try again in a few seconds.',
      err.retryAfter,
    );
  }
}

// The page logs in with cookies on, to keep the refresh cookie. A Basic
// challenge would then make the browser pop up its own password dialog:
// the page says X-Requested-With: fetch, and its 401 comes without one.
export function refusedLogin(ctx: Koa.Context): AuthError {
  const err = badCredentials();
  return ctx.get(CSRF_HEADER) === 'fetch'
    ? new AuthError(401, undefined, err.error, err.message)
    : err;
}

/** The claims of a token that can be revoked: it has a jti. */
export function revocable(claims: Claims): Claims & { jti: string } {
  // RFC 7519 section 4.1.7: without a jti, a token cannot be revoked alone.
  const { jti } = claims;
  if (typeof jti !== 'string' || jti === '' || jti.length > 64)
    throw invalidToken('The token needs a jti claim.');
  return { ...claims, jti };
}

/** A new access token for `sub`, as step 06's login made it; a refresh makes one too. */
export function answerToken(
  ctx: Koa.Context,
  config: SessionConfig,
  sub: string,
  iat: number,
): void {
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

export function authRoutes(
  router: Router,
  config: SessionConfig,
  sessions: Sessions,
  verified: VerifiedTokens,
  authenticate: (ctx: Koa.Context) => Promise<Claims>,
): void {
  // A new access token for a refresh token, which rotates.
  async function refresh(ctx: Koa.Context, token: string): Promise<void> {
    const now = config.now();
    try {
      const issued = await sessions.rotate(token, now);
      setCookie(ctx, issued, now);
      answerToken(ctx, config, issued.family.sub, now);
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      clearCookie(ctx);
      throw new AuthError(400, undefined, 'invalid_grant', err.message);
    }
  }

  router.post('/auth/refresh', sameOrigin, (ctx) =>
    refresh(ctx, ctx.cookies.get(COOKIE) ?? ''),
  );

  // The access token sent with a logout, if valid: a logout works without.
  function accessToken(ctx: Koa.Context) {
    if (ctx.get('Authorization') === '') return undefined;
    try {
      return revocable(verifyToken(bearerToken(ctx), config, verified));
    } catch (err) {
      if (err instanceof AuthError) return undefined;
      throw err;
    }
  }

  router.post('/auth/logout', sameOrigin, async (ctx) => {
    const access = accessToken(ctx);
    await sessions.logout(ctx.cookies.get(COOKIE), access, config.now());
    clearCookie(ctx);
    ctx.body = {
      message:
        'Logged out: the refresh token and this access token are revoked.',
    };
  });

  router.post('/auth/logout-everywhere', sameOrigin, async (ctx) => {
    const claims = await authenticate(ctx);
    await sessions.logoutEverywhere(claims.sub, config.now());
    clearCookie(ctx);
    ctx.body = {
      message: `Logged out everywhere: every session of ${claims.sub} is revoked.`,
    };
  });

  // The page's lab: copy the refresh cookie as a thief would, refresh,
  // then replay the copy. It only ever touches this browser's own session;
  // an app of yours has no need of it.
  router.post('/auth/lab/copy', sameOrigin, (ctx) => {
    const token = ctx.cookies.get(COOKIE) ?? '';
    if (!REFRESH_TOKEN.test(token))
      throw new AuthError(
        400,
        undefined,
        'invalid_grant',
        'There is no refresh cookie to copy: log in first.',
      );
    ctx.cookies.set(LAB_COOKIE, token, {
      path: '/auth/lab',
      httpOnly: true,
      sameSite: 'strict',
      secure: ctx.secure,
    });
    ctx.body = {
      message:
        'Copied: the browser keeps the copy in a second HttpOnly cookie.',
    };
  });

  router.post('/auth/lab/replay', sameOrigin, (ctx) =>
    refresh(ctx, ctx.cookies.get(LAB_COOKIE) ?? ''),
  );
}
