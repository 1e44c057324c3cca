// The attack lab can fail: it reports a broken app as broken, the talk's app
// truthfully, and the hardened step as clean.
import assert from 'node:assert/strict';
import { randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  attack,
  attackCount,
  attackRefreshCookie,
  crack,
  findProtectedPath,
  loadSecrets,
  type Outcome,
  type Report,
  type Target,
} from '../tools/attack/lab.ts';
import {
  exportedApp,
  importStep,
  importStepFiles,
  listen,
  type Listenable,
} from './helpers/step.ts';
import { app as vulnerable } from './fixtures/vulnerable-app.ts';
import { FAST_USERS, withFastUsers, type LoginLimits, type Throttle } from './helpers/hardened.ts';
import { b64, hmacToken } from './helpers/tokens.ts';

async function attackApp(
  app: Listenable,
  secret?: string,
  more: Partial<Target> = {},
): Promise<Report> {
  const running = await listen(app);
  try {
    return await attack({ apiUrl: running.url, secret, ...more });
  } finally {
    await running.close();
  }
}

/** The attacks on the refresh cookie of step 09 (a grace window of 0: the replay goes at once). */
const REFRESH_ATTACKS = [
  'refresh token replay',
  'refresh without CSRF header',
  'refresh from another Origin',
  'access token after logout',
  'refresh token as Bearer',
];

/** A step's throttle.ts, as the lab's tests use it. */
interface ThrottleFile {
  LoginThrottle: new (limits: LoginLimits, now: () => number) => Throttle;
  LOGIN_LIMITS: LoginLimits;
}

/**
 * New throttles of the step, with its limits but a 429 answered at once: the
 * lab meets hundreds of 429s, and the second each one waits (refusalPauseMs)
 * is there to slow a flood, not a thing the lab looks for.
 */
async function refusingAtOnce(step: number): Promise<() => Throttle> {
  const { LoginThrottle, LOGIN_LIMITS } = (await importStep(
    step,
    'throttle.ts',
  )) as unknown as ThrottleFile;
  const limits = { ...LOGIN_LIMITS, refusalPauseMs: 0 };
  return () => new LoginThrottle(limits, () => Math.floor(Date.now() / 1000));
}

const through = (report: Report) =>
  report.outcomes.filter((o) => o.verdict === 'VULNERABLE' || o.verdict === 'CRASH');
const skipped = (report: Report) =>
  report.outcomes.filter((o) => o.verdict === 'n/a').map((o) => o.attack);

const verdict = (report: Report, name: string) => {
  const row = report.outcomes.find((o) => o.attack === name);
  assert.ok(row, `The lab has an attack named "${name}"`);
  return row.verdict;
};

