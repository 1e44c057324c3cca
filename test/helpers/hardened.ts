// Checks shared by the hardened steps (06 onwards): the /login rules and the
// RFC 6750 answers of /protected. Each step says how it signs a token and
// where its services listen; the rules are the same for all of them.
import assert from 'node:assert/strict';
import { scryptSync } from 'node:crypto';
import { test } from 'node:test';
import { basic, get, request, show, tally, type Answer } from './http.ts';
import { canListenOn } from '../../tools/ports.ts';
import { inProof } from './step.ts';
import { exportedApp, listen, type Listenable } from './step.ts';
import { b64, decode, hmacToken, unsigned, withPayload } from './tokens.ts';

export interface Hardened {
  /** The service with /login. */
  readonly loginUrl: string;
  /** The service with /protected and /unprotected. */
  readonly apiUrl: string;
  /** The algorithm the step signs with. */
  alg: string;
  issuer: string;
  audience: string;
  ttl: number;
  /** The injected clock, in seconds; tests move it instead of sleeping. */
  clock: { now: number };
  /** Sign a header and claims (an object, or raw JSON text) with the step's real key. */
  sign(header: object, claims: unknown): string;
  /** A realm name for the Bearer challenge. */
  realm: string;
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/**
 * alice / pyconid hashed with scrypt at N=1024 instead of the steps' 16384:
 * the login rules need a hundred hashes, and at the real cost they would take
 * seconds of CPU. The steps' own stored hash is tested where it is defined.
 */
export const FAST_USERS: Record<string, string> = (() => {
  const salt = Buffer.from('workshop-tests!!');
  const hash = scryptSync('pyconid', salt, 32, { N: 1024, r: 8, p: 1 });
  return { alice: `scrypt$1024$8$1$${salt.toString('base64url')}$${hash.toString('base64url')}` };
})();

/** A step's config with alice's cheap test hash (FAST_USERS) in place of the step's own. */
export const withFastUsers = <C extends object>(config: C): C =>
  Object.assign(config, { users: FAST_USERS });

/** The clock every hardened checkpoint starts at: a fixed second, so tokens are the same each run. */
export const START = 1_800_000_000;

/** A hardened step as the shared rules see it: the workshop's issuer, audience, lifetime and realm. */
export function hardened(options: {
  alg: string;
  loginUrl: () => string;
  apiUrl: () => string;
  sign: Hardened['sign'];
}): Hardened {
  return {
    get loginUrl() {
      return options.loginUrl();
    },
    get apiUrl() {
      return options.apiUrl();
    },
    alg: options.alg,
    issuer: 'jwt-koa-workshop',
    audience: 'jwt-koa-workshop-api',
    ttl: 40,
    realm: 'jwt-koa-workshop',
    clock: { now: START },
    sign: options.sign,
  };
}

/** Claims that the step accepts, at its clock. */
export function goodClaims(
  h: Hardened,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    sub: 'alice',
    iss: h.issuer,
    aud: h.audience,
    iat: h.clock.now,
    exp: h.clock.now + h.ttl,
    jti: 'test',
    ...overrides,
  };
}

export function goodHeader(
  h: Hardened,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return { alg: h.alg, typ: 'JWT', ...overrides };
}

export async function loginToken(
  h: Hardened,
  user = 'alice',
  password = 'pyconid',
): Promise<string> {
  const res = await get(`${h.loginUrl}/login`, basic(user, password));
  assert.equal(res.status, 200, `/login with ${user}:${password} must answer 200: ${show(res)}`);
  return (res.json as { token: string }).token;
}

function assertBasicRefusal(res: Answer, what: string): void {
  assert.equal(res.status, 401, `/login with ${what} must answer 401: ${show(res)}`);
  assert.equal(
    res.headers.get('www-authenticate'),
    'Basic realm="Login Required", charset="UTF-8"',
    'RFC 7617: the Basic challenge says charset="UTF-8"',
  );
  const body = res.json as { error?: unknown; message?: unknown } | undefined;
  assert.ok(
    typeof body?.error === 'string' && typeof body?.message === 'string',
    `The 401 body is JSON {"error", "message"}: ${show(res)}`,
  );
}

