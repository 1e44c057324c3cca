// Checkpoint 03: /login issues an HS256 token {user, exp: now + 40 s}.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import jwt from 'jsonwebtoken';
import { basic, get, show } from './helpers/http.ts';
import { checkpoint, serveStep } from './helpers/step.ts';
import { PASSWORD, SECRET_KEY, loginRefusals } from './helpers/talk.ts';
import { decode, now } from './helpers/tokens.ts';

checkpoint(3, () => {
  const server = serveStep(3);

  async function login(user = 'alice'): Promise<string> {
    const res = await get(`${server.url}/login`, basic(user, PASSWORD));
    assert.equal(res.status, 200, `/login with ${user}:${PASSWORD} must answer 200: ${show(res)}`);
    const token = (res.json as { token?: unknown } | undefined)?.token;
    assert.equal(
      typeof token,
      'string',
      `/login answers {"token": "<jwt>"} now, not {"message": ...}: ${show(res)}`,
    );
    return token as string;
  }

  describe('GET /login issues a token', () => {
    test('the body is exactly {"token": "<jwt>"}', async () => {
      const res = await get(`${server.url}/login`, basic('alice', PASSWORD));
      assert.deepEqual(
        Object.keys((res.json ?? {}) as object),
        ['token'],
        `Only a token in the body: ${show(res)}`,
      );
    });

    test('the header says HS256 and JWT', async () => {
      const { header } = decode(await login());
      assert.deepEqual(header, { alg: 'HS256', typ: 'JWT' }, 'Sign with algorithm HS256');
    });

    test('the payload is {user, exp} with the Basic user name', async () => {
      const { payload } = decode(await login('budi'));
      assert.deepEqual(
        Object.keys(payload).sort(),
        ['exp', 'user'],
        'The talk signs {user, exp}: pass noTimestamp so no iat is added',
      );
      assert.equal(payload.user, 'budi', 'user is the user name from the Basic credentials');
    });

    test('exp is 40 seconds from now, in seconds since the epoch', async () => {
      const before = now();
      const { payload } = decode(await login());
      const exp = payload.exp as number;
      assert.ok(
        Number.isInteger(exp),
        'exp is a whole number of seconds (Date.now() is milliseconds: divide by 1000)',
      );
      assert.ok(
        exp >= before + 39 && exp <= now() + 41,
        `exp must be now + 40 s, got now + ${exp - before} s`,
      );
    });

    test('the token verifies with the secret "indonesia"', async () => {
      const token = await login();
      assert.doesNotThrow(
        () => jwt.verify(token, SECRET_KEY, { algorithms: ['HS256'] }),
        'Sign with the talk\'s secret, "indonesia"',
      );
    });

    loginRefusals(server);
  });
});
