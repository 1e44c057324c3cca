// Checkpoint 04: tokenRequired guards /protected with ?token=.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { get, show } from './helpers/http.ts';
import { checkpoint, serveStep } from './helpers/step.ts';
import { loginRefusals, tokenRequiredCases } from './helpers/talk.ts';

checkpoint(4, () => {
  const server = serveStep(4);

  test('/unprotected stays open', async () => {
    const res = await get(`${server.url}/unprotected`);
    assert.equal(res.status, 200, `tokenRequired guards /protected only: ${show(res)}`);
    assert.deepEqual(res.json, { message: 'Anyone can view this.' });
  });

  describe('GET /protected with tokenRequired', () => tokenRequiredCases(server));
  describe('GET /login', () => loginRefusals(server));
});
