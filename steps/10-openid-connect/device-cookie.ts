// A device cookie (OWASP, "Slow Down Online Guessing Attacks with Device
// Cookies"): after a sign-in on the provider's page, the browser keeps a
// cookie saying "this client signed in as alice before", and the throttle
// (throttle.ts) lets it through a lock on alice's account. Steps 06-09 sign
// theirs as a JWT with their key; the provider signs it as it signs its own
// cookies, with the cookie keys of its key file (Koa's signed cookies).
import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import type { Proof } from './throttle.ts';

const COOKIE = 'device';
const DAYS = 30;
// Only the login form's posts carry it: /interaction/<uid>/login.
const PATH = '/interaction';

const owner = (name: string) => Buffer.from(name).toString('base64url');

/** The device this request's cookie proves for `name`, if any; `now` in seconds. */
export function deviceProof(
  ctx: Koa.Context,
  name: string,
  now: number,
): Proof {
  // undefined unless its signature (the cookie device.sig) is right
  const value = ctx.cookies.get(COOKIE, { signed: true });
  const [sub, device, exp] = value?.split('.') ?? [];
  return sub === owner(name) && device && Number(exp) > now ? { device } : {};
}

/** After a sign-in: the cookie that proves this client next time. */
export function giveDeviceCookie(
  ctx: Koa.Context,
  name: string,
  proof: Proof,
  now: number,
): void {
  const exp = now + DAYS * 86400;
  ctx.cookies.set(
    COOKIE,
    [owner(name), proof.device ?? randomUUID(), exp].join('.'),
    {
      signed: true,
      path: PATH,
      httpOnly: true,
      sameSite: 'strict', // the form posts from the provider's own page
      secure: ctx.secure,
      maxAge: DAYS * 86400 * 1000,
    },
  );
}
