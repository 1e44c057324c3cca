// A device cookie (OWASP, "Slow Down Online Guessing Attacks with Device
// Cookies"): after a login, the client keeps a token saying "this client
// logged in as alice before", and the throttle lets it through a lock on
// alice's account. It is a JWT like the access token, for another audience,
// so that neither can stand in for the other (RFC 8725 section 3.9).
import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import jwt from 'jsonwebtoken';
import type { Config } from './config.ts';
import type { Proof } from './throttle.ts';

const COOKIE = 'device';
const DAYS = 30;
const audience = (config: Config) => `${config.issuer}/device`;

/** The device this request's cookie proves for `name`, if any. */
export function deviceProof(
  ctx: Koa.Context,
  config: Config,
  name: string,
): Proof {
  const token = ctx.cookies.get(COOKIE);
  if (!token || token.length > config.maxTokenLength) return {};
  try {
    const claims = jwt.verify(token, config.key, {
      algorithms: ['HS256'],
      issuer: config.issuer,
      audience: audience(config),
      subject: name,
      clockTimestamp: config.now(),
    }) as { jti?: unknown };
    return typeof claims.jti === 'string' ? { device: claims.jti } : {};
  } catch {
    return {}; // not ours, not alice's, or expired: an unproven client
  }
}

/** After a login: the cookie that proves this client next time. */
export function giveDeviceCookie(
  ctx: Koa.Context,
  config: Config,
  name: string,
  proof: Proof,
): void {
  const iat = config.now();
  const claims = {
    sub: name,
    iss: config.issuer,
    aud: audience(config),
    iat,
    exp: iat + DAYS * 86400,
    jti: proof.device ?? randomUUID(),
  };
  ctx.cookies.set(
    COOKIE,
    jwt.sign(claims, config.key, { algorithm: 'HS256' }),
    {
      path: '/login',
      httpOnly: true,
      sameSite: 'strict',
      secure: ctx.secure,
      maxAge: DAYS * 86400 * 1000,
    },
  );
}
