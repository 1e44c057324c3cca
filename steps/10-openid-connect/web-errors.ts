// How the web app answers what goes wrong: 503 with Retry-After when the
// provider cannot answer (it is starting, down, or its store is), 400 when
// its answer is wrong; a page for browsers, JSON for scripts.
import type Koa from 'koa';
import * as client from 'openid-client';
import { HttpError, unavailable } from './http.ts';
import { escape, servePage } from './pages.ts';

/** The provider did not answer: no connection, a timeout, or a 5xx (its store is down). */
export function providerDown(err: unknown): boolean {
  if (err instanceof TypeError) return true;
  if (err instanceof client.AuthorizationResponseError)
    return err.error === 'temporarily_unavailable';
  if (err instanceof client.ResponseBodyError) return err.status >= 500;
  return (
    err instanceof client.ClientError &&
    (/TIMEOUT|ABORT/.test(err.code ?? '') ||
      (err.cause instanceof Response && err.cause.status >= 500))
  );
}

/** The provider or the network failed (503), or the answer was wrong (400). */
export function signInFailed(err: unknown): HttpError {
  if (providerDown(err)) {
    return unavailable(
      'The OpenID Provider cannot be reached right now: try again in a few seconds.',
    );
  }
  if (
    err instanceof client.ResponseBodyError ||
    err instanceof client.AuthorizationResponseError
  ) {
    return new HttpError(
      400,
      'invalid_request',
      `Sign-in failed: the provider said ${err.error}${err.error_description ? ` (${err.error_description})` : ''}.`,
    );
  }
  const cause =
    err instanceof Error && err.cause instanceof Error
      ? `: ${err.cause.message}`
      : '';
  return new HttpError(
    400,
    'invalid_request',
    `Sign-in failed: ${(err as Error).message}${cause}.`,
  );
}

// Browsers get a page, scripts get JSON; both get the status.
export async function answerErrors(
  ctx: Koa.Context,
  next: Koa.Next,
): Promise<void> {
  try {
    await next();
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    ctx.set(err.headers);
    if (ctx.accepts('json', 'html') === 'html') {
      servePage(
        ctx,
        err.status,
        'Workshop web app',
        `<h1>Something went wrong</h1>
<p class="error" role="alert">${escape(err.message)}</p>
<p><a href="/">Back to the app</a></p>`,
      );
    } else {
      ctx.status = err.status;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: err.error, message: err.message };
    }
  }
}
