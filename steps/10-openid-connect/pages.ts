// The HTML pages of the provider and of the web app: built on the server,
// every value escaped, no script at all, one small stylesheet.
import type Koa from 'koa';
import type { Session } from './session.ts';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text made safe to put in HTML, in an element or in a quoted attribute. */
export const escape = (text: unknown) =>
  String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]!);

// No script may run, styles come from /style.css, no one may frame the page.
// No form-action: the login form's answer is a chain of redirects that ends
// on the web app, another origin, and Chromium applies form-action to each.
export const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

const STYLE = `body { font: 18px/1.5 system-ui, sans-serif; max-width: 40em; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.6em; }
label, input, button { display: block; font: inherit; margin: 0.3em 0; }
input { padding: 0.3em; width: 100%; max-width: 20em; box-sizing: border-box; }
button { padding: 0.3em 1em; }
form { margin: 1em 0; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f4f4f4; padding: 0.5em; }
.error { color: #b00020; }`;

export function servePage(
  ctx: Koa.Context,
  status: number,
  title: string,
  body: string,
): void {
  ctx.status = status;
  ctx.set(SECURITY_HEADERS);
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
${body}
</body>
</html>
`;
}

export function serveStyle(ctx: Koa.Context): void {
  ctx.type = 'text/css; charset=utf-8';
  ctx.set('Cache-Control', 'no-cache');
  ctx.body = STYLE;
}

/** What the API answered to a call the app made for the user. */
export interface ApiAnswer {
  what: string;
  status: number;
  challenge?: string;
  body: string;
}

/** " error: message" of an API's JSON error, for the status line. */
function summary(body: string): string {
  try {
    const { error, message } = JSON.parse(body) as {
      error?: unknown;
      message?: unknown;
    };
    return typeof error === 'string' ? ` ${error}: ${String(message)}` : '';
  } catch {
    return '';
  }
}

/** The web app's one page: signed out, or signed in with the buttons that call the API. */
export function appPage(
  ctx: Koa.Context,
  session: Session | undefined,
  answer?: ApiAnswer,
  notice?: string,
): void {
  const note = notice
    ? `<p class="error" role="alert">${escape(notice)}</p>`
    : '';
  if (!session?.user || !session.tokens) {
    return servePage(
      ctx,
      200,
      'Workshop web app',
      `<h1>Workshop web app</h1>
${note}<p id="user">You are not signed in.</p>
<p><a href="/login">Sign in with the workshop provider</a></p>`,
    );
  }
  const csrf = `<input type="hidden" name="csrf" value="${escape(session.csrf)}">`;
  const result = answer
    ? `<section id="result" aria-live="polite"><h2>The API's answer</h2>
<p id="result-status">${escape(answer.what)} answered ${answer.status}${escape(summary(answer.body))}</p>
<pre id="result-body">${answer.challenge ? `WWW-Authenticate: ${escape(answer.challenge)}\n\n` : ''}${escape(answer.body)}</pre></section>`
    : '';
  servePage(
    ctx,
    200,
    'Workshop web app',
    `<h1>Workshop web app</h1>
${note}<p id="user">Signed in as <strong>${escape(session.user.sub)}</strong></p>
<p>Granted scopes: <code id="scope">${escape(session.tokens.scope)}</code>. The tokens stay on this
server; this browser holds only a session cookie.</p>
<form method="post" action="/read">${csrf}<button type="submit">Read messages (GET /messages)</button></form>
<form method="post" action="/write">${csrf}<label for="text">Message</label>
<input id="text" name="text" value="Hello from ${escape(session.user.sub)}" maxlength="280">
<button type="submit">Post a message (POST /messages)</button></form>
${result}
<form method="post" action="/logout">${csrf}<button type="submit">Sign out</button></form>`,
  );
}
