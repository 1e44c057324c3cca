// The page: three static files, read from public/ on each request so that an
// edit shows on reload. A fixed list, so no path can reach another file.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Koa from 'koa';

const PUBLIC = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  'public',
);
const PAGE_FILES: Record<string, [file: string, type: string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
};

// #region security-headers
// Scripts and styles only from this origin, none inline: an injected
// <script> cannot run, so cannot read the token held in memory.
export const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; " +
    "connect-src 'self'; img-src 'self'; base-uri 'none'; " +
    "form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};
// #endregion

export async function securityHeaders(
  ctx: Koa.Context,
  next: Koa.Next,
): Promise<void> {
  ctx.set(SECURITY_HEADERS);
  await next();
}

export async function servePage(
  ctx: Koa.Context,
  next: Koa.Next,
): Promise<void> {
  const entry =
    ctx.method === 'GET' || ctx.method === 'HEAD'
      ? PAGE_FILES[ctx.path]
      : undefined;
  if (!entry) return next();
  ctx.type = entry[1];
  ctx.set('Cache-Control', 'no-cache');
  ctx.body = await readFile(path.join(PUBLIC, entry[0]));
}
