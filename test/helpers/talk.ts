// Checks shared by the steps that follow the talk (02-05): the Basic login's
// refusals and the token_required rules are the same in each of them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import jwt from 'jsonwebtoken';
import { basic, get, show } from './http.ts';
import { b64, hmacToken, now, unsigned, withPayload } from './tokens.ts';

export const SECRET_KEY = 'indonesia';
export const PASSWORD = 'pyconid';
const CHALLENGE = 'Basic realm="Login Required"';

/** /login refuses every bad credential with the talk's 401. */
export function loginRefusals(server: { url: string }): void {
  const cases: [string, Record<string, string>][] = [
    ['no credentials', {}],
    ['a wrong password', basic('alice', 'wrong')],
    [
      'credentials without a colon',
      { Authorization: `Basic ${Buffer.from('alicepyconid').toString('base64')}` },
    ],
    ['credentials that are not base64', { Authorization: 'Basic %%%not-base64%%%' }],
    ['another scheme than Basic', { Authorization: 'Bearer abc' }],
  ];
  for (const [what, headers] of cases) {
    test(`/login with ${what} answers 401 "Could not verify!" and a Basic challenge`, async () => {
      const res = await get(`${server.url}/login`, headers);
      assert.equal(res.status, 401, `/login with ${what} must answer 401: ${show(res)}`);
      assert.equal(
        res.text,
        'Could not verify!',
        'The 401 body is the talk\'s "Could not verify!" (koa-basic-auth alone says "Unauthorized")',
      );
      assert.equal(
        res.headers.get('www-authenticate'),
        CHALLENGE,
        'The 401 needs WWW-Authenticate: Basic realm="Login Required" (with =, not :), copied from the error koa-basic-auth throws',
      );
    });
  }
}

/** tokenRequired on /protected: the talk's 403 answers, and no input makes it fail with a 500. */
export function tokenRequiredCases(server: { url: string }): void {
  const MESSAGE = 'Only available to people with valid tokens.';
  const valid = () =>
    jwt.sign({ user: 'alice', exp: now() + 40 }, SECRET_KEY, {
      algorithm: 'HS256',
      noTimestamp: true,
    });
  const protectedWith = (query: string) => get(`${server.url}/protected${query}`);

  test('/protected without a token answers 403 "Token is missing"', async () => {
    for (const query of ['', '?token=']) {
      const res = await protectedWith(query);
      assert.equal(res.status, 403, `/protected${query} must answer 403: ${show(res)}`);
      assert.deepEqual(
        res.json,
        { message: 'Token is missing' },
        `/protected${query} must say {"message":"Token is missing"}`,
      );
    }
  });

  test('/protected with a valid token answers 200 and the message', async () => {
    const res = await protectedWith(`?token=${valid()}`);
    assert.equal(
      res.status,
      200,
      `A token signed with "${SECRET_KEY}" that has not expired must pass: ${show(res)}`,
    );
    assert.deepEqual(res.json, { message: MESSAGE });
  });

  test('/protected accepts the token that /login issues', async () => {
    const login = await get(`${server.url}/login`, basic('alice', PASSWORD));
    const token = (login.json as { token?: string } | undefined)?.token;
    assert.ok(token, `/login must answer {"token": ...}: ${show(login)}`);
    const res = await protectedWith(`?token=${encodeURIComponent(token)}`);
    assert.equal(res.status, 200, `The token from /login must open /protected: ${show(res)}`);
  });

  const invalid: [string, () => string][] = [
    [
      'an expired token (exp in the past)',
      () => jwt.sign({ user: 'alice', exp: now() - 10 }, SECRET_KEY, { noTimestamp: true }),
    ],
    [
      'a token signed with another secret',
      () => jwt.sign({ user: 'alice', exp: now() + 40 }, 'not-the-secret'),
    ],
    [
      'a tampered payload with the old signature',
      () => withPayload(valid(), { user: 'admin', exp: now() + 40 }),
    ],
    ['an unsigned token, "alg": "none"', () => unsigned({ user: 'alice', exp: now() + 40 })],
    [
      'HS512 with the right secret (algorithm not pinned)',
      () => jwt.sign({ user: 'alice', exp: now() + 40 }, SECRET_KEY, { algorithm: 'HS512' }),
    ],
    ['a header that is not JSON', () => `${b64('not json')}.${b64({ user: 'alice' })}.sig`],
    [
      'a payload that is not JSON, correctly signed',
      () => hmacToken({ alg: 'HS256', typ: 'JWT' }, '{"user":', SECRET_KEY),
    ],
    ['garbage', () => 'not-a-token'],
    ['an 8 KB token', () => 'a'.repeat(8 * 1024)],
  ];
  for (const [what, make] of invalid) {
    test(`/protected with ${what} answers 403 "Token is invalid!"`, async () => {
      const res = await protectedWith(`?token=${encodeURIComponent(make())}`);
      assert.equal(
        res.status,
        403,
        `${what} must be refused with 403, never 200 or 500: ${show(res)}`,
      );
      assert.deepEqual(
        res.json,
        { message: 'Token is invalid!' },
        `${what} must say {"message":"Token is invalid!"}`,
      );
    });
  }

  test('/protected?token=a&token=b (an array in Koa) answers 403 "Token is invalid!", not 500', async () => {
    const res = await protectedWith(`?token=${valid()}&token=${valid()}`);
    assert.equal(res.status, 403, `Repeated token parameters must be refused: ${show(res)}`);
    assert.deepEqual(res.json, { message: 'Token is invalid!' });
  });
}
