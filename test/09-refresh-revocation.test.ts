// Checkpoint 09: short access tokens with a jti, a refresh token in an
// HttpOnly cookie that rotates at every use (RFC 9700 section 4.14.2),
// logout and "log out everywhere" that refuse a token at once, the CSRF
// defences of the cookie's routes, a store in memory or in Redis, and the
// page in a real headless Chromium with two tabs.
import assert from 'node:assert/strict';
import { createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findChromium } from '../tools/chromium.ts';
import { freePort } from '../tools/ports.ts';
import {
  findRedisServer,
  noRedis,
  redisClient,
  startRedis,
  type RunningRedis,
} from '../tools/redis.ts';
import {
  browserSkip,
  launchChromium,
  type Browser,
  type BrowserContext,
  type Cookie,
  type Page,
} from './helpers/browser.ts';
import {
  withFastUsers,
  START,
  bearer,
  bearerRules,
  hardened,
  loginRules,
  type LoginLimits,
  type Throttle,
  hmacThrottleRules,
  type HmacLoginStep,
} from './helpers/hardened.ts';
import { basic, get, request, show, type Answer } from './helpers/http.ts';
import {
  checkpoint,
  codeDir,
  exportedApp,
  importStep,
  importStepFiles,
  otherPart,
  listen,
  runFile,
  serve,
  slow,
  stillRunning,
  type Listenable,
  type Running,
} from './helpers/step.ts';
import { decode, hmacToken } from './helpers/tokens.ts';

// The parts of step 09's files these tests use.
interface Store {
  get(keys: string[], now: number): Promise<(string | undefined)[]>;
  set(key: string, value: string, until: number, now: number): Promise<void>;
  revoke(key: string, value: string, until: number, now: number): Promise<void>;
  add(key: string, value: string, until: number, now: number): Promise<boolean>;
  incr(key: string, until: number, now: number): Promise<number>;
  close(): Promise<void>;
}
interface Config {
  now: () => number;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  refreshTtlSeconds: number;
  graceSeconds: number;
  store: Store;
  throttle: Throttle;
}
// The files of step 09 whose exports these tests use.
const STEP09_FILES = ['app.ts', 'session-config.ts', 'throttle.ts'];
interface Step09 {
  loadConfig(env: Record<string, string>, warn?: (message: string) => void): Config;
  createApp(config: Config): Listenable & { proxy: boolean };
  LoginThrottle: new (limits: LoginLimits, now: () => number) => Throttle;
  LOGIN_LIMITS: LoginLimits;
}
interface StoreFile {
  MemoryStore: new (maxEntries?: number) => Store;
  StoreUnavailable: new (message: string) => Error;
}
interface SessionsFile {
  Sessions: new (
    store: Store,
    times: object,
    key: KeyObject,
  ) => {
    start(sub: string, now: number): Promise<{ token: string }>;
    rotate(token: string, now: number): Promise<{ token: string }>;
    logout(cookie: string, access: object, now: number): Promise<void>;
    revoked(access: object, now: number): Promise<string | undefined>;
  };
}
interface RedisFile {
  RedisStore: new (url: string, prefix?: string, log?: (message: string) => void) => Store;
}

const SECRET = 'a-test-key-of-32-bytes-or-more-0123456789';
const COOKIE = 'refresh_token';
const CSRF = { 'X-Requested-With': 'fetch' };
const GRACE = 10;

/** The refresh cookie an answer sets: its value ('' when it clears it) and attributes, lower case. */
function setCookie(
  res: Answer,
  name = COOKIE,
): { value: string; attributes: string[] } | undefined {
  const line = res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  if (line === undefined) return undefined;
  const [pair, ...attributes] = line.split(';').map((part) => part.trim());
  return {
    value: pair!.slice(name.length + 1),
    attributes: attributes.map((a) => a.toLowerCase()),
  };
}

/**
 * A 503 says "try again" (the store did not answer within its second, as
 * happens to Redis on a machine busy with every test file at once): a client
 * tries again, and so does this.
 */
async function untilAnswered(send: () => Promise<Answer>): Promise<Answer> {
  let res = await send();
  for (let tries = 1; tries < 5 && res.status === 503; tries++) res = await send();
  return res;
}

async function login(url: string): Promise<{ token: string; cookie: string }> {
  const res = await untilAnswered(() => get(`${url}/login`, basic('alice', 'pyconid')));
  assert.equal(res.status, 200, `/login as alice must answer 200: ${show(res)}`);
  const cookie = setCookie(res)?.value;
  assert.ok(
    cookie,
    `/login sets the refresh token in a cookie named ${COOKIE}: got ${JSON.stringify(res.headers.getSetCookie())}`,
  );
  return { token: (res.json as { token: string }).token, cookie };
}

const post = (url: string, headers: Record<string, string> = {}) =>
  request(url, { method: 'POST', headers });
const refresh = (url: string, cookie: string, headers: Record<string, string> = CSRF) =>
  post(`${url}/auth/refresh`, { ...headers, Cookie: `${COOKIE}=${cookie}` });
const protectedWith = (url: string, token: string) => get(`${url}/protected`, bearer(token));

function assertRefreshed(res: Answer, what: string): { token: string; cookie: string } {
  assert.equal(
    res.status,
    200,
    `${what}: POST /auth/refresh answers 200 with a new access token: ${show(res)}`,
  );
  const body = res.json as { token?: unknown; token_type?: unknown; expires_in?: unknown };
  assert.equal(
    typeof body.token,
    'string',
    `${what}: the answer is {token, token_type, expires_in}, as /login's: ${show(res)}`,
  );
  assert.equal(
    res.headers.get('cache-control'),
    'no-store',
    'An answer carrying a token is not cached (RFC 6749 section 5.1)',
  );
  const cookie = setCookie(res)?.value;
  assert.ok(
    cookie,
    `${what}: every refresh sets the next refresh token in the cookie: ${JSON.stringify(res.headers.getSetCookie())}`,
  );
  return { token: body.token as string, cookie };
}

