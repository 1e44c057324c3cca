// The answers both services give when a request fails: JSON {"error",
// "message"}, with the status and challenge RFC 6750 and RFC 7617 name.
import type Koa from 'koa';

/** A setting that is missing or wrong: the services print its message and exit 1. */
export class ConfigError extends Error {}

export const REALM = 'jwt-koa-workshop';

export class AuthError extends Error {
  constructor(
    readonly status: 400 | 401 | 429 | 503,
    readonly challenge: string | undefined,
    readonly error: string,
    message: string,
    /** Seconds to wait before trying again: the Retry-After header (RFC 9110 section 10.2.3). */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

// RFC 6750 section 3; the description must not hold `"` or `\`.
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

export const missingToken = () =>
  new AuthError(
    401,
    `Bearer realm="${REALM}"`,
    'unauthorized',
    'This resource needs a token: send Authorization: Bearer <token>.',
  );

export const badCredentials = () =>
  new AuthError(401, 'Basic realm="Login Required", charset="UTF-8"', 'unauthorized', 'Could not verify: the user name or password is wrong.');

export async function answerErrors(ctx: Koa.Context, next: Koa.Next): Promise<void> {
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
