// Small HTTP helpers for checkpoint tests: one request, the whole answer.
export interface Answer {
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
  return { status: res.status, headers: res.headers, text, json };
}

/** An Authorization header for HTTP Basic (RFC 7617): base64 of "user:password". */
export function basic(user: string, password: string): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

/** The answer, for assertion messages: status and the start of the body. */
export function show(answer: Answer): string {
  const body = answer.text.length > 200 ? `${answer.text.slice(0, 200)}...` : answer.text;
  return `got ${answer.status} ${JSON.stringify(body)}`;
}