function assertInvalidGrant(res: Answer, what: string, message?: RegExp): void {
  assert.equal(
    res.status,
    400,
    `${what} must be refused with 400 invalid_grant (RFC 6749 section 5.2), never 200 or 500: ${show(res)}`,
  );
  assert.equal(
    (res.json as { error?: unknown })?.error,
    'invalid_grant',
    `${what}: the body is {"error": "invalid_grant", "message"}: ${show(res)}`,
  );
  if (message)
    assert.match(
      String((res.json as { message?: unknown }).message),
      message,
      `${what}: the message says why`,
    );
}

function assertRevoked(res: Answer, what: string): void {
  assert.equal(res.status, 401, `${what} must be refused at once with 401: ${show(res)}`);
  assert.equal(
    (res.json as { error?: unknown })?.error,
    'invalid_token',
    `${what}: 401 invalid_token (RFC 6750 section 3.1): ${show(res)}`,
  );
  assert.match(
    res.headers.get('www-authenticate') ?? '',
    /error="invalid_token"/,
    `${what}: the Bearer challenge says invalid_token`,
  );
}

checkpoint(9, () => {
  let step: Step09;
  let stores: StoreFile;
  before(async () => {
    step = (await importStepFiles(9, STEP09_FILES)) as unknown as Step09;
    assert.equal(typeof step.createApp, 'function', 'app.ts exports createApp(config)');
    assert.equal(
      typeof step.loadConfig,
      'function',
      'session-config.ts exports loadConfig(env), with the refresh settings',
    );
    stores = (await importStep(9, 'store.ts')) as unknown as StoreFile;
  });

  // The parts side by side, each with its own server and clock; within a
  // part, one test at a time.
  describe('step 09', { concurrency: true }, () => {
    describe('settings', () => {
      test('access tokens last 5 minutes, a login 1 day, the grace window 10 s; each can be set', () => {
        const config = step.loadConfig({ JWT_SECRET: SECRET });
        assert.equal(
          config.ttlSeconds,
          300,
          'TOKEN_TTL_SECONDS: short-lived access tokens, 300 s by default',
        );
        assert.equal(
          config.refreshTtlSeconds,
          86400,
          'REFRESH_TTL_SECONDS: a login lasts a day by default',
        );
        assert.equal(config.graceSeconds, GRACE, 'REFRESH_GRACE_SECONDS: 10 s by default');
        const set = step.loadConfig({
          JWT_SECRET: SECRET,
          TOKEN_TTL_SECONDS: '60',
          REFRESH_TTL_SECONDS: '3600',
          REFRESH_GRACE_SECONDS: '0',
        });
        assert.deepEqual(
          [set.ttlSeconds, set.refreshTtlSeconds, set.graceSeconds],
          [60, 3600, 0],
          'Each setting is read from its variable',
        );
      });

      test('a lifetime or grace window that is not whole seconds in range is refused, naming the setting', () => {
        const bad: [string, string][] = [
          ['REFRESH_GRACE_SECONDS', '61'],
          ['REFRESH_GRACE_SECONDS', '-1'],
          ['REFRESH_GRACE_SECONDS', '1e1'],
          ['REFRESH_GRACE_SECONDS', ' 5'],
          ['REFRESH_TTL_SECONDS', '59'],
          ['REFRESH_TTL_SECONDS', '0x100'],
          ['REFRESH_TTL_SECONDS', '99999999'],
          ['TOKEN_TTL_SECONDS', '0'],
        ];
        for (const [name, value] of bad) {
          assert.throws(
            () => step.loadConfig({ JWT_SECRET: SECRET, [name]: value }),
            new RegExp(`${name} must be a whole number of seconds`),
            `${name}=${JSON.stringify(value)} must be refused with a message naming ${name}`,
          );
        }
      });

      test('REDIS_URL must be a redis:// or rediss:// URL, and a wrong one is described, never echoed', () => {
        for (const value of [
          'http://localhost:6379',
          'localhost:6379',
          'redis://',
          'http://user:hunter2@localhost',
        ]) {
          let message = '';
          assert.throws(
            () => step.loadConfig({ JWT_SECRET: SECRET, REDIS_URL: value }),
            (err: Error) => ((message = err.message), /REDIS_URL/.test(err.message)),
            `REDIS_URL=${JSON.stringify(value)} is refused, naming REDIS_URL`,
          );
          assert.match(message, /redis:\/\//, 'The message shows the form it needs');
          assert.doesNotMatch(message, /hunter2/, 'A password in a wrong URL is never printed');
        }
        const config = step.loadConfig({ JWT_SECRET: SECRET, REDIS_URL: 'redis://127.0.0.1:1' });
        const store: object = config.store;
        assert.ok(
          !(store instanceof stores.MemoryStore),
          'With REDIS_URL the store is Redis, not memory',
        );
        return config.store.close();
      });

      test(
        'run with a bad setting, the server exits before listening, in one line naming it',
        { skip: slow },
        async () => {
          const app = path.join(codeDir(9), 'app.ts');
          // Each bad setting is refused above, in this process; one shows
          // that the server leaves the way step 06's does.
          const cases: [Record<string, string>, string][] = [
            [{ REDIS_URL: 'http://localhost:6379' }, 'REDIS_URL'],
          ];
          const runs = await Promise.all(
            cases.map(([env]) => runFile(app, { JWT_SECRET: SECRET, ...env })),
          );
          runs.forEach((run, i) => {
            const [env, name] = cases[i]!;
            assert.equal(
              run.status,
              1,
              `${JSON.stringify(env)}: exit with status 1${stillRunning(run)}: ${run.stderr}`,
            );
            assert.equal(
              run.stderr.trim().split('\n').length,
              1,
              `${JSON.stringify(env)}: one line, no stack trace: ${run.stderr}`,
            );
            assert.match(
              run.stderr,
              new RegExp(name),
              `${JSON.stringify(env)}: the line names ${name}`,
            );
          });
        },
      );
    });

    // In no part of the step, as are the stores: the checkpoint proof, which
    // runs this file once per part, leaves both out.
    describe('as in step 06', { concurrency: 1, skip: slow }, () => {
      // Step 06's rules still hold: the access token is step 06's JWT, of 5 minutes.
      const h = hardened({
        alg: 'HS256',
        loginUrl: () => server.url,
        apiUrl: () => server.url,
        sign: (header, claims) => hmacToken(header, claims, SECRET),
      });
      h.ttl = 300;
      const server = serve(async () => {
        const config = step.loadConfig({ JWT_SECRET: SECRET });
        withFastUsers(config);
        config.now = () => h.clock.now;
        return exportedApp({ app: step.createApp(config) }, 9);
      });
      describe('GET /login', () => loginRules(h));
      describe('GET /protected', () => bearerRules(h));
      describe('login throttling', () =>
        hmacThrottleRules(9, () => step as unknown as HmacLoginStep, SECRET));
    });

    describe('sessions', { concurrency: 1 }, () => {
      // The sessions' own server and clock. The clock only moves on: a logout
      // everywhere at one time must not refuse the tokens of a later test.
      const clock = { now: START + 100_000 };
      const later = (seconds: number) => (clock.now += seconds);
      // Every key and value the server writes to its store, to prove that no
      // refresh token is kept as it was sent.
      const written: string[] = [];
      const app = serve(async () => {
        const config = step.loadConfig({ JWT_SECRET: SECRET });
        withFastUsers(config);
        config.now = () => clock.now;
        const store = config.store;
        config.store = {
          get: (keys, now) => store.get(keys, now),
          set: (key, value, until, now) => (
            written.push(key, value),
            store.set(key, value, until, now)
          ),
          revoke: (key, value, until, now) => (
            written.push(key, value),
            store.revoke(key, value, until, now)
          ),
          add: (key, value, until, now) => (
            written.push(key, value),
            store.add(key, value, until, now)
          ),
          incr: (key, until, now) => (written.push(key), store.incr(key, until, now)),
          close: () => store.close(),
        };
        return exportedApp({ app: step.createApp(config) }, 9);
      });

      describe('the refresh token', () => {
        test('/login sets it in a cookie: HttpOnly, SameSite=Strict, Path=/auth, never in the body', async () => {
          later(100);
          const res = await get(`${app.url}/login`, basic('alice', 'pyconid'));
          assert.equal(res.status, 200, show(res));
          const cookie = setCookie(res);
          assert.ok(
            cookie,
            `/login sets a cookie named ${COOKIE}: ${JSON.stringify(res.headers.getSetCookie())}`,
          );
          assert.match(
            cookie.value,
            /^[A-Za-z0-9_-]{43}$/,
            'The refresh token is opaque: 32 random bytes in base64url (43 characters), not a JWT',
          );
          assert.ok(
            cookie.attributes.includes('httponly'),
            'HttpOnly: no script on the page can read it',
          );
          assert.ok(
            cookie.attributes.includes('samesite=strict'),
            "SameSite=Strict: no other site's page makes the browser send it",
          );
          assert.ok(
            cookie.attributes.includes('path=/auth'),
            'Path=/auth: it goes to the refresh and logout routes only, never to /protected',
          );
          assert.ok(
            !cookie.attributes.includes('secure'),
            'Not Secure over plain http (localhost): the browser would drop it',
          );
          assert.ok(
            cookie.attributes.some((a) => a.startsWith('expires=') || a.startsWith('max-age=')),
            'It lasts as long as the login, not just the browser session',
          );
          assert.ok(
            !res.text.includes(cookie.value),
            'The refresh token is not in the body, where a script could read it',
          );
          const { payload } = decode((res.json as { token: string }).token);
          assert.equal(
            Number(payload.exp) - Number(payload.iat),
            300,
            'The access token lasts 5 minutes',
          );
          assert.equal(typeof payload.jti, 'string', 'It has a jti, so that a logout can deny it');
        });

        test('over https the cookie is also Secure', async () => {
          const config = step.loadConfig({ JWT_SECRET: SECRET });
          withFastUsers(config);
          config.now = () => clock.now;
          const behindProxy = step.createApp(config);
          behindProxy.proxy = true; // https as a reverse proxy reports it, X-Forwarded-Proto
          const running = await listen(exportedApp({ app: behindProxy }, 9));
          try {
            const res = await get(`${running.url}/login`, {
              ...basic('alice', 'pyconid'),
              'X-Forwarded-Proto': 'https',
            });
            assert.equal(res.status, 200, show(res));
            assert.ok(
              setCookie(res)?.attributes.includes('secure'),
              `Over https the refresh cookie says Secure: ${JSON.stringify(res.headers.getSetCookie())}`,
            );
            const origin = `https://${new URL(running.url).host}`;
            const again = await refresh(running.url, setCookie(res)!.value, {
              ...CSRF,
              'X-Forwarded-Proto': 'https',
              Origin: origin,
            });
            assert.equal(
              again.status,
              200,
              `A refresh from its own https origin is allowed: ${show(again)}`,
            );
          } finally {
            await running.close();
          }
        });

        test('a refresh rotates: a new refresh token each time, and a new access token that works', async () => {
          later(100);
          const first = await login(app.url);
          const second = assertRefreshed(
            await refresh(app.url, first.cookie),
            'The refresh token from /login',
          );
          assert.notEqual(
            second.cookie,
            first.cookie,
            'Every use rotates: the answer sets a new refresh token',
          );
          assert.notEqual(second.token, first.token, 'and gives a new access token');
          assert.equal(
            (await protectedWith(app.url, second.token)).status,
            200,
            'The new access token opens /protected',
          );
          assert.equal(
            decode(second.token).payload.iat,
            clock.now,
            'issued now, by the server clock',
          );
          later(5);
          assertRefreshed(await refresh(app.url, second.cookie), 'The rotated refresh token');
        });

        test('a spent refresh token used again after the grace window revokes its whole family', async () => {
          later(100);
          const stolen = await login(app.url);
          const user = assertRefreshed(await refresh(app.url, stolen.cookie), 'The first use');
          later(GRACE);
          const replay = await refresh(app.url, stolen.cookie);
          assertInvalidGrant(replay, `The spent refresh token, ${GRACE} s later,`, /already used/);
          assert.equal(
            setCookie(replay)?.value,
            '',
            `The refusal clears the cookie: ${JSON.stringify(replay.headers.getSetCookie())}`,
          );
          assertInvalidGrant(
            await refresh(app.url, user.cookie),
            'Its successor, after the replay (RFC 9700 section 4.14.2: the whole family is revoked, since nobody can tell the thief from the user)',
          );
        });

        test('the store never holds a refresh token as sent: only its hash', async () => {
          later(100);
          const first = await login(app.url);
          const second = assertRefreshed(
            await refresh(app.url, first.cookie),
            'The refresh token from /login',
          );
          later(GRACE);
          await refresh(app.url, first.cookie); // a replay: spent and revoked
          const found = written.filter((text) =>
            [first.cookie, second.cookie].some((token) => text.includes(token)),
          );
          assert.deepEqual(
            found,
            [],
            'No key or value written to the store contains a refresh token: store its hash (spent:<hash>), so that a copy of the store logs nobody in',
          );
        });

        test('two refreshes at once (two tabs) get the same successor, and nobody is logged out', async () => {
          later(100);
          const { cookie } = await login(app.url);
          const [a, b] = await Promise.all([refresh(app.url, cookie), refresh(app.url, cookie)]);
          const first = assertRefreshed(a, 'The first of two refreshes at once');
          const second = assertRefreshed(
            b,
            'The second of two refreshes at once, within the grace window',
          );
          assert.equal(
            second.cookie,
            first.cookie,
            'Both tabs get the same successor: the browser keeps one cookie',
          );
          assert.equal(
            (await protectedWith(app.url, second.token)).status,
            200,
            'Both access tokens work',
          );
          later(GRACE - 1);
          assertRefreshed(
            await refresh(app.url, cookie),
            `A replay ${GRACE - 1} s later, still within the ${GRACE} s grace window`,
          );
          later(1);
          assertRefreshed(
            await refresh(app.url, first.cookie),
            'The successor, which the replays did not spend',
          );
        });

        test('the access token lasts 5 minutes; then a refresh gets the next one', async () => {
          later(100);
          const { token, cookie } = await login(app.url);
          later(300 + 6);
          assert.equal(
            (await protectedWith(app.url, token)).status,
            401,
            'An access token 5 minutes old is refused',
          );
          const next = assertRefreshed(
            await refresh(app.url, cookie),
            'A refresh after the access token expired',
          );
          assert.equal(
            (await protectedWith(app.url, next.token)).status,
            200,
            'The new access token works',
          );
        });

        test('a login lasts REFRESH_TTL_SECONDS however often it rotates: then log in again', async () => {
          later(100);
          const { cookie } = await login(app.url);
          later(86400 - 10);
          const last = assertRefreshed(
            await refresh(app.url, cookie),
            'A refresh just before the day is over',
          );
          later(10);
          assertInvalidGrant(
            await refresh(app.url, last.cookie),
            'A refresh token of a login a day old, even a rotated one',
            /log in again/,
          );
        });

        test('a refresh token is no access token, and an access token no refresh token', async () => {
          later(100);
          const { token, cookie } = await login(app.url);
          const res = await protectedWith(app.url, cookie);
          assert.equal(
            res.status,
            401,
            `The refresh token sent as a Bearer access token is refused: ${show(res)}`,
          );
          assertInvalidGrant(
            await refresh(app.url, token),
            'The access token in the refresh cookie',
          );
        });
      });

      describe('logout', () => {
        test('logout refuses the access token at once and revokes the refresh token', async () => {
          later(100);
          const session = await login(app.url);
          assert.equal(
            (await protectedWith(app.url, session.token)).status,
            200,
            'Before the logout the token works',
          );
          const res = await post(`${app.url}/auth/logout`, {
            ...CSRF,
            ...bearer(session.token),
            Cookie: `${COOKIE}=${session.cookie}`,
          });
          assert.equal(
            res.status,
            200,
            `POST /auth/logout with the cookie and the access token answers 200: ${show(res)}`,
          );
          assert.equal(
            setCookie(res)?.value,
            '',
            `The logout clears the refresh cookie: ${JSON.stringify(res.headers.getSetCookie())}`,
          );
          assertRevoked(
            await protectedWith(app.url, session.token),
            'The access token, right after its logout (its jti is on the deny-list until its exp)',
          );
          assertInvalidGrant(
            await refresh(app.url, session.cookie),
            'The refresh token of a logged-out session',
          );
          later(400);
          const again = await login(app.url);
          assert.equal(
            (await protectedWith(app.url, again.token)).status,
            200,
            'alice logs in again: only that session was revoked',
          );
        });

        test('a logout with no cookie, or an expired access token, still answers 200', async () => {
          later(100);
          const { token } = await login(app.url);
          later(400);
          const attempts: Record<string, string>[] = [
            CSRF,
            { ...CSRF, ...bearer(token) },
            { ...CSRF, Authorization: 'Bearer not-a-token' },
          ];
          for (const headers of attempts) {
            const res = await post(`${app.url}/auth/logout`, headers);
            assert.equal(
              res.status,
              200,
              `Logging out never fails for want of a session (${JSON.stringify(headers)}): ${show(res)}`,
            );
          }
        });

        test('log out everywhere refuses every access token and refresh token of the user', async () => {
          later(100);
          const laptop = await login(app.url);
          const phone = await login(app.url);
          later(1);
          const tablet = await login(app.url);
          const res = await post(`${app.url}/auth/logout-everywhere`, {
            ...CSRF,
            ...bearer(laptop.token),
            Cookie: `${COOKIE}=${laptop.cookie}`,
          });
          assert.equal(
            res.status,
            200,
            `POST /auth/logout-everywhere with a valid access token answers 200: ${show(res)}`,
          );
          assertRevoked(
            await protectedWith(app.url, laptop.token),
            'The access token that logged out everywhere',
          );
          assertRevoked(
            await protectedWith(app.url, phone.token),
            "Another session's access token (a per-user not-before time)",
          );
          assertRevoked(
            await protectedWith(app.url, tablet.token),
            'An access token issued in the same second as the logout: iat counts whole seconds, so refuse iat <= not-before, not only iat < not-before',
          );
          assertInvalidGrant(
            await refresh(app.url, phone.cookie),
            "Another session's refresh token",
          );
          later(1);
          const again = await login(app.url);
          assert.equal(
            (await protectedWith(app.url, again.token)).status,
            200,
            'A login after it works',
          );
        });

        test('log out everywhere needs a valid access token', async () => {
          const res = await post(`${app.url}/auth/logout-everywhere`, CSRF);
          assert.equal(
            res.status,
            401,
            `Without an access token nobody can log alice out everywhere: ${show(res)}`,
          );
        });
      });

      describe('cross-site requests', () => {
        test('refresh and logout without X-Requested-With: fetch are refused with 403, and spend nothing', async () => {
          later(100);
          const { token, cookie } = await login(app.url);
          for (const route of ['/auth/refresh', '/auth/logout', '/auth/logout-everywhere']) {
            const without: Record<string, string>[] = [
              {},
              { 'X-Requested-With': 'XMLHttpRequest' },
            ];
            for (const headers of without) {
              const res = await post(`${app.url}${route}`, {
                ...headers,
                ...bearer(token),
                Cookie: `${COOKIE}=${cookie}`,
              });
              assert.equal(
                res.status,
                403,
                `${route} ${'X-Requested-With' in headers ? `with X-Requested-With: ${headers['X-Requested-With']}` : 'without X-Requested-With'} must be refused (only "fetch" passes): a form on another site can send a cookie, not a header: ${show(res)}`,
              );
              assert.equal(
                (res.json as { error?: unknown })?.error,
                'forbidden',
                `The 403 body is JSON {"error": "forbidden", "message"}: ${show(res)}`,
              );
            }
          }
          assertRefreshed(
            await refresh(app.url, cookie),
            'The refresh token after those refusals (they spent nothing)',
          );
        });

        test('another Origin is refused, even with the header; our own, or none (curl), is not', async () => {
          later(100);
          let { cookie } = await login(app.url);
          const own = new URL(app.url).origin;
          for (const origin of [
            'http://evil.example',
            'null',
            own.replace('http:', 'https:'),
            `${own}.evil.example`,
          ]) {
            const res = await refresh(app.url, cookie, { ...CSRF, Origin: origin });
            assert.equal(
              res.status,
              403,
              `Origin: ${origin} must be refused (in Koa 3 ctx.origin is the Origin header itself: compare with \`\${ctx.protocol}://\${ctx.host}\`): ${show(res)}`,
            );
          }
          cookie = assertRefreshed(
            await refresh(app.url, cookie, { ...CSRF, Origin: own }),
            `Origin: ${own}, the server's own`,
          ).cookie;
          assertRefreshed(
            await refresh(app.url, cookie),
            'No Origin at all (curl, another server)',
          );
        });
      });

      describe('bad input', () => {
        test('a refresh cookie of the wrong length or alphabet, or none, is 400 invalid_grant, never a 500', async () => {
          const values = [
            '',
            'short',
            'A'.repeat(42),
            'A'.repeat(44),
            '!'.repeat(43),
            `%zz${'A'.repeat(40)}`,
            `"${'A'.repeat(43)}`,
            '\\'.repeat(43),
            'A'.repeat(4000),
          ];
          for (const value of values)
            assertInvalidGrant(
              await refresh(app.url, value),
              `The refresh cookie ${JSON.stringify(value.slice(0, 20))}`,
            );
          assertInvalidGrant(await post(`${app.url}/auth/refresh`, CSRF), 'No cookie at all');
          assertInvalidGrant(
            await post(`${app.url}/auth/refresh`, { ...CSRF, Cookie: '=; ;;refresh_token; a=b=c' }),
            'A malformed Cookie header',
          );
        });

        test('repeated parameters, two cookies, a 20 KB cookie, GET: no 500', async () => {
          later(100);
          const { cookie } = await login(app.url);
          const twice = await post(`${app.url}/auth/refresh?x=1&x=2`, {
            ...CSRF,
            Cookie: `${COOKIE}=${cookie}; ${COOKIE}=${'B'.repeat(43)}`,
          });
          assert.ok(
            twice.status === 200 || twice.status === 400,
            `Two refresh cookies: the first is used, or the request refused, never a 500: ${show(twice)}`,
          );
          assert.equal(
            (await refresh(app.url, 'A'.repeat(20 * 1024))).status,
            431,
            'Node refuses headers over 16 KB with 431',
          );
          assert.equal(
            (await get(`${app.url}/auth/refresh`)).status,
            405,
            'GET /auth/refresh: 405, refresh is POST',
          );
        });
      });

      describe('the stores', { skip: slow }, () => {
        test('the embedded store keeps a value until its time, and add() sets a free key once', async () => {
          const store = new stores.MemoryStore();
          await store.set('k', 'v', 110, 100);
          assert.deepEqual(
            await store.get(['k', 'other'], 109),
            ['v', undefined],
            'A value is there until its time; a missing key is undefined',
          );
          assert.deepEqual(await store.get(['k'], 110), [undefined], 'At its time it is gone');
          const adds = await Promise.all(
            Array.from({ length: 20 }, () => store.add('spent', '1', 200, 100)),
          );
          assert.equal(
            adds.filter(Boolean).length,
            1,
            'Of 20 adds of one key at once, exactly one sets it: that is how a refresh token is spent once',
          );
          assert.equal(
            await store.add('spent', '1', 300, 200),
            true,
            'Once expired, the key is free again',
          );
        });

        test('a full embedded store refuses to remember more rather than forget a revocation', async () => {
          const store = new stores.MemoryStore(3);
          for (const key of ['a', 'b', 'c']) await store.set(key, '1', 1000, 0);
          await assert.rejects(
            store.set('d', '1', 1000, 0),
            stores.StoreUnavailable,
            'Full, with nothing expired: StoreUnavailable (the app answers 503)',
          );
          await store.set('d', '1', 2000, 1000);
          assert.deepEqual(await store.get(['d'], 1000), ['1'], 'Expired entries make room');
        });

        test("one user's refreshes are refused long before the store fills; another user still logs out", async () => {
          const { Sessions } = (await importStep(9, 'sessions.ts')) as unknown as SessionsFile;
          const store = new stores.MemoryStore();
          const times = {
            refreshTtlSeconds: 86400,
            graceSeconds: GRACE,
            ttlSeconds: 300,
            clockToleranceSeconds: 5,
          };
          const sessions = new Sessions(store, times, createSecretKey(Buffer.from(SECRET)));
          const now = START;
          let { token } = await sessions.start('mallory', now);
          let refreshed = 0;
          let refusal: unknown;
          for (let i = 0; i < 5000 && refusal === undefined; i++) {
            try {
              token = (await sessions.rotate(token, now)).token;
              refreshed++;
            } catch (err) {
              refusal = err;
            }
          }
          assert.ok(
            refusal !== undefined && refreshed <= 2500,
            `A refresh loop by one user is refused after a day's share, not 5,000 in (it made ${refreshed})`,
          );
          assert.ok(
            (refusal as { retryAfter?: number }).retryAfter! > 0,
            'The refusal says when to try again (Retry-After): when the day ends',
          );
          const bob = await sessions.start('bob', now);
          const access = { sub: 'bob', iat: now, exp: now + 300, jti: 'bob-1' };
          await sessions.logout(bob.token, access, now);
          assert.match(
            String(await sessions.revoked(access, now)),
            /revoked/,
            "After mallory's loop, bob's logout still works and his token is refused",
          );
        });

        test('a store full of sessions keeps room for revocations, and says when it has room again', async () => {
          const store = new stores.MemoryStore(100);
          for (let i = 0; i < 90; i++) await store.set(`rt:${i}`, '1', 1000 + i, 0);
          const full = await store.set('rt:more', '1', 2000, 0).then(
            () => undefined,
            (err: unknown) => err,
          );
          assert.ok(
            full instanceof stores.StoreUnavailable,
            'Sessions fill nine tenths of the store, no more: StoreUnavailable (503)',
          );
          assert.equal(
            (full as { retryAfter?: number }).retryAfter,
            1000,
            'Retry-After is when the first entry expires, not a guess',
          );
          await store.revoke('deny:jti', '1', 2000, 0);
          assert.deepEqual(
            await store.get(['deny:jti'], 0),
            ['1'],
            'A revocation still finds room: a full store never stops a logout',
          );
        });

        test('a logged-out token stays refused after the embedded store restarts; a new login works', async () => {
          const clock = { now: START + 700_000 };
          const start = () => {
            const config = step.loadConfig({ JWT_SECRET: SECRET });
            withFastUsers(config);
            config.now = () => clock.now;
            return listen(exportedApp({ app: step.createApp(config) }, 9));
          };
          const before = await start();
          let token: string;
          try {
            ({ token } = await login(before.url));
            await post(`${before.url}/auth/logout`, { ...CSRF, ...bearer(token) });
            assertRevoked(await protectedWith(before.url, token), 'Logged out');
          } finally {
            await before.close();
          }
          clock.now += 10;
          const after = await start(); // same JWT_SECRET, a new process's memory
          try {
            assertRevoked(
              await protectedWith(after.url, token),
              'The logged-out token after a restart that forgot the logout',
            );
            const fresh = await login(after.url);
            assert.equal(
              (await protectedWith(after.url, fresh.token)).status,
              200,
              'A token issued after the restart works',
            );
          } finally {
            await after.close();
          }
        });

        test('when the store cannot answer, /login, /auth/refresh and /protected answer 503: they fail closed', async () => {
          const { RedisStore } = (await importStep(9, 'redis-store.ts')) as unknown as RedisFile;
          const config = step.loadConfig({ JWT_SECRET: SECRET });
          config.now = () => clock.now;
          config.store = new RedisStore(`redis://127.0.0.1:${await freePort()}`, 'test:', () => {});
          const running = await listen(exportedApp({ app: step.createApp(config) }, 9));
          try {
            const token = hmacToken(
              { alg: 'HS256', typ: 'JWT' },
              {
                sub: 'alice',
                iss: config.issuer,
                aud: config.audience,
                iat: clock.now,
                exp: clock.now + 300,
                jti: 'down',
              },
              SECRET,
            );
            const answers: [string, Answer][] = [
              ['GET /protected with a valid token', await protectedWith(running.url, token)],
              ['POST /auth/refresh', await refresh(running.url, 'A'.repeat(43))],
              ['GET /login as alice', await get(`${running.url}/login`, basic('alice', 'pyconid'))],
            ];
            for (const [what, res] of answers) {
              assert.equal(
                res.status,
                503,
                `${what} while the store is down: 503, never 200 (a revoked token must not pass) and never 500: ${show(res)}`,
              );
              assert.match(
                res.headers.get('retry-after') ?? '',
                /^\d+$/,
                `${what}: 503 with Retry-After`,
              );
            }
          } finally {
            await running.close();
            await config.store.close();
          }
        });
      });
    });

    const redisServer = findRedisServer();
    const skipRedis =
      slow ||
      (redisServer || process.env.CI ? false : `${noRedis} (under CI=true these tests must run)`);
    describe(
      'two instances sharing Redis',
      { concurrency: 1, skip: skipRedis || otherPart(9, 'two instances sharing Redis') },
      () => {
        let redis: RunningRedis | undefined;
        const shared = { now: START + 500_000 };
        const instances: { running: Running; store: Store }[] = [];
        const url = (i: number) => instances[i]!.running.url;
        before(async () => {
          assert.ok(
            redisServer,
            'Under CI=true the Redis tests must run: install redis-server (.ci/run does)',
          );
          redis = await startRedis(redisServer);
          for (let i = 0; i < 2; i++) {
            const config = step.loadConfig({ JWT_SECRET: SECRET, REDIS_URL: redis.url }, () => {});
            withFastUsers(config);
            config.now = () => shared.now;
            // The store connects on first use, waiting a second at most: on a
            // busy machine that can be too little, so connect before the tests.
            for (let tries = 0; ; tries++) {
              const answered = await config.store.get(['connect'], shared.now).then(
                () => true,
                () => false,
              );
              if (answered) break;
              assert.ok(tries < 50, 'The Redis store answers once Redis is up');
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
            instances.push({
              running: await listen(exportedApp({ app: step.createApp(config) }, 9)),
              store: config.store,
            });
          }
        });
        after(async () => {
          for (const { running, store } of instances) {
            await running.close();
            await store.close();
          }
          redis?.stop();
        });

        test('log out on one instance: the access token is refused by the other at once', async () => {
          const session = await login(url(0));
          assert.equal(
            (await protectedWith(url(1), session.token)).status,
            200,
            'A token from instance A works on instance B (one signing key)',
          );
          const res = await untilAnswered(() =>
            post(`${url(0)}/auth/logout`, {
              ...CSRF,
              ...bearer(session.token),
              Cookie: `${COOKIE}=${session.cookie}`,
            }),
          );
          assert.equal(res.status, 200, show(res));
          assertRevoked(
            await protectedWith(url(1), session.token),
            'Logged out on A, the token on B (the deny-list is in Redis)',
          );
          assertInvalidGrant(
            await refresh(url(1), session.cookie),
            'Logged out on A, the refresh token on B',
          );
        });

        test('a refresh token spent on one instance and replayed on the other revokes the family', async () => {
          shared.now += 100;
          const { cookie } = await login(url(0));
          const user = assertRefreshed(await refresh(url(0), cookie), 'A refresh on A');
          shared.now += GRACE;
          assertInvalidGrant(
            await refresh(url(1), cookie),
            'The same refresh token on B, after the grace window',
            /already used/,
          );
          assertInvalidGrant(await refresh(url(0), user.cookie), 'The successor, on A');
        });

        test('two refreshes at once on two instances get the same successor', async () => {
          shared.now += 100;
          const { cookie } = await login(url(0));
          const [a, b] = await Promise.all([refresh(url(0), cookie), refresh(url(1), cookie)]);
          assert.equal(
            assertRefreshed(a, 'On A').cookie,
            assertRefreshed(b, 'On B, at the same moment').cookie,
            'Both get the same successor: Redis spends a token once (SET NX), and both derive the same successor',
          );
        });

        test("log out everywhere on one instance refuses the user's tokens on the other", async () => {
          shared.now += 100;
          const session = await login(url(1));
          shared.now += 1;
          const res = await post(`${url(0)}/auth/logout-everywhere`, {
            ...CSRF,
            ...bearer((await login(url(0))).token),
          });
          assert.equal(res.status, 200, show(res));
          assertRevoked(
            await protectedWith(url(1), session.token),
            "A token of B's session after logging out everywhere on A",
          );
          shared.now += 1;
        });

        test('Redis comes back empty: a logged-out token is still refused, a new login works', async () => {
          shared.now += 100;
          const session = await login(url(0));
          await post(`${url(0)}/auth/logout`, { ...CSRF, ...bearer(session.token) });
          const client = await redisClient(redis!.url);
          await client.flushAll(); // what a restart without persistence leaves
          await client.quit();
          shared.now += 1;
          assertRevoked(
            await protectedWith(url(1), session.token),
            'The logged-out token, once Redis has lost its memory',
          );
          const fresh = await login(url(1));
          assert.equal((await protectedWith(url(0), fresh.token)).status, 200, 'A new login works');
        });

        test('Redis frozen: 503 with Retry-After instead of a hang, then 200 once it wakes', async () => {
          shared.now += 100;
          const { token } = await login(url(0));
          process.kill(redis!.pid, 'SIGSTOP');
          let frozen: Answer;
          try {
            frozen = await protectedWith(url(0), token);
          } finally {
            process.kill(redis!.pid, 'SIGCONT');
          }
          assert.equal(frozen.status, 503, `A frozen Redis: 503, never a hang: ${show(frozen)}`);
          assert.match(frozen.headers.get('retry-after') ?? '', /^\d+$/, 'with Retry-After');
          let res = frozen;
          for (let tries = 0; tries < 50 && res.status !== 200; tries++)
            res = await protectedWith(url(0), token);
          assert.equal(res.status, 200, `Redis awake: the same token works again: ${show(res)}`);
        });

        test('an eviction policy that could drop revocations is named, with the fix', async () => {
          const client = await redisClient(redis!.url);
          try {
            await client.configSet('maxmemory-policy', 'allkeys-lru');
            const store = instances[0]!.store as Store & {
              evictionProblem(): Promise<string | undefined>;
            };
            assert.match(
              String(await store.evictionProblem()),
              /allkeys-lru.*noeviction/,
              'Under allkeys-lru a full Redis evicts revocations: the app refuses to start, saying so',
            );
            await client.configSet('maxmemory-policy', 'noeviction');
            assert.equal(await store.evictionProblem(), undefined, 'noeviction is safe');
          } finally {
            await client.quit();
          }
        });

        test('Redis stops: both instances answer 503 rather than let a token through', async () => {
          shared.now += 100;
          const { token } = await login(url(0));
          redis?.stop();
          await new Promise((resolve) => setTimeout(resolve, 100));
          for (const i of [0, 1]) {
            const res = await protectedWith(url(i), token);
            assert.equal(
              res.status,
              503,
              `Instance ${'AB'[i]} with Redis gone: 503, fail closed: ${show(res)}`,
            );
          }
        });
      },
    );

    const chromium = findChromium();
    describe(
      'in a real browser',
      { concurrency: 1, skip: browserSkip(chromium) || otherPart(9, 'in a real browser') },
      () => {
        // The page's own server and clock.
        const clock = { now: START + 900_000 };
        const later = (seconds: number) => (clock.now += seconds);
        const app = serve(async () => {
          const config = step.loadConfig({ JWT_SECRET: SECRET });
          withFastUsers(config);
          config.now = () => clock.now;
          return exportedApp({ app: step.createApp(config) }, 9);
        });
        const viewport = { width: 1280, height: 900 };
        let browser: Browser;
        before(async () => {
          assert.ok(
            chromium,
            'Under CI=true the browser test must run: install Chromium (.ci/run does)',
          );
          browser = await launchChromium(chromium!);
        });
        after(() => browser?.close());

        /** Tabs of one browser: one cookie jar, one Web Locks manager, one BroadcastChannel. */
        async function tabs(count: number): Promise<{ context: BrowserContext; pages: Page[] }> {
          const context = await browser.newContext({ viewport });
          const pages: Page[] = [];
          for (let i = 0; i < count; i++) {
            const page = await context.newPage();
            page.setDefaultTimeout(5000);
            // The pages' clock stands still at the server's time plus 1 s; tests move both.
            if (i === 0) {
              // Ten seconds early: pauseAt may only go forward, and on a busy
              // machine a second can pass between the two calls.
              await page.clock.install({ time: clock.now * 1000 - 10_000 });
              await page.clock.pauseAt(clock.now * 1000 + 1000);
            }
            pages.push(page);
          }
          return { context, pages };
        }
        // Polled every 50 ms: a tab in the background gets no animation frames,
        // which waitForFunction polls on by default.
        // A wait that times out says what the page showed instead.
        const textIn = async (page: Page, element: string, pattern: RegExp) => {
          try {
            await (
              page.waitForFunction as unknown as (
                f: (a: [string, string]) => boolean,
                a: [string, string],
                o: object,
              ) => Promise<unknown>
            ).call(
              page,
              ([id, source]) => {
                const { document } = globalThis as unknown as {
                  document: { getElementById(id: string): { textContent: string | null } | null };
                };
                return new RegExp(source).test(document.getElementById(id)?.textContent ?? '');
              },
              [element, pattern.source],
              { polling: 50 },
            );
          } catch (err) {
            if ((err as Error).name !== 'TimeoutError') throw err;
            const shown = (
              (await page
                .locator(`#${element}`)
                .textContent()
                .catch(() => null)) ?? ''
            )
              .trim()
              .replace(/\s+/g, ' ');
            assert.fail(
              `The page never showed ${pattern} in #${element}; it showed ${JSON.stringify(shown.slice(0, 160))}`,
            );
          }
        };
        const status = (page: Page, pattern: RegExp) => textIn(page, 'status', pattern);
        const shownToken = async (page: Page) =>
          (
            await Promise.all(
              ['header', 'payload', 'signature'].map((p) =>
                page.locator(`#token-${p}`).textContent(),
              ),
            )
          ).join('.');
        // Focus and Enter, as a keyboard user would: click() first waits for the
        // button to stand still over two animation frames, which a paused clock
        // makes slow.
        async function press(page: Page, id: string): Promise<void> {
          await page.locator(`#${id}`).focus();
          await page.keyboard.press('Enter');
        }
        async function logIn(page: Page): Promise<void> {
          await page.getByLabel('Password').fill('pyconid');
          await page.keyboard.press('Enter');
          await status(page, /Logged in as alice/);
        }

        test('two tabs refresh at the same moment and stay logged in; a replayed refresh token logs every tab out', async () => {
          later(100);
          const { context, pages } = await tabs(2);
          const [first, second] = pages as [Page, Page];
          try {
            await first.goto(app.url);
            await status(first, /Not logged in/);
            await logIn(first);
            await second.goto(app.url);
            await status(second, /Logged in from the refresh cookie/);
            assert.deepEqual(
              await second.evaluate(
                '[localStorage.length, sessionStorage.length, document.cookie]',
              ),
              [0, 0, ''],
              "The access token is in memory only; the refresh cookie is HttpOnly, out of the page's reach",
            );

            // 20 s before exp, in both tabs at the same moment.
            later(280);
            await first.clock.fastForward(280_000);
            for (const page of pages) {
              await textIn(page, 'decoded-payload', new RegExp(`"exp": ${clock.now + 300}`));
            }
            for (const page of pages) {
              assert.doesNotMatch(
                (await page.locator('#status').textContent()) ?? '',
                /Logged out/,
                "Neither tab is logged out by the other's refresh",
              );
              const res = await protectedWith(app.url, await shownToken(page));
              assert.equal(
                res.status,
                200,
                `Each tab's renewed token opens /protected: ${show(res)}`,
              );
            }

            // The lab: copy the cookie, refresh (the copy is spent), replay it after the grace window.
            await press(first, 'lab-copy');
            await status(first, /Copied/);
            await press(first, 'refresh');
            await status(first, /Refreshed/);
            later(GRACE);
            await press(first, 'lab-replay');
            await status(first, /Logged out: the replay was refused/);
            await status(second, /Logged out/);
            for (const page of pages)
              assert.equal(
                await page.locator('#token-view').isHidden(),
                true,
                'Every tab has dropped its token',
              );
            await press(second, 'refresh');
            await status(second, /No refresh/);
          } finally {
            await context.close();
          }
        });

        test('logout refuses the old access token at once, and clears the cookie', async () => {
          later(100);
          const { context, pages } = await tabs(1);
          const [page] = pages as [Page];
          try {
            await page.goto(app.url);
            await logIn(page);
            const cookie = (await context.cookies()).find((c) => c.name === COOKIE);
            assert.ok(cookie, 'The browser holds the refresh cookie');
            assert.deepEqual(
              [cookie.httpOnly, cookie.sameSite, cookie.path],
              [true, 'Strict', '/auth'],
              'HttpOnly, SameSite=Strict, Path=/auth, as the browser sees it',
            );
            const token = await shownToken(page);
            assert.equal(
              (await protectedWith(app.url, token)).status,
              200,
              "The page's token works",
            );
            await press(page, 'logout');
            await status(page, /Logged out: this session is revoked/);
            assertRevoked(
              await protectedWith(app.url, token),
              "The page's access token, right after Log out, with no time passing",
            );
            assert.equal(
              (await context.cookies()).some((c) => c.name === COOKIE && c.value !== ''),
              false,
              'The refresh cookie is gone from the browser',
            );
          } finally {
            await context.close();
          }
        });
      },
    );
  });

  test('the page keeps the access token out of storage, and has no inline script', () => {
    const html = readFileSync(path.join(codeDir(9), 'public', 'index.html'), 'utf8');
    assert.doesNotMatch(
      html,
      /<script(?![^>]*\bsrc=)[^>]*>/,
      'Every <script> has a src (the CSP blocks inline ones)',
    );
    const js = readFileSync(path.join(codeDir(9), 'public', 'app.js'), 'utf8').replace(
      /\/\/.*$/gm,
      '',
    );
    assert.doesNotMatch(
      js,
      /localStorage|sessionStorage|document\.cookie/,
      'The access token lives in a variable only; the refresh token in an HttpOnly cookie',
    );
    assert.match(
      js,
      /navigator\.locks/,
      'One refresh at a time across tabs: Web Locks (navigator.locks)',
    );
  });
});