export function loginRules(h: Hardened): void {
  test('alice:pyconid gets {token, token_type: "Bearer", expires_in}, not cached', async () => {
    const res = await get(`${h.loginUrl}/login`, basic('alice', 'pyconid'));
    assert.equal(res.status, 200, show(res));
    const body = res.json as Record<string, unknown>;
    assert.deepEqual(
      Object.keys(body).sort(),
      ['expires_in', 'token', 'token_type'],
      'RFC 6749 section 5.1 names the fields',
    );
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, h.ttl, 'expires_in is the token lifetime in seconds');
    assert.equal(
      res.headers.get('cache-control'),
      'no-store',
      'A response carrying a token must say Cache-Control: no-store',
    );
  });

  test('the token says sub, iss, aud, iat, exp and jti, and lives the configured lifetime', async () => {
    const { header, payload } = decode(await loginToken(h));
    assert.equal(header.alg, h.alg);
    assert.equal(header.typ, 'JWT');
    assert.equal(
      payload.sub,
      'alice',
      'The user goes in the registered claim sub (RFC 7519 section 4.1.2)',
    );
    assert.equal(payload.iss, h.issuer);
    assert.equal(payload.aud, h.audience);
    assert.equal(payload.iat, h.clock.now, 'iat is the time of issue, from the server clock');
    assert.equal(payload.exp, h.clock.now + h.ttl, 'exp is iat plus the lifetime');
    assert.equal(typeof payload.jti, 'string', 'jti gives each token an ID');
    assert.equal('user' in payload, false, 'No private "user" claim any more: sub says it');
  });

  const refusals: [string, Record<string, string>][] = [
    ['no credentials', {}],
    ['a wrong password', basic('alice', 'wrong')],
    ['an unknown user', basic('mallory', 'pyconid')],
    ['an empty user name', basic('', 'pyconid')],
    ['a control character in the user name', basic('ali\u0007ce', 'pyconid')],
    [
      'credentials without a colon',
      { Authorization: `Basic ${Buffer.from('alicepyconid').toString('base64')}` },
    ],
    ['credentials that are not base64', { Authorization: 'Basic %%%' }],
    ['a 10 KB user name', basic('a'.repeat(10 * 1024), 'pyconid')],
  ];
  for (const [what, headers] of refusals) {
    test(`/login refuses ${what} with 401, JSON and a UTF-8 Basic challenge`, async () => {
      assertBasicRefusal(await get(`${h.loginUrl}/login`, headers), what);
    });
  }
}

function assertInvalidToken(res: Answer, h: Hardened, what: string): void {
  assert.equal(res.status, 401, `${what} must be refused with 401: ${show(res)}`);
  const challenge = res.headers.get('www-authenticate') ?? '';
  assert.match(
    challenge,
    new RegExp(`^Bearer realm="${h.realm}", error="invalid_token", error_description="[^"\\\\]+"$`),
    `${what}: RFC 6750 section 3 wants error="invalid_token" and a description, got ${challenge}`,
  );
  const body = res.json as { error?: unknown; message?: unknown } | undefined;
  assert.equal(
    body?.error,
    'invalid_token',
    `The body is JSON {"error": "invalid_token", "message": ...}: ${show(res)}`,
  );
  assert.equal(
    typeof body?.message,
    'string',
    `The body says what is wrong in "message": ${show(res)}`,
  );
}

/** Every rule of /protected: the Bearer header, then the token's claims. */
export function bearerRules(h: Hardened): void {
  bearerHeaderRules(h);
  claimRules(h);
}

const caller =
  (h: Hardened) =>
  (headers: Record<string, string>, query = '') =>
    get(`${h.apiUrl}/protected${query}`, headers);