describe('the attack lab', { concurrency: 1 }, () => {
  test("has at least 30 attacks, and the talk's secret in its list", () => {
    assert.ok(attackCount >= 30, `${attackCount} attacks`);
    assert.ok(
      loadSecrets().includes('indonesia'),
      "The talk's own secret was on its slides: the list has it",
    );
  });

  test('cracks a token signed with a published secret, and only then', () => {
    const claims = { sub: 'alice' };
    const header = { alg: 'HS256', typ: 'JWT' };
    assert.equal(
      crack(hmacToken(header, claims, 'shhhhh'), loadSecrets()),
      'shhhhh',
      "jsonwebtoken's README secret is on the list",
    );
    assert.equal(
      crack(hmacToken({ ...header, alg: 'HS512' }, claims, 'indonesia'), loadSecrets()),
      'indonesia',
      'Any HMAC size',
    );
    assert.equal(
      crack(hmacToken(header, claims, randomBytes(32).toString('base64url')), loadSecrets()),
      undefined,
      'A random 32-byte key is not guessed',
    );
    assert.equal(
      crack(`${b64(header)}.${b64(claims)}.`, loadSecrets()),
      undefined,
      'No signature, nothing to crack',
    );
  });

  test('reports a deliberately vulnerable app as vulnerable', async () => {
    const report = await attackApp(vulnerable);
    assert.equal(
      report.cracked,
      'secret',
      'The fixture signs with "secret": the offline guess must find it',
    );
    for (const name of [
      'alg none',
      'tampered payload',
      'signature stripped',
      'forged with the cracked secret',
      'missing exp',
    ]) {
      assert.equal(
        verdict(report, name),
        'VULNERABLE',
        `jwt.decode verifies nothing: "${name}" must get through`,
      );
    }
    assert.ok(
      report.succeeded > 20,
      `Most attacks get through a decode-only app, got ${report.succeeded}`,
    );
  });

  test("reports what the talk's final app (step 05) lets through, and what it stops", async () => {
    const report = await attackApp(exportedApp(await importStep(5), 5));
    assert.equal(report.transport, 'query', 'Step 05 takes ?token=, as the talk did');
    assert.equal(report.cracked, 'indonesia');
    for (const name of [
      'token in the URL',
      'missing exp',
      'ten-year lifetime',
      'forged with the cracked secret',
      'password guessing',
    ]) {
      assert.equal(verdict(report, name), 'VULNERABLE', `Step 05 lets "${name}" through`);
    }
    for (const name of ['alg none', 'tampered payload', 'HS512, same key', 'expired']) {
      assert.equal(
        verdict(report, name),
        'held',
        `Step 05 pins HS256 and checks exp: "${name}" is refused`,
      );
    }
  });

  test('finds nothing in the hardened step 06, even knowing its key', async () => {
    const secret = 'attack-lab-test-secret-of-at-least-32-bytes';
    const step = (await importStepFiles(6, ['app.ts', 'config.ts'])) as {
      loadConfig(env: object): unknown;
      createApp(config: unknown): Listenable;
    };
    // Cheap hashes: the lab guesses hundreds of passwords.
    const config = withFastUsers(step.loadConfig({ JWT_SECRET: secret }) as object);
    Object.assign(config, { throttle: (await refusingAtOnce(6))() });
    const report = await attackApp(step.createApp(config), secret);
    assert.deepEqual(through(report), [], 'Step 06 must refuse every attack, and never answer 500');
    assert.equal(
      verdict(report, 'password guessing'),
      'held',
      'Step 06 answers 429 after a few wrong passwords',
    );
    assert.deepEqual(
      skipped(report),
      ['made-up kid flood', ...REFRESH_ATTACKS, 'withdrawn key', 'forged with the cracked secret'],
      'Knowing the key, the lab runs every claim check; only the key-set attacks and those on a refresh cookie (step 09) do not apply',
    );
  });

  test("finds nothing in step 07's API, even holding the login service's private key", async () => {
    interface StoredKey {
      kid: string;
    }
    interface Ring {
      keys: StoredKey[];
      signingKey(now: number): { kid: string; key: KeyObject };
    }
    const keys = (await importStepFiles(7, ['keys.ts', 'key-file.ts'])) as {
      KeyRing: new (k: StoredKey[], times: object) => Ring;
      newKey(now: number, signsAtOnce?: boolean): StoredKey;
      revoke(keys: StoredKey[], kid: string, now: number): StoredKey[];
    };
    const authStep = (await importStep(7, 'auth-server.ts')) as {
      loadAuthConfig(env: object): object;
      createAuthApp(config: object): Listenable;
    };
    const apiStep = (await importStep(7, 'api-server.ts')) as {
      loadApiConfig(env: object): object;
      createApiApp(config: object): Listenable;
    };
    const scratch = mkdtempSync(path.join(tmpdir(), 'jwt-attack-lab-'));
    // Tokens of 600 s, so that the API's clock can be moved one JWKS
    // max-age (60 s) on, rather than waiting for it, when a key is withdrawn.
    const env = { KEYS_FILE: path.join(scratch, 'keys.json'), TOKEN_TTL_SECONDS: '600' };
    const times = { publishAhead: 65, keepAfter: 605 };
    let ring = new keys.KeyRing([keys.newKey(Math.floor(Date.now() / 1000), true)], times);
    let apiAhead = 0;
    const authRunning = await listen(
      authStep.createAuthApp({
        ...authStep.loadAuthConfig(env),
        keys: () => ring,
        users: FAST_USERS,
        throttle: (await refusingAtOnce(7))(),
      }),
    );
    // The lab sees the API's JWKS fetches through a proxy that counts them.
    let fetches = 0;
    const proxy = await listen({
      callback: () => async (_req: IncomingMessage, res: ServerResponse) => {
        fetches++;
        const upstream = await fetch(`${authRunning.url}/.well-known/jwks.json`);
        res
          .writeHead(upstream.status, {
            'Content-Type': 'application/json',
            'Cache-Control': upstream.headers.get('cache-control') ?? '',
          })
          .end(await upstream.text());
      },
    } as unknown as Listenable);
    const apiConfig = {
      ...apiStep.loadApiConfig({ ...env, JWKS_URL: `${proxy.url}/.well-known/jwks.json` }),
      now: () => Math.floor(Date.now() / 1000) + apiAhead,
      log: () => {},
    };
    const apiRunning = await listen(apiStep.createApiApp(apiConfig));
    try {
      const { kid, key } = ring.signingKey(Math.floor(Date.now() / 1000));
      const report = await attack({
        apiUrl: apiRunning.url,
        loginUrl: authRunning.url,
        signer: { kid, privateKey: key },
        jwksFetches: () => fetches,
        withdraw: async (withdrawn) => {
          ring = new keys.KeyRing(
            keys.revoke(ring.keys, withdrawn, Math.floor(Date.now() / 1000)),
            times,
          );
          apiAhead += 60;
        },
      });
      assert.deepEqual(
        through(report),
        [],
        'Step 07 must refuse every attack, and never answer 500',
      );
      for (const name of ['password guessing', 'made-up kid flood', 'withdrawn key'])
        assert.equal(verdict(report, name), 'held', `Step 07 holds against "${name}"`);
      assert.deepEqual(
        skipped(report),
        [
          'HS384, same key',
          'HS512, same key',
          ...REFRESH_ATTACKS,
          'forged with the cracked secret',
        ],
        'Only the HMAC-specific attacks, and those on a refresh cookie, do not apply',
      );
    } finally {
      await apiRunning.close();
      await proxy.close();
      await authRunning.close();
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  test('finds nothing in step 09, and catches a session that is never revoked and cookie routes open to any site', async () => {
    interface Store {
      get(keys: string[], now: number): Promise<(string | undefined)[]>;
      set(key: string, value: string, until: number, now: number): Promise<void>;
      revoke(key: string, value: string, until: number, now: number): Promise<void>;
      add(key: string, value: string, until: number, now: number): Promise<boolean>;
      incr(key: string, until: number, now: number): Promise<number>;
      close(): Promise<void>;
    }
    const secret = 'attack-lab-test-secret-of-at-least-32-bytes';
    const step = (await importStepFiles(9, ['app.ts', 'session-config.ts'])) as {
      loadConfig(env: object, warn?: () => void): { graceSeconds: number; store: Store };
      createApp(config: unknown): Listenable;
    };
    const throttle = await refusingAtOnce(9);
    const app = (change: (config: { store: Store }) => void = () => {}) => {
      const config = step.loadConfig({ JWT_SECRET: secret }, () => {});
      config.graceSeconds = 0; // the lab replays at once, rather than after 10 s
      withFastUsers(config);
      Object.assign(config, { throttle: throttle() });
      change(config);
      return step.createApp(config);
    };
    const report = await attackApp(app(), secret, { refreshGraceSeconds: 0 });
    assert.deepEqual(through(report), [], 'Step 09 must refuse every attack, and never answer 500');
    for (const name of REFRESH_ATTACKS)
      assert.equal(verdict(report, name), 'held', `Step 09 holds against "${name}"`);

    const refreshOnly = async (listenable: Listenable) => {
      const running = await listen(listenable);
      try {
        return await attackRefreshCookie({ apiUrl: running.url, refreshGraceSeconds: 0 });
      } finally {
        await running.close();
      }
    };
    const row = (rows: Outcome[], name: string) => rows.find((o) => o.attack === name)?.verdict;

    // A store that spends nothing and forgets every revocation.
    const leaky = await refreshOnly(
      app((config) => {
        const real = config.store;
        config.store = {
          get: (keys, now) => real.get(keys, now),
          set: (key, value, until, now) =>
            /^(deny|revoked):/.test(key) ? Promise.resolve() : real.set(key, value, until, now),
          add: async (key, value, until, now) => (await real.set(key, value, until, now), true),
          revoke: (key, value, until, now) =>
            /^(deny|revoked):/.test(key) ? Promise.resolve() : real.revoke(key, value, until, now),
          incr: (key, until, now) => real.incr(key, until, now),
          close: () => real.close(),
        };
      }),
    );
    assert.equal(
      row(leaky, 'refresh token replay'),
      'VULNERABLE',
      `A spent refresh token that refreshes again is reported: ${JSON.stringify(leaky)}`,
    );
    assert.equal(
      row(leaky, 'access token after logout'),
      'VULNERABLE',
      'An access token that outlives its logout is reported',
    );
    assert.equal(
      row(leaky, 'refresh without CSRF header'),
      'held',
      'The CSRF defences do not depend on the store',
    );

    // Cookie routes open to any site: a proxy in front adds the page's header and drops Origin.
    const inner = app();
    const open: Listenable = {
      callback: () => {
        const handle = inner.callback() as unknown as (
          req: IncomingMessage,
          res: ServerResponse,
        ) => void;
        return ((req: IncomingMessage, res: ServerResponse) => {
          req.headers['x-requested-with'] = 'fetch';
          delete req.headers.origin;
          handle(req, res);
        }) as never;
      },
    };
    const crossSite = await refreshOnly(open);
    for (const name of ['refresh without CSRF header', 'refresh from another Origin']) {
      assert.equal(
        row(crossSite, name),
        'VULNERABLE',
        `"${name}" is reported when the app lets it through: ${JSON.stringify(crossSite)}`,
      );
    }
  });

  test("finds nothing in step 10's API, with a token its keys.ts mints, at the path it protects", async () => {
    const keys = (await importStep(10, 'keys.ts')) as {
      loadKeys(file: string): { signing: JsonWebKey[] };
      signingKey(file: string): { kid: string; privateKey: KeyObject };
      insiderAccessToken(options: { keysFile: string; env: Record<string, string> }): string;
    };
    const api = (await importStep(10, 'api.ts')) as {
      loadApiConfig(env: object): { resource: string };
      createApiApp(config: object): Listenable;
    };
    const scratch = mkdtempSync(path.join(tmpdir(), 'jwt-attack-lab-'));
    const keysFile = path.join(scratch, 'keys.json');
    // A stand-in for the provider: its discovery document and its public keys.
    const published = {
      keys: keys
        .loadKeys(keysFile)
        .signing.map(({ kty, crv, x, y, kid, alg, use }) => ({ kty, crv, x, y, kid, alg, use })),
    };
    let issuer = '';
    const provider = await listen({
      callback: () => (req: IncomingMessage, res: ServerResponse) => {
        const body =
          req.url === '/.well-known/openid-configuration'
            ? { issuer, jwks_uri: `${issuer}/jwks` }
            : req.url === '/jwks'
              ? published
              : undefined;
        res
          .writeHead(body ? 200 : 404, { 'Content-Type': 'application/json' })
          .end(JSON.stringify(body ?? {}));
      },
    } as unknown as Listenable);
    issuer = provider.url;
    const config = api.loadApiConfig({ ISSUER_URL: issuer, API_URL: 'http://127.0.0.1:1' });
    const running = await listen(api.createApiApp(config));
    config.resource = running.url; // its address is known once it listens
    try {
      const token = keys.insiderAccessToken({
        keysFile,
        env: { ISSUER_URL: issuer, API_URL: running.url, KEYS_FILE: keysFile },
      });
      const protectedPath = await findProtectedPath(running.url, token, [
        '/protected',
        '/.well-known/oauth-protected-resource',
        '/messages',
      ]);
      assert.equal(
        protectedPath,
        '/messages',
        'The lab finds the path that refuses no token and takes the valid one: /messages, not an open or a missing path',
      );
      const report = await attack({
        apiUrl: running.url,
        protectedPath,
        loginUrl: provider.url,
        token,
        signer: keys.signingKey(keysFile),
      });
      assert.deepEqual(
        through(report),
        [],
        "Step 10's API must refuse every attack, and never answer 500",
      );
      for (const name of ['expired', 'wrong audience', 'unknown kid']) {
        assert.equal(
          verdict(report, name),
          'held',
          `"${name}" runs and is refused: the lab signs as the provider does, typ at+jwt included`,
        );
      }
    } finally {
      await running.close();
      await provider.close();
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
