// Small HTTP helpers for checkpoint tests: one request, the whole answer,
// and in an assertion message both: what was sent, and what came.
import http from 'node:http';
import { thrownAt } from '../../tools/thrown-at.mjs';

export { basic } from '../../tools/token.ts';

/** What a test sent: the method, the path with its query, and the headers it set. */
export interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
}

export interface Answer {
  /** Where the answer came from. */
  url?: string;
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
  /** The request that got this answer. */
  sent?: Sent;
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return request(url, { headers });
}

/**
 * One request; `from`, a loopback address such as 127.0.0.2, is where it
 * comes from (the server sees it as ctx.ip), on a connection of its own.
 */
export async function request(url: string, init: RequestInit = {}, from?: string): Promise<Answer> {
  const sent = {
    method: init.method ?? 'GET',
    headers: Object.fromEntries(new Headers(init.headers)),
  };
  const { body, method, headers, redirect, ...rest } = init;
  const plain =
    url.startsWith('http:') &&
    (body == null || typeof body === 'string' || body instanceof URLSearchParams) &&
    (redirect === undefined || redirect === 'manual') &&
    Object.keys(rest).length === 0;
  if (from && !plain)
    throw new Error(`request() from ${from} sends a string body, and nothing else`);
  if (plain) return send(url, body ?? undefined, sent, from);
  const res = await fetch(url, { redirect: 'manual', ...init });
  return answer(res.url || url, res.status, res.headers, await res.text(), sent);
}

// The tests send thousands of requests to loopback servers: node:http does
// what fetch() does for them at a third of its CPU time. Same defaults as
// fetch (no redirects followed, a body's Content-Type), so the servers see
// the same requests.
function send(
  url: string,
  body: string | URLSearchParams | undefined,
  sent: Omit<Sent, 'path'>,
  from?: string,
): Promise<Answer> {
  const { method, headers } = sent;
  const out: Record<string, string> = { accept: '*/*', 'user-agent': 'node', ...headers };
  if (body !== undefined && !('content-type' in out))
    out['content-type'] =
      typeof body === 'string'
        ? 'text/plain;charset=UTF-8'
        : 'application/x-www-form-urlencoded;charset=UTF-8';
  const payload = body === undefined ? undefined : Buffer.from(String(body));
  if (payload) out['content-length'] = String(payload.length);
  return new Promise((resolve, reject) => {
    const own = from ? { localAddress: from, agent: false } : {};
    const req = http.request(url, { method, headers: out, ...own }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const received = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2)
          received.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
        resolve(
          answer(url, res.statusCode ?? 0, received, Buffer.concat(chunks).toString('utf8'), sent),
        );
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      // A kept-alive connection the server closed as idle just as this
      // request went out on it: the server never read the request, and any
      // client sends it again (as node's documentation of reusedSocket shows).
      if (req.reusedSocket && err.code === 'ECONNRESET')
        send(url, body, sent, from).then(resolve, reject);
      else reject(err);
    });
    req.end(payload);
  });
}

/**
 * An Answer from its parts, for a helper that sends its own way (another
 * source address, a cookie jar): with `sent`, a wrong status names the request.
 */
export function answer(
  url: string,
  status: number,
  headers: Headers,
  text: string,
  sent?: Omit<Sent, 'path'>,
): Answer {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const { pathname, search } = new URL(url);
  return {
    url,
    status,
    headers,
    text,
    json,
    sent: sent && { ...sent, path: `${pathname}${search}` },
  };
}

/** Many statuses in a few words, most frequent first: "45 × 429, 5 × 401". */
export function tally(statuses: number[]): string {
  const counts = new Map<number, number>();
  for (const status of statuses) counts.set(status, (counts.get(status) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([status, count]) => `${count} × ${status}`)
    .join(', ');
}

/** A value cut short: tokens and bodies run long, and the start says what they are. */
const cut = (text: string, width: number) =>
  text.length > width ? `${text.slice(0, width - 3)}...` : text;

/** A header as a learner reads it: Basic credentials decoded, long values cut. */
function header(name: string, value: string): string {
  const credentials = /^basic\s+(\S+)$/i.exec(value)?.[1];
  if (name.toLowerCase() === 'authorization' && credentials) {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    if (/^[\x20-\x7e]*$/.test(decoded))
      return `Authorization: ${value.split(/\s/)[0]} base64(${JSON.stringify(cut(decoded, 40))})`;
  }
  const shown = name.toLowerCase().replace(/(^|-)[a-z]/g, (first) => first.toUpperCase());
  return `${shown}: ${cut(value, 40)}`;
}

/** The request, for assertion messages: "GET /protected with Authorization: Bearer eyJ...". */
export function describeRequest(sent: Sent): string {
  const headers = Object.entries(sent.headers).map(([name, value]) => header(name, value));
  return `${sent.method} ${cut(sent.path, 60)}${headers.length ? ` with ${headers.join(', ')}` : ' without headers'}`;
}

/**
 * What the servers under test threw and did not catch, by origin: a 500 in
 * an assertion message then names the error (serve() in step.ts records them).
 */
const thrown = new Map<string, Error>();

export function noteServerError(url: string, err: Error): void {
  thrown.set(new URL(url).origin, err);
}

/** The answer, for assertion messages: status and the start of the body, and for a 500 what was thrown. */
export function show(answer: Answer): string {
  // A token in the body is cut to its start: the rest of the body says more.
  const text = answer.text.replace(/eyJ[\w-]{16}[\w-]*\.[\w-]*\.[\w-]*/g, (jwt) => cut(jwt, 23));
  // A JSON body as it came, on one line; any other in quotes, whitespace shown.
  const body =
    answer.json === undefined
      ? JSON.stringify(cut(text, 200))
      : cut(text.replace(/\s*\n\s*/g, ' '), 200);
  let origin = '';
  try {
    origin = new URL(answer.url ?? '').origin;
  } catch {
    // no URL: nothing to look up
  }
  const err = answer.status === 500 ? thrown.get(origin) : undefined;
  const where = err && thrownAt(err);
  const cause = err
    ? ` (uncaught ${err.name}: ${err.message.split('\n')[0]!.slice(0, 120)}${where ? `, at ${where}` : ''})`
    : '';
  const sent = answer.sent ? ` to ${describeRequest(answer.sent)}` : '';
  return `got ${answer.status} ${body}${sent}${cause}`;
}
