// Small HTTP helpers for checkpoint tests: one request, the whole answer.
import path from 'node:path';

export interface Answer {
  /** Where the answer came from. */
  url?: string;
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return request(url, { headers });
}

export async function request(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, { redirect: 'manual', ...init });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { url: res.url || url, status: res.status, headers: res.headers, text, json };
}

/** An Authorization header for HTTP Basic (RFC 7617): base64 of "user:password". */
export function basic(user: string, password: string): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
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
  const body = answer.text.length > 200 ? `${answer.text.slice(0, 200)}...` : answer.text;
  let origin = '';
  try {
    origin = new URL(answer.url ?? '').origin;
  } catch {
    // no URL: nothing to look up
  }
  const err = answer.status === 500 ? thrown.get(origin) : undefined;
  const cause = err ? ` (uncaught ${err.name}: ${err.message.split('\n')[0]!.slice(0, 120)}${thrownAt(err)})` : '';
  return `got ${answer.status} ${JSON.stringify(body)}${cause}`;
}

/** Where in the code under test an error was thrown (", at workspace/app.ts:42"), when the stack says. */
function thrownAt(err: Error): string {
  for (const line of (err.stack ?? '').split('\n').slice(1)) {
    const where = /(?:file:\/\/)?((?:[A-Za-z]:)?[^\s()]+\.(?:ts|mjs|js)):(\d+):\d+/.exec(line);
    if (!where || where[1]!.includes('node_modules') || where[1]!.startsWith('node:')) continue;
    return `, at ${path.relative(process.cwd(), where[1]!).replaceAll('\\', '/')}:${where[2]}`;
  }
  return '';
}
