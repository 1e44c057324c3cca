// The attack lab can fail: it reports a broken app as broken, the talk's app
// truthfully, and the hardened step as clean.
import assert from 'node:assert/strict';
import { randomBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { attack, attackCount, crack, loadSecrets, type Report } from '../tools/attack/lab.ts';
import { exportedApp, importStep, listen, type Listenable } from './helpers/step.ts';
import { app as vulnerable } from './fixtures/vulnerable-app.ts';
import { b64, hmacToken } from './helpers/tokens.ts';

async function attackApp(app: Listenable, secret?: string): Promise<Report> {
  const running = await listen(app);
  try {
    return await attack({ apiUrl: running.url, secret });
  } finally {
    await running.close();
  }
}

const through = (report: Report) => report.outcomes.filter((o) => o.verdict === 'VULNERABLE' || o.verdict === 'CRASH');
const skipped = (report: Report) => report.outcomes.filter((o) => o.verdict === 'n/a').map((o) => o.attack);

const verdict = (report: Report, name: string) => {
  const row = report.outcomes.find((o) => o.attack === name);
  assert.ok(row, `The lab has an attack named "${name}"`);
  return row.verdict;
};

describe('the attack lab', { concurrency: 1 }, () => {
  test('has at least 30 attacks, and the talk\'s secret in its list', () => {
    assert.ok(attackCount >= 30, `${attackCount} attacks`);
    assert.ok(loadSecrets().includes('indonesia'), 'The talk\'s own secret was on its slides: the list has it');
  });

  test('cracks a token signed with a published secret, and only then', () => {
    const claims = { sub: 'alice' };
    const header = { alg: 'HS256', typ: 'JWT' };
    assert.equal(crack(hmacToken(header, claims, 'shhhhh'), loadSecrets()), 'shhhhh', 'jsonwebtoken\'s README secret is on the list');
    assert.equal(crack(hmacToken({ ...header, alg: 'HS512' }, claims, 'indonesia'), loadSecrets()), 'indonesia', 'Any HMAC size');
    assert.equal(crack(hmacToken(header, claims, randomBytes(32).toString('base64url')), loadSecrets()), undefined, 'A random 32-byte key is not guessed');
    assert.equal(crack(`${b64(header)}.${b64(claims)}.`, loadSecrets()), undefined, 'No signature, nothing to crack');
  });

  test('reports a deliberately vulnerable app as vulnerable', async () => {
    const report = await attackApp(vulnerable);
    assert.equal(report.cracked, 'secret', 'The fixture signs with "secret": the offline guess must find it');
    for (const name of ['alg none', 'tampered payload', 'signature stripped', 'forged with the cracked secret', 'missing exp']) {
      assert.equal(verdict(report, name), 'VULNERABLE', `jwt.decode verifies nothing: "${name}" must get through`);
    }
    assert.ok(report.succeeded > 20, `Most attacks get through a decode-only app, got ${report.succeeded}`);
  });

  test('reports what the talk\'s final app (step 05) lets through, and what it stops', async () => {
    const report = await attackApp(exportedApp(await importStep(5), 5));
    assert.equal(report.transport, 'query', 'Step 05 takes ?token=, as the talk did');
    assert.equal(report.cracked, 'indonesia');
    for (const name of ['token in the URL', 'missing exp', 'ten-year lifetime', 'forged with the cracked secret', 'password guessing']) {
      assert.equal(verdict(report, name), 'VULNERABLE', `Step 05 lets "${name}" through`);
    }
    for (const name of ['alg none', 'tampered payload', 'HS512, same key', 'expired']) {
      assert.equal(verdict(report, name), 'held', `Step 05 pins HS256 and checks exp: "${name}" is refused`);
    }
  });

  test('finds nothing in the hardened step 06, even knowing its key', async () => {
    const secret = 'attack-lab-test-secret-of-at-least-32-bytes';
    const step = (await importStep(6)) as { loadConfig(env: object): unknown; createApp(config: unknown): Listenable };
    const report = await attackApp(step.createApp(step.loadConfig({ JWT_SECRET: secret })), secret);
    assert.deepEqual(through(report), [], 'Step 06 must refuse every attack, and never answer 500');
    assert.equal(verdict(report, 'password guessing'), 'held', 'Step 06 answers 429 after a few wrong passwords');
    assert.deepEqual(skipped(report), ['made-up kid flood', 'withdrawn key', 'forged with the cracked secret'], 'Knowing the key, the lab runs every claim check; only the key-set attacks do not apply');
  });

  test('finds nothing in step 07\'s API, even holding the login service\'s private key', async () => {
    interface StoredKey {
      kid: string;
    }
    interface Ring {
      keys: StoredKey[];
      signingKey(now: number): { kid: string; key: KeyObject };
    }
    const keys = (await importStep(7, 'keys.ts')) as {
      KeyRing: new (k: StoredKey[], times: object) => Ring;
      newKey(now: number, signsAtOnce?: boolean): StoredKey;
      revoke(keys: StoredKey[], kid: string, now: number): StoredKey[];
    };
    const authStep = (await importStep(7, 'auth-server.ts')) as { loadAuthConfig(env: object): object; createAuthApp(config: object): Listenable };
    const apiStep = (await importStep(7, 'api-server.ts')) as { loadApiConfig(env: object): object; createApiApp(config: object): Listenable };
    const scratch = mkdtempSync(path.join(tmpdir(), 'jwt-attack-lab-'));
    // Tokens of 600 s, so that the API's clock can be moved one JWKS
    // max-age (60 s) on, rather than waiting for it, when a key is withdrawn.
    const env = { KEYS_FILE: path.join(scratch, 'keys.json'), TOKEN_TTL_SECONDS: '600' };
    const times = { publishAhead: 65, keepAfter: 605 };
    let ring = new keys.KeyRing([keys.newKey(Math.floor(Date.now() / 1000), true)], times);
    let apiAhead = 0;
    const authRunning = await listen(authStep.createAuthApp({ ...authStep.loadAuthConfig(env), keys: () => ring }));
    // The lab sees the API's JWKS fetches through a proxy that counts them.
    let fetches = 0;
    const proxy = await listen({
      callback: () => async (_req: IncomingMessage, res: ServerResponse) => {
        fetches++;
        const upstream = await fetch(`${authRunning.url}/.well-known/jwks.json`);
        res.writeHead(upstream.status, { 'Content-Type': 'application/json', 'Cache-Control': upstream.headers.get('cache-control') ?? '' }).end(await upstream.text());
      },
    } as unknown as Listenable);
    const apiConfig = { ...apiStep.loadApiConfig({ ...env, JWKS_URL: `${proxy.url}/.well-known/jwks.json` }), now: () => Math.floor(Date.now() / 1000) + apiAhead, log: () => {} };
    const apiRunning = await listen(apiStep.createApiApp(apiConfig));
    try {
      const { kid, key } = ring.signingKey(Math.floor(Date.now() / 1000));
      const report = await attack({
        apiUrl: apiRunning.url,
        loginUrl: authRunning.url,
        signer: { kid, privateKey: key },
        jwksFetches: () => fetches,
        withdraw: async (withdrawn) => {
          ring = new keys.KeyRing(keys.revoke(ring.keys, withdrawn, Math.floor(Date.now() / 1000)), times);
          apiAhead += 60;
        },
      });
      assert.deepEqual(through(report), [], 'Step 07 must refuse every attack, and never answer 500');
      for (const name of ['password guessing', 'made-up kid flood', 'withdrawn key']) assert.equal(verdict(report, name), 'held', `Step 07 holds against "${name}"`);
      assert.deepEqual(skipped(report), ['HS384, same key', 'HS512, same key', 'forged with the cracked secret'], 'Only the HMAC-specific attacks do not apply');
    } finally {
      await apiRunning.close();
      await proxy.close();
      await authRunning.close();
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
