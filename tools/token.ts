// Log in to a running step and get its token: the attack lab, the benchmark
// and `npm run token` (for the shell: TOKEN=$(npm run -s token)) share this.
import { cli, fail, isMain, portArgument } from './cli.ts';

export interface Credentials {
  /** Base URL of the service with /login. */
  loginUrl: string;
  user?: string;
  password?: string;
}

/** GET /login with HTTP Basic; the token of the answer, or an error saying what went wrong. */
export async function loginToken({ loginUrl, user = 'alice', password = 'pyconid' }: Credentials): Promise<string> {
  const url = `${loginUrl.replace(/\/$/, '')}/login`;
  const res = await fetch(url, { headers: { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } }).catch(() => {
    throw new Error(`Nothing answers at ${url}: is the step running (npm run step <n>)?`);
  });
  const body = (await res.json().catch(() => ({}))) as { token?: unknown };
  if (res.status !== 200 || typeof body.token !== 'string') {
    const why =
      res.status === 401 ? 'wrong user or password' : res.status === 429 ? 'too many failed logins: wait and try again' : res.status === 404 ? 'this server has no /login (steps 03 to 09 have one; in step 10 you sign in in the browser)' : 'does this step issue tokens (steps 03 to 09)?';
    throw new Error(`${url} answered ${res.status} without a token: ${why}`);
  }
  return body.token;
}

/** Where an app takes its token: the Authorization header, or ?token= as in the talk; undefined if neither works. */
export async function tokenTransport(apiUrl: string, token: string): Promise<'header' | 'query' | undefined> {
  const status = (url: string, headers: Record<string, string> = {}) =>
    fetch(url, { headers, signal: AbortSignal.timeout(10_000) }).then((res) => res.status, () => 0);
  if ((await status(`${apiUrl}/protected`, { Authorization: `Bearer ${token}` })) === 200) return 'header';
  if ((await status(`${apiUrl}/protected?token=${encodeURIComponent(token)}`)) === 200) return 'query';
  return undefined;
}

if (isMain(import.meta.url)) {
  const usage = `
Usage: npm run -s token                  log in to the running step as alice and print the token only
       TOKEN=$(npm run -s token)         keep it in the shell (PowerShell: $TOKEN = npm run -s token)
       npm run -s token -- --port 3001   a step on another port (or --url http://host:port)
Options:
  --port <port>      the port of the service with /login (default: PORT, else 3000)
  --url <url>        its base URL instead
  --user <name>      default alice
  --password <pw>    default pyconid`;
  const { values } = cli(usage, { port: { type: 'string' }, url: { type: 'string' }, user: { type: 'string' }, password: { type: 'string' } }, { max: 0 });
  const port = portArgument(values.port) ?? portArgument(process.env.PORT, 'PORT') ?? 3000;
  try {
    console.log(await loginToken({ loginUrl: values.url ?? `http://localhost:${port}`, user: values.user, password: values.password }));
  } catch (err) {
    fail((err as Error).message);
  }
}
