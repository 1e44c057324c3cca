// The app, not the browser, sends the user's access token to the API, and
// shows the answer as it came: status, challenge and body.
import type { ApiAnswer } from './pages.ts';

export async function callApi(
  apiUrl: string,
  token: string,
  method: string,
  body?: object,
): Promise<ApiAnswer> {
  const what = `${method} /messages`;
  try {
    const res = await fetch(`${apiUrl}/messages`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body && { 'Content-Type': 'application/json' }),
      },
      body: body && JSON.stringify(body),
      signal: AbortSignal.timeout(3000),
    });
    return {
      what,
      status: res.status,
      challenge: res.headers.get('WWW-Authenticate') ?? undefined,
      body: await res.text(),
    };
  } catch {
    return {
      what,
      status: 503,
      body: `The API at ${apiUrl} cannot be reached.`,
    };
  }
}
