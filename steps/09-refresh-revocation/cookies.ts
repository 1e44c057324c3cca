// The refresh token lives in a cookie, and a browser sends a cookie by
// itself, whichever site asks: the cookie's attributes and a same-origin
// check keep other sites from using it.
import type Koa from 'koa';
import { AuthError } from './errors.ts';
import type { Issued } from './sessions.ts';

const forbidden = (message: string) =>
  new AuthError(403, undefined, 'forbidden', message);

// #region csrf
// A browser sends the cookie by itself, whichever site asks:
// SameSite=Strict stops most of that; a header no form can
// send, and an Origin that is ours, stop the rest.
export const CSRF_HEADER = 'X-Requested-With';
export async function sameOrigin(ctx: Koa.Context, next: Koa.Next) {
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
export const COOKIE = 'refresh_token';

export function setCookie(ctx: Koa.Context, issued: Issued, now: number) {
  ctx.cookies.set(COOKIE, issued.token, {
    path: '/auth',
    httpOnly: true,
    sameSite: 'strict',
    secure: ctx.secure,
    maxAge: (issued.family.exp - now) * 1000,
  });
}
// #endregion

export function clearCookie(ctx: Koa.Context): void {
  ctx.cookies.set(COOKIE, null, {
    path: '/auth',
    httpOnly: true,
    sameSite: 'strict',
    secure: ctx.secure,
  });
}

// The page's lab keeps a thief's copy of the refresh cookie here: in a
// second HttpOnly cookie, so that the page never sees it either.
export const LAB_COOKIE = 'lab_copy';
