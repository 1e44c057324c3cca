// What the room's server says over HTTP besides its API: refusals as JSON
// with a status and a reason, bodies read with a limit, the Bearer credential,
// and the presenter's page served as files, under a strict CSP.
import { timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Koa from 'koa';

/** A refusal: answered as {"error": message} with its status and headers. */
export class RoomError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

// The page runs only its own script, and names reach it as data: even a name
// that is HTML could not run (it is drawn with textContent besides).
export const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/** Whether two secrets are equal, in a time that does not tell how much of them matched. */
export function same(a: string, b: string): boolean {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The Bearer credential of the request (RFC 6750 section 2.1), if any. */
export function bearer(ctx: Koa.Context): string | undefined {
  return /^Bearer +(\S+) *$/i.exec(ctx.get('Authorization'))?.[1];
}

/** The body as JSON, refused past `limit` bytes (413) or when it is not JSON (400). */
export async function readBody(ctx: Koa.Context, limit: number): Promise<unknown> {
  const tooLarge = () => new RoomError(413, `The body may be ${limit} bytes at most.`);
  if (Number(ctx.get('Content-Length') || 0) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new RoomError(400, 'The body is not JSON.');
  }
}

/** Every answer: the security headers, and any failure as JSON, never a stack trace. */
export async function answerErrors(ctx: Koa.Context, next: Koa.Next): Promise<void> {
  ctx.set(SECURITY_HEADERS);
  try {
    await next();
    if (ctx.status === 404 && ctx.body === undefined)
      throw new RoomError(404, `No ${ctx.method} ${ctx.path} here: the API is under /api/.`);
  } catch (err) {
    if (!(err instanceof RoomError)) {
      console.error(err);
      err = new RoomError(500, 'The room failed on this request; it goes on serving others.');
    }
    const { status, message, headers } = err as RoomError;
    ctx.status = status;
    ctx.set(headers);
    ctx.body = { error: message };
  }
}

const PAGE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'page');
const PAGE_FILES: Record<string, [string, string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/room.js': ['room.js', 'text/javascript; charset=utf-8'],
  '/room.css': ['room.css', 'text/css; charset=utf-8'],
};

/** The page's own files: the same for attendees and the presenter, whose key is in the fragment. */
export async function servePage(ctx: Koa.Context, next: Koa.Next): Promise<void> {
  const entry = ctx.method === 'GET' || ctx.method === 'HEAD' ? PAGE_FILES[ctx.path] : undefined;
  if (!entry) return next();
  ctx.type = entry[1];
  ctx.set('Cache-Control', 'no-cache');
  ctx.body = await readFile(path.join(PAGE, entry[0]));
}
