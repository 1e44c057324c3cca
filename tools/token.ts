// Log in to a running step with HTTP Basic, get its token, and find how the
// step takes it back: the attack lab, the benchmark, the tests and `npm run
// token` (for the shell: TOKEN=$(npm run -s token)) share this.
import { cli, fail, isMain, portArgument } from './cli.ts';

export interface Credentials {
  /** Base URL of the service with /login. */
  loginUrl: string;
  user?: string;
  password?: string;
}

/** An Authorization header for HTTP Basic (RFC 7617): base64 of "user:password". */
export function basic(user: string, password: string): { Authorization: string } {
  return { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

/** GET /login with HTTP Basic; the token of the answer, or an error saying what went wrong. */
export async function loginToken({
  loginUrl,
  user = 'alice',
  password = 'pyconid',
}: Credentials): Promise<string> {
  const url = `${loginUrl.replace(/\/$/, '')}/login`;
  const res = await fetch(url, { headers: basic(user, password) }).catch(() => {
    throw new Error(`Nothing answers at ${url}: is the step running (npm run step <n>)?`);
  });
  const body = (await res.json().catch(() => ({}))) as { token?: unknown };
  if (res.status !== 200 || typeof body.token !== 'string') {
    const why =
      res.status === 401
        ? 'wrong user or password'
        : res.status === 429
          ? 'too many failed logins: wait and try again'
          : res.status === 404
            ? 'this server has no /login (steps 03 to 09 have one; in step 10 you sign in in the browser)'
            : 'does this step issue tokens (steps 03 to 09)?';
    throw new Error(`${url} answered ${res.status} without a token: ${why}`);
  }
  return body.token;
}

/**
 * Where an app takes its token at `protectedUrl` (its /protected): the
 * Authorization header, or ?token= as in the talk; undefined if neither works.
 */
export async function tokenTransport(
  protectedUrl: string,
  token: string,
): Promise<'header' | 'query' | undefined> {
  // Half a minute: the first answers of a step that just started can take
  // that long on a busy machine (the whole test suite on two cores); an app
  // that hangs still does not hang the caller.
  const status = (url: string, headers: Record<string, string> = {}) =>
    fetch(url, { headers, signal: AbortSignal.timeout(30_000) }).then(
      (res) => res.status,
      () => 0,
    );
  if ((await status(protectedUrl, { Authorization: `Bearer ${token}` })) === 200) return 'header';
  if ((await status(`${protectedUrl}?token=${encodeURIComponent(token)}`)) === 200) return 'query';
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
  const { values } = cli(
    usage,
    {
      port: { type: 'string' },
      url: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
    },
    { max: 0 },
  );
  const port = portArgument(values.port) ?? portArgument(process.env.PORT, 'PORT') ?? 3000;
  try {
    console.log(
      await loginToken({
        loginUrl: values.url ?? `http://localhost:${port}`,
        user: values.user,
        password: values.password,
      }),
    );
  } catch (err) {
    fail((err as Error).message);
  }
}
