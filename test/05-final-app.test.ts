// Checkpoint 05: the talk's final app, one file, tokenRequired exported.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import Koa from 'koa';
import { get, show } from './helpers/http.ts';
import { checkpoint, codeDir, importStep, serve, serveStep } from './helpers/step.ts';
import { loginRefusals, tokenRequiredCases } from './helpers/talk.ts';

checkpoint(5, () => {
  const server = serveStep(5);

  test('the final app is one file: app.ts imports npm packages and Node built-ins only', () => {
    const source = readFileSync(path.join(codeDir(5), 'app.ts'), 'utf8');
    const local = [...source.matchAll(/from\s+['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]);
    assert.deepEqual(
      local,
      [],
      `Like flaskdemo.py, everything lives in app.ts: fold ${local.join(', ')} into it`,
    );
  });

  describe('tokenRequired is exported and guards any route it is put on', () => {
    const guarded = serve(async () => {
      const { tokenRequired } = await importStep(5);
      assert.equal(
        typeof tokenRequired,
        'function',
        'app.ts must export the middleware: export const tokenRequired: Koa.Middleware = ...',
      );
      const app = new Koa();
      app.use(tokenRequired as Koa.Middleware);
      app.use((ctx) => {
        ctx.body = { message: 'reached' };
      });
      return app;
    });

    test('without a token the route is not reached', async () => {
      const res = await get(`${guarded.url}/anything`);
      assert.equal(
        res.status,
        403,
        `tokenRequired on its own must stop a request without a token: ${show(res)}`,
      );
      assert.deepEqual(res.json, { message: 'Token is missing' });
    });
  });

  test('/unprotected answers its message', async () => {
    const res = await get(`${server.url}/unprotected`);
    assert.deepEqual(res.json, { message: 'Anyone can view this.' }, show(res));
  });

  describe('GET /protected', () => tokenRequiredCases(server));
  describe('GET /login', () => loginRefusals(server));
});
