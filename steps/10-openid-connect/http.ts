// What the web app and the API share: failures as JSON {"error", "message"}
// (never a 500 for bad input), the 503 while the provider is not up, and
// small request bodies read with a limit.
import type Koa from 'koa';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The provider is not up yet (it is the slowest of the three to start), or is down. */
export const unavailable = (message: string) =>
  new HttpError(503, 'temporarily_unavailable', message, {
    'Retry-After': '3',
  });

export async function answerErrors(
  ctx: Koa.Context,
  next: Koa.Next,
): Promise<void> {
  try {
    await next();
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    ctx.status = err.status;
    ctx.set(err.headers);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: err.error, message: err.message };
  }
}

/** The request body as text, refused past `limit` bytes. */
export async function readBody(
  ctx: Koa.Context,
  limit = 4096,
): Promise<string> {
  if (Number(ctx.get('Content-Length') || 0) > limit)
    throw new HttpError(
      413,
      'invalid_request',
      `The body may be ${limit} bytes at most.`,
    );
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit)
      throw new HttpError(
        413,
        'invalid_request',
        `The body may be ${limit} bytes at most.`,
      );
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A form post (application/x-www-form-urlencoded); a field sent twice counts once. */
export async function readForm(ctx: Koa.Context): Promise<URLSearchParams> {
  if (!ctx.is('application/x-www-form-urlencoded'))
    throw new HttpError(
      415,
      'invalid_request',
      'Send the form as application/x-www-form-urlencoded.',
    );
  return new URLSearchParams(await readBody(ctx));
}

/** A JSON object body; anything else is a 400. */
export async function readJson(
  ctx: Koa.Context,
): Promise<Record<string, unknown>> {
  if (!ctx.is('application/json'))
    throw new HttpError(
      415,
      'invalid_request',
      'Send the body as application/json.',
    );
  let value: unknown;
  try {
    value = JSON.parse(await readBody(ctx));
  } catch {
    throw new HttpError(400, 'invalid_request', 'The body is not JSON.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new HttpError(
      400,
      'invalid_request',
      'The body must be a JSON object.',
    );
  return value as Record<string, unknown>;
}
