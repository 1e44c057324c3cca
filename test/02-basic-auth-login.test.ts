// Checkpoint 02: three routes, and /login behind HTTP Basic.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { basic, get, show } from './helpers/http.ts';
import { checkpoint, serveStep } from './helpers/step.ts';
import { PASSWORD, loginRefusals } from './helpers/talk.ts';

checkpoint(2, () => {
  const server = serveStep(2);

  test('GET /unprotected answers {"message":"Anyone can view this."}', async () => {
    const res = await get(`${server.url}/unprotected`);
    assert.equal(res.status, 200, `GET /unprotected must answer 200: ${show(res)}`);
    assert.deepEqual(res.json, { message: 'Anyone can view this.' });
    assert.match(
      res.headers.get('content-type') ?? '',
      /^application\/json/,
      'An object body is sent as JSON',
    );
  });

  test('GET /protected is still open in this step and answers its message', async () => {
    const res = await get(`${server.url}/protected`);
    assert.equal(res.status, 200, `Nothing guards /protected yet: ${show(res)}`);
    assert.deepEqual(res.json, { message: 'Only available to people with valid tokens.' });
  });

  describe('GET /login', () => {
    test('any user name with the password pyconid answers {"message":"logged in"}', async () => {
      for (const user of ['alice', 'bob', 'Budi Santoso']) {
        const res = await get(`${server.url}/login`, basic(user, PASSWORD));
        assert.equal(res.status, 200, `${user}:${PASSWORD} must log in: ${show(res)}`);
        assert.deepEqual(res.json, { message: 'logged in' });
      }
    });

    loginRefusals(server);
  });
});
