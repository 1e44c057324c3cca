// Checkpoint 01: a Koa server that says hello.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, request, show } from './helpers/http.ts';
import { checkpoint, serveStep } from './helpers/step.ts';

checkpoint(1, () => {
  const server = serveStep(1);

  test('GET / answers 200 "Hello, World!"', async () => {
    const res = await get(`${server.url}/`);
    assert.equal(res.status, 200, `GET / must answer 200: ${show(res)}`);
    assert.equal(res.text, 'Hello, World!', 'The body is exactly "Hello, World!"');
    assert.match(
      res.headers.get('content-type') ?? '',
      /^text\/plain/,
      'A string body is sent as text/plain',
    );
  });

  test('an unknown path answers 404', async () => {
    const res = await get(`${server.url}/nothing-here`);
    assert.equal(res.status, 404, `Only / is routed: ${show(res)}`);
  });

  test('POST / answers 405 with an Allow header (router.allowedMethods())', async () => {
    const res = await request(`${server.url}/`, { method: 'POST' });
    assert.equal(
      res.status,
      405,
      `app.use(router.allowedMethods()) turns a wrong method into 405: ${show(res)}`,
    );
    assert.match(res.headers.get('allow') ?? '', /GET/, 'The Allow header lists GET');
  });
});