const signer =
  (h: Hardened) =>
  (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
    h.sign(goodHeader(h, header), goodClaims(h, claims));

/** How /protected takes its token: the Authorization header only, and RFC 6750's answers. */
export function bearerHeaderRules(h: Hardened): void {
  const call = caller(h);
  const token = signer(h);

  test('/unprotected is open', async () => {
    const res = await get(`${h.apiUrl}/unprotected`);
    assert.deepEqual(res.json, { message: 'Anyone can view this.' }, show(res));
  });

  test('a token from /login opens /protected, which names the user', async () => {
    const res = await call(bearer(await loginToken(h)));
    assert.equal(res.status, 200, show(res));
    assert.deepEqual(res.json, {
      message: 'Only available to people with valid tokens.',
      user: 'alice',
    });
  });

  test('the Bearer scheme is case-insensitive', async () => {
    for (const scheme of ['bearer', 'BEARER']) {
      const res = await call({ Authorization: `${scheme} ${token()}` });
      assert.equal(
        res.status,
        200,
        `"${scheme}" must work like "Bearer" (RFC 7235 section 2.1): ${show(res)}`,
      );
    }
  });

  test('no token: 401 with a bare Bearer challenge and no error code', async () => {
    for (const headers of [{}, basic('alice', 'pyconid')]) {
      const res = await call(headers);
      assert.equal(res.status, 401, show(res));
      assert.equal(
        res.headers.get('www-authenticate'),
        `Bearer realm="${h.realm}"`,
        'RFC 6750 section 3.1: no error code when no token was sent',
      );
      assert.equal(
        typeof (res.json as { message?: unknown })?.message,
        'string',
        'Still a JSON body saying what to send',
      );
    }
  });

  test('a token in the query string is refused with 400 invalid_request', async () => {
    for (const name of ['token', 'access_token']) {
      const res = await call({}, `?${name}=${token()}`);
      assert.equal(
        res.status,
        400,
        `?${name}= must be refused: tokens in URLs leak (RFC 6750 section 5.3): ${show(res)}`,
      );
      assert.equal((res.json as { error?: unknown }).error, 'invalid_request');
      assert.match(
        String((res.json as { message?: unknown }).message),
        /Authorization/,
        'The message points to the Authorization header',
      );
    }
  });

  test('a malformed Authorization header is 400 invalid_request', async () => {
    for (const value of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer {"x":1}']) {
      const res = await call({ Authorization: value });
      assert.equal(res.status, 400, `"${value}" must answer 400: ${show(res)}`);
      assert.equal((res.json as { error?: unknown }).error, 'invalid_request');
    }
  });

  test('an oversized header gets 431 from Node, not a 500', async () => {
    const res = await call(bearer('A'.repeat(20 * 1024)));
    assert.equal(res.status, 431, `Node refuses headers over 16 KB with 431: ${show(res)}`);
  });
}

/** What /protected checks in a token: signature, header, issuer, audience, times. */
export function claimRules(h: Hardened): void {
  const call = caller(h);
  const token = signer(h);

  test('expiry follows the clock: valid until exp plus a few seconds, then invalid_token', async () => {
    const t = token();
    const start = h.clock.now;
    try {
      h.clock.now = start + h.ttl + 2;
      assert.equal(
        (await call(bearer(t))).status,
        200,
        'A clock tolerance of a few seconds accepts a token just past exp',
      );
      h.clock.now = start + h.ttl + 3600;
      assertInvalidToken(
        await call(bearer(t)),
        h,
        'A token expired an hour ago (a string clockTolerance would let it pass)',
      );
    } finally {
      h.clock.now = start;
    }
  });

  for (const [what, make] of forgedTokens(h)) {
    test(`/protected refuses ${what} with 401 invalid_token`, async () => {
      // A good token sent the same way gets in first: else the refusal could
      // be for the way it came (a Bearer header not read), not for what it says.
      const good = await call(bearer(token()));
      assert.equal(
        good.status,
        200,
        `A good token in the same header must open /protected, or refusing ${what} shows nothing: ${show(good)}`,
      );
      assertInvalidToken(await call(bearer(make())), h, what);
    });
  }
}

/** Tokens a hardened /protected must refuse, each with what is wrong with it. */
export function forgedTokens(h: Hardened): [string, () => string][] {
  const token = signer(h);
  return [
    ['an expired token', () => token({ iat: h.clock.now - h.ttl - 60, exp: h.clock.now - 60 })],
    ['a token not valid yet (nbf)', () => token({ nbf: h.clock.now + 600 })],
    [
      'a token issued in the future',
      () => token({ iat: h.clock.now + 600, exp: h.clock.now + 600 + h.ttl }),
    ],
    ['a token living ten years', () => token({ exp: h.clock.now + 10 * 365 * 86400 })],
    ['a token without exp', () => token({ exp: undefined })],
    ['exp not a whole second', () => token({ exp: h.clock.now + 10.5 })],
    ['iat not a whole second', () => token({ iat: h.clock.now - 0.5 })],
    ['a token without iat', () => token({ iat: undefined })],
    ['a token without sub', () => token({ sub: undefined })],
    [
      'exp of 1e999 (Infinity)',
      () =>
        h.sign(
          goodHeader(h),
          JSON.stringify(goodClaims(h, { exp: 0 })).replace('"exp":0', '"exp":1e999'),
        ),
    ],
    ['another issuer', () => token({ iss: 'https://evil.example' })],
    ['another audience', () => token({ aud: 'another-api' })],
    ['a tampered payload', () => withPayload(token(), goodClaims(h, { sub: 'admin' }))],
    [
      "a token signed with the talk's secret",
      () => hmacToken({ alg: 'HS256', typ: 'JWT' }, goodClaims(h), 'indonesia'),
    ],
    ['a payload that is a JSON string', () => h.sign(goodHeader(h), '"alice"')],
    ['a payload that is an array', () => h.sign(goodHeader(h), [1, 2])],
    ['a payload that is not JSON', () => h.sign(goodHeader(h), '{"sub":')],
    ['a header that is not JSON', () => `${b64('{"alg":')}.${b64(goodClaims(h))}.AAAA`],
    ['a header without typ', () => h.sign({ alg: h.alg }, goodClaims(h))],
    ['a header with kid', () => token({}, { kid: '../../dev/null' })],
    ['a header with an embedded jwk', () => token({}, { jwk: { kty: 'oct', k: 'AAAA' } })],
    ['a header with jku', () => token({}, { jku: 'https://evil.example/jwks.json' })],
    ['a header with x5u', () => token({}, { x5u: 'https://evil.example/cert.pem' })],
    ['a header with crit', () => token({}, { crit: ['exp'] })],
    ['alg none', () => unsigned(goodClaims(h), 'none')],
    ['alg None', () => unsigned(goodClaims(h), 'None')],
    ['alg NONE', () => unsigned(goodClaims(h), 'NONE')],
    ['alg nOnE', () => unsigned(goodClaims(h), 'nOnE')],
    ['the signature stripped', () => token().split('.').slice(0, 2).join('.') + '.'],
    ['a truncated signature', () => token().slice(0, -6)],
    ['two parts only', () => token().split('.').slice(0, 2).join('.')],
    ['a 5000-character token', () => `${token()}${'A'.repeat(5000)}`],
  ];
}

// Login throttling: the limits every hardened login service keeps.

/** Failures allowed within `within` seconds, then `wait` seconds of 429 (the steps' Limit). */
export interface Limit {
  failures: number;
  within: number;
  wait: number;
}

export interface LoginLimits {
  accountAtAddress: Limit;
  address: Limit;
  account: Limit;
  concurrentHashes: number;
  waitingHashes: number;
  refusalPauseMs: number;
}

/** The steps' LoginThrottle, as the tests use it. */
export interface Throttle {
  inTurn<T>(work: () => Promise<T>, first?: boolean): Promise<T>;
}

/** A clock a test moves: the throttle reads it instead of Date.now(). */
export class TestClock {
  seconds = 1_000_000;
  readonly now = () => this.seconds;
  advance(seconds: number): void {
    this.seconds += seconds;
  }
}

/** Whether tests can send from 127.0.0.2 and on (see canListenOn): asked once. */
let otherAddresses: Promise<boolean> | undefined;
export function canUseOtherLoopbackAddresses(): Promise<boolean> {
  otherAddresses ??= canListenOn('127.0.0.2');
  return otherAddresses;
}

export interface ThrottledStep {
  /** The step's login service with these limits and this clock, and the throttle it counts with. */
  serve(limits: LoginLimits, now: () => number): { app: Listenable; throttle: Throttle };
  /** The step's own limits. */
  limits(): LoginLimits;
}

/** What steps 06, 08 and 09 export for throttling: step 06's app.ts, as they share it. */
export interface HmacLoginStep {
  loadConfig(env: Record<string, string>): { users: Record<string, string>; throttle: Throttle };
  createApp(config: never): unknown;
  LoginThrottle: new (limits: LoginLimits, now: () => number) => Throttle;
  LOGIN_LIMITS: LoginLimits;
}

/** The throttling rules for step 06's app.ts, or a step that carries it (08, 09), loaded as `step()`. */
export function hmacThrottleRules(n: number, step: () => HmacLoginStep, secret: string): void {
  throttleRules({
    limits: () => step().LOGIN_LIMITS,
    serve: (limits, now) => {
      const config = step().loadConfig({ JWT_SECRET: secret });
      // Cheap hashes (see FAST_USERS): the rules hash a hundred times.
      Object.assign(config, {
        users: FAST_USERS,
        throttle: new (step().LoginThrottle)(limits, now),
      });
      return {
        app: exportedApp({ app: step().createApp(config as never) }, n),
        throttle: config.throttle,
      };
    },
  });

  test('a device cookie from a login lets alice through a lock on her account, and is no access token', async (t) => {
    if (inProof) return;
    if (!(await canUseOtherLoopbackAddresses()))
      return t.skip('this system has no loopback address but 127.0.0.1');
    const limits = {
      ...step().LOGIN_LIMITS,
      refusalPauseMs: 0,
      account: { failures: 3, within: 900, wait: 60 },
    };
    const config = step().loadConfig({ JWT_SECRET: secret });
    Object.assign(config, {
      users: FAST_USERS,
      throttle: new (step().LoginThrottle)(limits, new TestClock().now),
    });
    const running = await listen(exportedApp({ app: step().createApp(config as never) }, n));
    const login = (from: string, password: string, cookie = '') =>
      request(
        `${running.url}/login`,
        {
          headers: {
            ...basic('alice', password),
            ...(cookie ? { Cookie: `device=${cookie}` } : {}),
          },
        },
        from,
      );
    try {
      const first = await login('127.0.0.1', 'pyconid');
      const cookie = /device=([^;,\s]+)/.exec(first.headers.get('set-cookie') ?? '')?.[1];
      assert.ok(
        cookie,
        `A login sets a "device" cookie that proves this client next time; Set-Cookie: ${first.headers.get('set-cookie') ?? 'none'} (status ${first.status})`,
      );
      for (let i = 1; i <= 4; i++) await login('127.0.0.2', `guess-${i}`);
      const stranger = await login('127.0.0.3', 'pyconid');
      assert.equal(
        stranger.status,
        429,
        `With the account's limit (3) tripped, a client never seen before waits: ${show(stranger)}`,
      );
      const proven = await login('127.0.0.3', 'pyconid', cookie);
      assert.equal(
        proven.status,
        200,
        `The same request with alice's device cookie logs in, from any address: ${show(proven)}`,
      );
      const forged = await login('127.0.0.4', 'pyconid', `${cookie.slice(0, -3)}AAA`);
      assert.equal(
        forged.status,
        429,
        `A device cookie with a wrong signature proves nothing: ${show(forged)}`,
      );
      const asToken = await get(`${running.url}/protected`, { Authorization: `Bearer ${cookie}` });
      assert.equal(
        asToken.status,
        401,
        `A device cookie is a JWT for another audience: /protected must refuse it (RFC 8725 section 3.9): ${show(asToken)}`,
      );
    } finally {
      await running.close();
    }
  });
}

function assertTooMany(res: Answer, what: string, longest: number): void {
  assert.equal(
    res.status,
    429,
    `${what} must answer 429 Too Many Requests (RFC 6585 section 4): ${show(res)}`,
  );
  const retry = res.headers.get('retry-after') ?? '';
  assert.match(
    retry,
    /^[0-9]+$/,
    `A 429 says when to try again: Retry-After in whole seconds, got ${JSON.stringify(retry)}`,
  );
  assert.ok(
    Number(retry) >= 1 && Number(retry) <= longest,
    `Retry-After is between 1 and the limit's wait of ${longest} s, got ${retry}`,
  );
  const body = res.json as { error?: unknown; message?: unknown } | undefined;
  assert.equal(
    body?.error,
    'too_many_attempts',
    `The 429 body is JSON {"error": "too_many_attempts", "message"}, like every other refusal: ${show(res)}`,
  );
  assert.equal(typeof body?.message, 'string', 'The 429 body has a message');
  assert.equal(res.headers.get('cache-control'), 'no-store', 'A refusal is not cached');
}

export function throttleRules(step: ThrottledStep): void {
  /** Run `body` against a fresh login service with `limits` (the step's own by default). */
  async function withLogin(
    body: (url: string, clock: TestClock, limits: LoginLimits) => Promise<void>,
    change: Partial<LoginLimits> = {},
  ): Promise<void> {
    // No pause before a 429 (a second by default), unless the test is about it.
    const limits = { ...step.limits(), refusalPauseMs: 0, ...change };
    const clock = new TestClock();
    const { app } = step.serve(limits, clock.now);
    const running = await listen(app);
    try {
      await body(running.url, clock, limits);
    } finally {
      await running.close();
    }
  }
  const login = (url: string, from: string, user: string, password: string) =>
    request(`${url}/login`, { headers: basic(user, password) }, from);

  test('the limits: 5 misses at one account from one address, then a short wait; hashing two at a time', () => {
    const limits = step.limits();
    assert.equal(
      limits.accountAtAddress.failures,
      5,
      'Five wrong passwords at one account from one address are plenty for a person who mistypes',
    );
    assert.ok(limits.accountAtAddress.wait <= 3600, 'That lockout lasts minutes, not days');
    assert.ok(
      limits.account.wait <= 300,
      'A limit on one account from every address must be short: anyone can trip it, and alice is then kept out too',
    );
    assert.ok(
      limits.concurrentHashes >= 1 && limits.concurrentHashes < 4,
      "Fewer hashes at once than libuv's 4 threads, so file reads and DNS still get one",
    );
  });

  test('after 5 wrong passwords from one address: 429 with Retry-After, even for the right password', async () => {
    await withLogin(async (url, _throttle, limits) => {
      for (let i = 1; i <= 5; i++) {
        const res = await login(url, '127.0.0.1', 'alice', `guess-${i}`);
        assert.equal(res.status, 401, `Wrong password ${i} of 5 is an ordinary 401: ${show(res)}`);
      }
      assertTooMany(
        await login(url, '127.0.0.1', 'alice', 'guess-6'),
        'The 6th wrong password',
        limits.accountAtAddress.wait,
      );
      assertTooMany(
        await login(url, '127.0.0.1', 'alice', 'pyconid'),
        'The right password during the lockout (or a guess would be confirmed)',
        limits.accountAtAddress.wait,
      );
    });
  });

  // The other lockouts cost hashes and pauses: the checkpoint proof stops at
  // the first, which is what sees a login service that does not throttle.
  if (inProof) return;

  test('an unknown user is counted like a real one, so a 429 tells nothing about who exists', async () => {
    await withLogin(async (url, _throttle, limits) => {
      for (let i = 1; i <= 5; i++) await login(url, '127.0.0.1', 'mallory', `guess-${i}`);
      assertTooMany(
        await login(url, '127.0.0.1', 'mallory', 'guess-6'),
        'The 6th guess at a user who does not exist',
        limits.accountAtAddress.wait,
      );
    });
  });

  test('50 wrong passwords at once: 5 are checked, 45 refused with 429 before any hashing', async () => {
    await withLogin(async (url) => {
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) => login(url, '127.0.0.1', 'alice', `flood-${i}`)),
      );
      const statuses = answers.map((res) => res.status);
      assert.equal(
        statuses.filter((s) => s === 401).length,
        5,
        `Each attempt is counted before its hash, so only 5 get as far as a 401, got ${tally(statuses)}`,
      );
      assert.equal(
        statuses.filter((s) => s === 429).length,
        45,
        `The other 45 get 429 at once, got ${tally(statuses)}`,
      );
    });
  });

  test('the lockout lasts its wait, no longer: then alice logs in from that address again', async () => {
    await withLogin(async (url, clock, limits) => {
      for (let i = 1; i <= 6; i++) await login(url, '127.0.0.1', 'alice', `guess-${i}`);
      clock.advance(limits.accountAtAddress.wait - 2);
      assertTooMany(
        await login(url, '127.0.0.1', 'alice', 'pyconid'),
        'Two seconds before the wait is over',
        2,
      );
      clock.advance(2);
      const res = await login(url, '127.0.0.1', 'alice', 'pyconid');
      assert.equal(
        res.status,
        200,
        `Once ${limits.accountAtAddress.wait} s have passed the right password works again: ${show(res)}`,
      );
    });
  });

  test('a right password wipes the count: 4 misses, a login, 4 misses is no lockout', async () => {
    await withLogin(async (url) => {
      for (const password of ['a', 'b', 'c', 'd', 'pyconid', 'e', 'f', 'g', 'h', 'pyconid']) {
        const res = await login(url, '127.0.0.1', 'alice', password);
        assert.equal(
          res.status,
          password === 'pyconid' ? 200 : 401,
          `alice mistyping now and then is never locked out (password ${password}): ${show(res)}`,
        );
      }
    });
  });

  test('one address trying many accounts is stopped by the per-address limit', async () => {
    await withLogin(
      async (url, _throttle, limits) => {
        for (const user of ['ann', 'bob', 'cat'])
          assert.equal(
            (await login(url, '127.0.0.1', user, 'password1')).status,
            401,
            `${user}: an ordinary 401`,
          );
        assertTooMany(
          await login(url, '127.0.0.1', 'dan', 'password1'),
          'A 4th account from the same address, with the per-address limit lowered to 3',
          limits.address.wait,
        );
        assertTooMany(
          await login(url, '127.0.0.1', 'alice', 'pyconid'),
          'alice from that address, while it is refused',
          limits.address.wait,
        );
      },
      { address: { failures: 3, within: 3600, wait: 600 } },
    );
  });

  test('many misses at one account: 429 for the short account wait, then alice is back', async () => {
    await withLogin(
      async (url, clock, limits) => {
        for (let i = 1; i <= 3; i++) await login(url, '127.0.0.1', 'alice', `guess-${i}`);
        assertTooMany(
          await login(url, '127.0.0.1', 'alice', 'pyconid'),
          'alice after 3 misses, with the per-account limit lowered to 3',
          limits.account.wait,
        );
        clock.advance(limits.account.wait);
        const res = await login(url, '127.0.0.1', 'alice', 'pyconid');
        assert.equal(
          res.status,
          200,
          `After the account's ${limits.account.wait} s wait alice gets in: ${show(res)}`,
        );
      },
      { account: { failures: 3, within: 900, wait: 60 } },
    );
  });

  test('a lockout at one address does not keep alice out from another', async (t) => {
    if (!(await canUseOtherLoopbackAddresses()))
      return t.skip(
        'this system has no loopback address but 127.0.0.1 (macOS: sudo ifconfig lo0 alias 127.0.0.2)',
      );
    await withLogin(async (url, _throttle, limits) => {
      for (let i = 1; i <= 6; i++) await login(url, '127.0.0.2', 'alice', `guess-${i}`);
      assertTooMany(
        await login(url, '127.0.0.2', 'alice', 'pyconid'),
        "The attacker's address",
        limits.accountAtAddress.wait,
      );
      const res = await login(url, '127.0.0.1', 'alice', 'pyconid');
      assert.equal(
        res.status,
        200,
        `alice at 127.0.0.1 is not the attacker at 127.0.0.2: ${show(res)}`,
      );
    });
  });

  test('a guessing flood on alice from 24 addresses does not lock out alice where she logged in before', async (t) => {
    if (!(await canUseOtherLoopbackAddresses()))
      return t.skip(
        'this system has no loopback address but 127.0.0.1 (macOS: sudo ifconfig lo0 alias 127.0.0.2)',
      );
    await withLogin(async (url, _clock, limits) => {
      const before = await login(url, '127.0.0.1', 'alice', 'pyconid');
      assert.equal(before.status, 200, `alice logs in before the flood: ${show(before)}`);
      // 8 connections from each of 127.0.0.2-25, all guessing at once, and
      // alice logging in again in the middle of it.
      const flood = Array.from({ length: 24 * 8 }, (_, i) =>
        login(url, `127.0.0.${2 + (i % 24)}`, 'alice', `guess-${i}`),
      );
      const alice = login(url, '127.0.0.1', 'alice', 'pyconid');
      const statuses = (await Promise.all(flood)).map((res) => res.status);
      assert.ok(
        statuses.filter((s) => s === 429).length > 24 * 8 - limits.account.failures - 1,
        `The flood trips the account's limit of ${limits.account.failures}: got ${tally(statuses)}`,
      );
      const during = await alice;
      assert.equal(
        during.status,
        200,
        `alice, from the address she logged in from before, is not locked out by a flood from elsewhere: ${show(during)}`,
      );
      const stranger = await login(url, '127.0.0.30', 'alice', 'pyconid');
      assert.equal(
        stranger.status,
        429,
        `A client that never logged in as alice waits out the account's lock, even with the right password: ${show(stranger)}`,
      );
    });
  });

  test('a refused attempt waits for its 429, so that a flood slows down', async () => {
    await withLogin(
      async (url) => {
        for (let i = 1; i <= 5; i++) await login(url, '127.0.0.1', 'alice', `guess-${i}`);
        const start = performance.now();
        const res = await login(url, '127.0.0.1', 'alice', 'guess-6');
        assert.equal(res.status, 429, show(res));
        assert.ok(
          performance.now() - start >= 150,
          `The 429 comes after the configured pause (200 ms here), not at once: ${Math.round(performance.now() - start)} ms`,
        );
      },
      { refusalPauseMs: 200 },
    );
    assert.ok(
      step.limits().refusalPauseMs >= 500,
      "By default a refused attempt waits long enough that a flood's connections each cost little",
    );
  });

  test('X-Forwarded-For is not trusted: a client cannot pick the address it is counted under', async () => {
    await withLogin(async (url, _throttle, limits) => {
      for (let i = 1; i <= 6; i++)
        await request(`${url}/login`, {
          headers: { ...basic('alice', `guess-${i}`), 'X-Forwarded-For': `10.0.0.${i}` },
        });
      assertTooMany(
        await request(`${url}/login`, {
          headers: { ...basic('alice', 'pyconid'), 'X-Forwarded-For': '10.0.0.99' },
        }),
        'A new X-Forwarded-For each time',
        limits.accountAtAddress.wait,
      );
    });
  });

  test('hashes take turns: 2 at once, the next ones wait, and past the queue 503', async () => {
    const { throttle } = step.serve(
      { ...step.limits(), concurrentHashes: 2, waitingHashes: 1 },
      new TestClock().now,
    );
    let running = 0;
    let most = 0;
    const releases: (() => void)[] = [];
    const work = () =>
      new Promise<boolean>((resolve) => {
        running++;
        most = Math.max(most, running);
        releases.push(() => {
          running--;
          resolve(false);
        });
      });
    const first = [throttle.inTurn(work), throttle.inTurn(work), throttle.inTurn(work)];
    await assert.rejects(
      throttle.inTurn(work),
      (err: { status?: number; retryAfter?: number }) =>
        err.status === 503 && err.retryAfter !== undefined,
      'A 4th hash with 2 running and 1 waiting is refused with 503 and Retry-After',
    );
    assert.equal(running, 2, 'Only 2 hashes run at once');
    while (releases.length > 0) {
      releases.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(first);
    assert.equal(most, 2, 'Never more than 2 at once');
    assert.equal(running, 0, 'The one that waited ran once a turn was free');
  });
}
