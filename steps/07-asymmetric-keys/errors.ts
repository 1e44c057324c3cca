// The answers a request gets when it fails: JSON {"error", "message"}, with
// the status and challenge RFC 6750 and RFC 7617 name. Nothing a client sends
// can turn into a 500.
import type Koa from 'koa';

/** A setting that is missing or wrong: the server prints its message and exits 1. */
export class ConfigError extends Error {}

export const REALM = 'jwt-koa-workshop';

export class AuthError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 429 | 503,
    readonly challenge: string | undefined,
    readonly error: string,
    message: string,
    /** Seconds to wait before trying again: Retry-After (RFC 9110 section 10.2.3). */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

// #region bearer-errors
// RFC 6750 section 3: no token -> 401 with a bare challenge; a bad token ->
// 401 invalid_token; a malformed request -> 400 invalid_request. The
// description must not hold `"` or `\` (section 3, error_description).
export function bearerError(
  status: 400 | 401,
  error: 'invalid_token' | 'invalid_request',
  message: string,
): AuthError {
  return new AuthError(
    status,
    `Bearer realm="${REALM}", error="${error}", error_description="${message}"`,
    error,
    message,
  );
}
// #endregion

export const invalidToken = (message: string) =>
  bearerError(401, 'invalid_token', message);

export const missingToken = () =>
  new AuthError(
    401,
    `Bearer realm="${REALM}"`,
    'unauthorized',
    'This resource needs a token: send Authorization: Bearer <token>.',
  );

export const badCredentials = () =>
  // RFC 7617 section 2.1: say the server decodes credentials as UTF-8.
  new AuthError(
    401,
    'Basic realm="Login Required", charset="UTF-8"',
    'unauthorized',
    'Could not verify: the user name or password is wrong.',
  );

export async function answerErrors(
  ctx: Koa.Context,
  next: Koa.Next,
): Promise<void> {
  try {
    await next();
  } catch (err) {
    if (!(err instanceof AuthError)) throw err;
    ctx.status = err.status;
    if (err.challenge) ctx.set('WWW-Authenticate', err.challenge);
    if (err.retryAfter) ctx.set('Retry-After', String(err.retryAfter));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: err.error, message: err.message };
  }
}

// RFC 6585 section 4: 429 with Retry-After, in the JSON of every refusal.
// Answered rather than thrown: in a flood it is most of the server's work,
// and an exception would add a third to its cost (npm run bench).
export function tooManyAttempts(ctx: Koa.Context, seconds: number): void {
  ctx.status = 429;
  ctx.set('Retry-After', String(seconds));
  ctx.set('Cache-Control', 'no-store');
  ctx.body = {
    error: 'too_many_attempts',
    message: `Too many failed logins: try again in ${seconds} s.`,
  };
}
