// Checks shared by the hardened steps (06 onwards): the /login rules and the
// RFC 6750 answers of /protected. Each step says how it signs a token and
// where its services listen; the rules are the same for all of them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { basic, get, show, type Answer } from './http.ts';
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

/** The clock every hardened checkpoint starts at: a fixed second, so tokens are the same each run. */
export const START = 1_800_000_000;

/** A hardened step as the shared rules see it: the workshop's issuer, audience, lifetime and realm. */
export function hardened(options: { alg: string; loginUrl: () => string; apiUrl: () => string; sign: Hardened['sign'] }): Hardened {
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
export function goodClaims(h: Hardened, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { sub: 'alice', iss: h.issuer, aud: h.audience, iat: h.clock.now, exp: h.clock.now + h.ttl, jti: 'test', ...overrides };
}

export function goodHeader(h: Hardened, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { alg: h.alg, typ: 'JWT', ...overrides };
}

export async function loginToken(h: Hardened, user = 'alice', password = 'pyconid'): Promise<string> {
  const res = await get(`${h.loginUrl}/login`, basic(user, password));
  assert.equal(res.status, 200, `/login with ${user}:${password} must answer 200: ${show(res)}`);
  return (res.json as { token: string }).token;
}

function assertBasicRefusal(res: Answer, what: string): void {
  assert.equal(res.status, 401, `/login with ${what} must answer 401: ${show(res)}`);
  assert.equal(res.headers.get('www-authenticate'), 'Basic realm="Login Required", charset="UTF-8"', 'RFC 7617: the Basic challenge says charset="UTF-8"');
  const body = res.json as { error?: unknown; message?: unknown } | undefined;
  assert.ok(typeof body?.error === 'string' && typeof body?.message === 'string', `The 401 body is JSON {"error", "message"}: ${show(res)}`);
}

export function loginRules(h: Hardened): void {
  test('alice:pyconid gets {token, token_type: "Bearer", expires_in}, not cached', async () => {
    const res = await get(`${h.loginUrl}/login`, basic('alice', 'pyconid'));
    assert.equal(res.status, 200, show(res));
    const body = res.json as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['expires_in', 'token', 'token_type'], 'RFC 6749 section 5.1 names the fields');
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, h.ttl, 'expires_in is the token lifetime in seconds');
    assert.equal(res.headers.get('cache-control'), 'no-store', 'A response carrying a token must say Cache-Control: no-store');
  });

  test('the token says sub, iss, aud, iat, exp and jti, and lives the configured lifetime', async () => {
    const { header, payload } = decode(await loginToken(h));
    assert.equal(header.alg, h.alg);
    assert.equal(header.typ, 'JWT');
    assert.equal(payload.sub, 'alice', 'The user goes in the registered claim sub (RFC 7519 section 4.1.2)');
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
    ['credentials without a colon', { Authorization: `Basic ${Buffer.from('alicepyconid').toString('base64')}` }],
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
  assert.match(challenge, new RegExp(`^Bearer realm="${h.realm}", error="invalid_token", error_description="[^"\\\\]+"$`), `${what}: RFC 6750 section 3 wants error="invalid_token" and a description, got ${challenge}`);
  const body = res.json as { error?: unknown; message?: unknown } | undefined;
  assert.equal(body?.error, 'invalid_token', `The body is JSON {"error": "invalid_token", "message": ...}: ${show(res)}`);
  assert.equal(typeof body?.message, 'string');
}

export function bearerRules(h: Hardened): void {
  const call = (headers: Record<string, string>, query = '') => get(`${h.apiUrl}/protected${query}`, headers);
  const token = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => h.sign(goodHeader(h, header), goodClaims(h, claims));

  test('/unprotected is open', async () => {
    const res = await get(`${h.apiUrl}/unprotected`);
    assert.deepEqual(res.json, { message: 'Anyone can view this.' }, show(res));
  });

  test('a token from /login opens /protected, which names the user', async () => {
    const res = await call(bearer(await loginToken(h)));
    assert.equal(res.status, 200, show(res));
    assert.deepEqual(res.json, { message: 'Only available to people with valid tokens.', user: 'alice' });
  });

  test('the Bearer scheme is case-insensitive', async () => {
    for (const scheme of ['bearer', 'BEARER']) {
      const res = await call({ Authorization: `${scheme} ${token()}` });
      assert.equal(res.status, 200, `"${scheme}" must work like "Bearer" (RFC 7235 section 2.1): ${show(res)}`);
    }
  });

  test('no token: 401 with a bare Bearer challenge and no error code', async () => {
    for (const headers of [{}, basic('alice', 'pyconid')]) {
      const res = await call(headers);
      assert.equal(res.status, 401, show(res));
      assert.equal(res.headers.get('www-authenticate'), `Bearer realm="${h.realm}"`, 'RFC 6750 section 3.1: no error code when no token was sent');
      assert.equal(typeof (res.json as { message?: unknown })?.message, 'string', 'Still a JSON body saying what to send');
    }
  });

  test('a token in the query string is refused with 400 invalid_request', async () => {
    for (const name of ['token', 'access_token']) {
      const res = await call({}, `?${name}=${token()}`);
      assert.equal(res.status, 400, `?${name}= must be refused: tokens in URLs leak (RFC 6750 section 5.3): ${show(res)}`);
      assert.equal((res.json as { error?: unknown }).error, 'invalid_request');
      assert.match(String((res.json as { message?: unknown }).message), /Authorization/, 'The message points to the Authorization header');
    }
  });

  test('a malformed Authorization header is 400 invalid_request', async () => {
    for (const value of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer {"x":1}']) {
      const res = await call({ Authorization: value });
      assert.equal(res.status, 400, `"${value}" must answer 400: ${show(res)}`);
      assert.equal((res.json as { error?: unknown }).error, 'invalid_request');
    }
  });

  test('expiry follows the clock: valid until exp plus a few seconds, then invalid_token', async () => {
    const t = token();
    const start = h.clock.now;
    try {
      h.clock.now = start + h.ttl + 2;
      assert.equal((await call(bearer(t))).status, 200, 'A clock tolerance of a few seconds accepts a token just past exp');
      h.clock.now = start + h.ttl + 3600;
      assertInvalidToken(await call(bearer(t)), h, 'A token expired an hour ago (a string clockTolerance would let it pass)');
    } finally {
      h.clock.now = start;
    }
  });

  const forged: [string, () => string][] = [
    ['an expired token', () => token({ iat: h.clock.now - h.ttl - 60, exp: h.clock.now - 60 })],
    ['a token not valid yet (nbf)', () => token({ nbf: h.clock.now + 600 })],
    ['a token issued in the future', () => token({ iat: h.clock.now + 600, exp: h.clock.now + 600 + h.ttl })],
    ['a token living ten years', () => token({ exp: h.clock.now + 10 * 365 * 86400 })],
    ['a token without exp', () => token({ exp: undefined })],
    ['a token without iat', () => token({ iat: undefined })],
    ['a token without sub', () => token({ sub: undefined })],
    ['exp of 1e999 (Infinity)', () => h.sign(goodHeader(h), JSON.stringify(goodClaims(h, { exp: 0 })).replace('"exp":0', '"exp":1e999'))],
    ['another issuer', () => token({ iss: 'https://evil.example' })],
    ['another audience', () => token({ aud: 'another-api' })],
    ['a tampered payload', () => withPayload(token(), goodClaims(h, { sub: 'admin' }))],
    ['a token signed with the talk\'s secret', () => hmacToken({ alg: 'HS256', typ: 'JWT' }, goodClaims(h), 'indonesia')],
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
  for (const [what, make] of forged) {
    test(`/protected refuses ${what} with 401 invalid_token`, async () => {
      assertInvalidToken(await call(bearer(make())), h, what);
    });
  }

  test('an oversized header gets 431 from Node, not a 500', async () => {
    const res = await call(bearer('A'.repeat(20 * 1024)));
    assert.equal(res.status, 431, `Node refuses headers over 16 KB with 431: ${show(res)}`);
  });
}
