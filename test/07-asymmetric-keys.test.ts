// Checkpoint 07: one login service signs with ES256 and publishes a JWKS;
// an API with no secret verifies with the public keys. Keys are published
// before they sign, kept until their tokens expire, and can be withdrawn.
import assert from 'node:assert/strict';
import {
  generateKeyPairSync,
  createPrivateKey,
  createPublicKey,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  FAST_USERS,
  START,
  bearer,
  bearerRules,
  goodClaims,
  goodHeader,
  hardened,
  loginRules,
  loginToken,
  throttleRules,
  type LoginLimits,
  type Throttle,
} from './helpers/hardened.ts';
import { get, show } from './helpers/http.ts';
import {
  checkpoint,
  codeDir,
  importStep,
  importStepFiles,
  listen,
  runFile,
  serve,
  stillRunning,
  type Listenable,
  slow,
} from './helpers/step.ts';
import { decode, hmacToken } from './helpers/tokens.ts';
import { es256Token } from '../tools/forge.ts';

interface StoredKey {
  kid: string;
  createdAt: number;
  signsAtOnce?: boolean;
  revokedAt?: number;
  privateJwk: JsonWebKey;
}
interface Times {
  publishAhead: number;
  keepAfter: number;
}
interface Ring {
  keys: StoredKey[];
  signingKey(now: number): { kid: string; key: KeyObject };
  jwks(now: number): { keys: JsonWebKey[] };
}
interface Keys {
  KeyRing: new (keys: StoredKey[], times: Times) => Ring;
  newKey(now: number, signsAtOnce?: boolean): StoredKey;
  rotate(keys: StoredKey[], now: number): StoredKey[];
  revoke(keys: StoredKey[], kid: string, now: number): StoredKey[];
  readKeyFile(file: string): StoredKey[];
  updateKeyFile(file: string, change: (keys: StoredKey[] | undefined) => StoredKey[]): StoredKey[];
  watchedKeyRing(
    file: string,
    times: Times,
    now: () => number,
    log?: (line: string) => void,
  ): () => Ring;
}
interface AuthConfig {
  keys: () => Ring;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  jwksMaxAgeSeconds: number;
  throttle: Throttle;
  now: () => number;
}
interface ApiConfig {
  jwksUrl: string;
  jwksMaxAgeSeconds: number;
  refetchSeconds: number;
  fetchTimeoutMs: number;
  now: () => number;
  log: (line: string) => void;
}
interface Auth {
  loadAuthConfig(env: object): AuthConfig;
  createAuthApp(config: AuthConfig): Listenable;
  LoginThrottle: new (limits: LoginLimits, now: () => number) => Throttle;
  LOGIN_LIMITS: LoginLimits;
}
interface Api {
  loadApiConfig(env: object): ApiConfig;
  createApiApp(config: ApiConfig): Listenable;
}

/** runFile as one exit code and one output, as rotate-key's tests read it. */
async function runFor(
  ms: number,
  file: string,
  env: Record<string, string>,
): Promise<{ code: number; output: string }> {
  const run = await runFile(file, env, ms);
  return { code: run.status ?? -1, output: `${run.stdout}${run.stderr}${stillRunning(run, ms)}` };
}

/** The login service's defaults: JWKS max-age 60 s, tokens 40 s, leeway 5 s. */
const TIMES: Times = { publishAhead: 65, keepAfter: 45 };

checkpoint(7, () => {
  let keys: Keys;
  let auth: Auth;
  let api: Api;
  /** The login service's keys, as the file would hold them; tests rotate and withdraw. */
  let stored: StoredKey[];
  let ring: Ring;
  const setKeys = (list: StoredKey[]) => {
    stored = list;
    ring = new keys.KeyRing(stored, TIMES);
  };
  const scratch = mkdtempSync(path.join(tmpdir(), 'jwt-step07-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  let files = 0;
  const scratchFile = () => path.join(scratch, `keys-${++files}.json`);

  // The JWKS as the API sees it: through a switch that counts fetches, and
  // can take the login service down, hang it, or send another max-age.
  const jwks = { down: false, hang: false, maxAge: undefined as number | undefined, fetches: 0 };
  const h = hardened({
    alg: 'ES256',
    loginUrl: () => authServer.url,
    apiUrl: () => apiServer.url,
    sign: (header, claims) => {
      const { kid, key } = ring.signingKey(h.clock.now);
      return es256Token({ kid, ...header }, claims, key);
    },
  });

  before(async () => {
    keys = (await importStepFiles(7, ['keys.ts', 'key-file.ts'])) as unknown as Keys;
    auth = (await importStepFiles(7, ['auth-server.ts', 'throttle.ts'])) as unknown as Auth;
    api = (await importStepFiles(7, ['api-server.ts', 'jwks-client.ts'])) as unknown as Api;
    setKeys([keys.newKey(START, true)]);
  });

  const authConfig = (env: Record<string, string> = {}) => {
    const config = auth.loadAuthConfig({ KEYS_FILE: scratchFile(), ...env });
    // Cheap hashes (see FAST_USERS): the login rules hash a hundred times.
    return Object.assign(config, { keys: () => ring, now: () => h.clock.now, users: FAST_USERS });
  };
  const authServer = serve(async () => auth.createAuthApp(authConfig()));
  const jwksSwitch = serve(
    async () =>
      ({
        callback: () => async (req: IncomingMessage, res: ServerResponse) => {
          jwks.fetches++;
          if (jwks.down) return res.destroy();
          if (jwks.hang) return; // never answers: the API must give up on its own
          const upstream = await fetch(`${authServer.url}${req.url}`);
          const cacheControl =
            jwks.maxAge === undefined
              ? (upstream.headers.get('cache-control') ?? '')
              : `public, max-age=${jwks.maxAge}`;
          res
            .writeHead(upstream.status, {
              'Content-Type': 'application/json',
              'Cache-Control': cacheControl,
            })
            .end(await upstream.text());
        },
      }) as unknown as Listenable,
  );
  const makeApi = (overrides: Partial<ApiConfig> = {}) => {
    const config = api.loadApiConfig({ JWKS_URL: `${jwksSwitch.url}/.well-known/jwks.json` });
    Object.assign(config, { now: () => h.clock.now, log: () => {} }, overrides);
    return api.createApiApp(config);
  };
  const apiServer = serve(async () => makeApi());

  /** Run `body` with a fresh API (nothing cached), the clock and the JWKS switch put back after. */
  async function withFreshApi(
    body: (url: string) => Promise<void>,
    overrides: Partial<ApiConfig> = {},
  ): Promise<void> {
    const fresh = await listen(makeApi(overrides));
    const start = h.clock.now;
    const before = stored;
    try {
      await body(fresh.url);
    } finally {
      Object.assign(jwks, { down: false, hang: false, maxAge: undefined });
      h.clock.now = start;
      setKeys(before);
      await fresh.close();
    }
  }
  const protectedWith = (url: string, token: string) => get(`${url}/protected`, bearer(token));
  const madeUpKid = (kid: string) =>
    es256Token(goodHeader(h, { kid }), goodClaims(h), ring.signingKey(h.clock.now).key);
  const signedBy = (key: StoredKey) =>
    es256Token(
      goodHeader(h, { kid: key.kid }),
      goodClaims(h),
      createPrivateKey({ key: key.privateJwk, format: 'jwk' }),
    );

  describe('the login service', () => {
    test('publishes its public keys as a JWKS, and never the private part', async () => {
      const res = await get(`${h.loginUrl}/.well-known/jwks.json`);
      assert.equal(res.status, 200, show(res));
      const { keys: published } = res.json as { keys: Record<string, unknown>[] };
      assert.ok(published.length >= 1, 'The JWKS publishes at least the signing key');
      for (const jwk of published) {
        assert.deepEqual(
          Object.keys(jwk).sort(),
          ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'],
          'kty, crv, x, y, kid, alg, use: and no d, the private key',
        );
        assert.equal(jwk.kty, 'EC');
        assert.equal(jwk.crv, 'P-256');
        assert.equal(jwk.alg, 'ES256');
        assert.equal(jwk.use, 'sig');
      }
      assert.equal(
        res.headers.get('cache-control'),
        'public, max-age=60',
        'APIs may keep the JWKS 60 s (JWKS_MAX_AGE_SECONDS), no longer',
      );
    });

    test('signs ES256 with a kid that the JWKS publishes', async () => {
      const { header } = decode(await loginToken(h));
      assert.equal(header.alg, 'ES256', 'ES256: an EC P-256 key, signatures of 64 bytes');
      const published = (
        (await get(`${h.loginUrl}/.well-known/jwks.json`)).json as { keys: { kid: string }[] }
      ).keys.map((k) => k.kid);
      assert.ok(
        typeof header.kid === 'string' && published.includes(header.kid),
        'The header names its key: kid',
      );
    });

    loginRules(h);
  });

  describe('login throttling, as in step 06', () =>
    throttleRules({
      limits: () => auth.LOGIN_LIMITS,
      serve: (limits, now) => {
        const config = authConfig();
        config.throttle = new auth.LoginThrottle(limits, now);
        return { app: auth.createAuthApp(config), throttle: config.throttle };
      },
    }));

  describe('the key lifecycle', () => {
    test('a new key is published at once and signs one JWKS max-age and 5 s later', () => {
      const first = keys.newKey(START, true);
      const list = keys.rotate([first], START + 100);
      const second = list.at(-1)!;
      const at = (now: number) => new keys.KeyRing(list, TIMES);
      const kids = (now: number) =>
        at(now)
          .jwks(now)
          .keys.map((k) => k.kid);
      assert.deepEqual(
        kids(START + 100),
        [first.kid, second.kid],
        'The new key is in the JWKS as soon as it exists',
      );
      assert.equal(
        at(START + 164).signingKey(START + 164).kid,
        first.kid,
        'It does not sign before every API has had a max-age to fetch it',
      );
      assert.equal(
        at(START + 165).signingKey(START + 165).kid,
        second.kid,
        'It signs 65 s after it was made',
      );
    });

    test('the key before stays published until the last token it signed has expired, no longer', () => {
      const first = keys.newKey(START, true);
      const list = keys.rotate([first], START + 100);
      const handover = START + 165;
      const ring = new keys.KeyRing(list, TIMES);
      assert.ok(
        ring.jwks(handover + 44).keys.some((k) => k.kid === first.kid),
        'A token signed just before the handover lives 40 s, and 5 s of leeway',
      );
      assert.ok(
        !ring.jwks(handover + 45).keys.some((k) => k.kid === first.kid),
        'Then the old key leaves the JWKS',
      );
    });

    test("how long old keys are published comes from the login service's TOKEN_TTL_SECONDS, not from the rotating command", () => {
      const file = scratchFile();
      writeFileSync(file, JSON.stringify({ keys: [keys.newKey(START, true)] }), { mode: 0o600 });
      keys.updateKeyFile(file, (list) => keys.rotate(list!, START + 100));
      const config = auth.loadAuthConfig({ KEYS_FILE: file, TOKEN_TTL_SECONDS: '600' });
      const first = keys.readKeyFile(file)[0]!;
      const handover = START + 165;
      assert.ok(
        config
          .keys()
          .jwks(handover + 600)
          .keys.some((k) => k.kid === first.kid),
        'With 600 s tokens the old key stays published 605 s after the handover',
      );
      assert.ok(
        !config
          .keys()
          .jwks(handover + 605)
          .keys.some((k) => k.kid === first.kid),
        'and not longer',
      );
    });

    test('20 rotations a second apart: every key signs only after a max-age in the JWKS, and stays until its tokens expire', () => {
      let list = [keys.newKey(START, true)];
      for (let i = 1; i <= 20; i++) list = keys.rotate(list, START + i);
      const ring = new keys.KeyRing(list, TIMES);
      const signedAt = new Map<string, number>();
      for (let now = START; now <= START + 200; now++) {
        const { kid } = ring.signingKey(now);
        const key = list.find((k) => k.kid === kid)!;
        assert.ok(
          key.signsAtOnce || now - key.createdAt >= 65,
          `At ${now - START} s the signing key ${kid.slice(0, 8)} must have been published 65 s before, not ${now - key.createdAt} s`,
        );
        signedAt.set(kid, now);
        const published = ring.jwks(now).keys.map((k) => k.kid);
        for (const [signer, last] of signedAt) {
          if (now - last <= 45)
            assert.ok(
              published.includes(signer),
              `At ${now - START} s a token signed ${now - last} s ago by ${signer.slice(0, 8)} must still find its key`,
            );
        }
      }
    });

    test('--revoke withdraws a key at once, and a new key signs from the same second', () => {
      const first = keys.newKey(START, true);
      const list = keys.revoke([first], first.kid, START + 10);
      const ring = new keys.KeyRing(list, TIMES);
      const published = ring.jwks(START + 10).keys.map((k) => k.kid);
      assert.ok(!published.includes(first.kid), 'The withdrawn key leaves the JWKS at once');
      const { kid } = ring.signingKey(START + 10);
      assert.notEqual(kid, first.kid, 'It never signs again');
      assert.ok(published.includes(kid), 'Its replacement is published and signs at once');
    });
  });

  describe('the key file', () => {
    test('is written whole with mode 0600, and a key file readable by others is made 0600 at start', () => {
      const file = scratchFile();
      keys.updateKeyFile(file, () => [keys.newKey(START, true)]);
      if (process.platform !== 'win32')
        assert.equal(statSync(file).mode & 0o777, 0o600, 'Private keys: owner only');
      assert.deepEqual(
        readdirSync(path.dirname(file)).filter(
          (f) => f.startsWith(path.basename(file)) && f !== path.basename(file),
        ),
        [],
        'No temporary file or lock is left behind',
      );
      if (process.platform === 'win32') return;
      chmodSync(file, 0o644);
      const logged: string[] = [];
      keys.watchedKeyRing(
        file,
        TIMES,
        () => START,
        (line) => logged.push(line),
      );
      assert.equal(
        statSync(file).mode & 0o777,
        0o600,
        'An existing 0644 key file is tightened to 0600',
      );
      assert.equal(logged.length, 1, `One line says so: ${logged.join(' | ')}`);
    });

    test('parallel rotations wait for each other: no key is lost', { skip: slow }, async () => {
      const file = scratchFile();
      keys.updateKeyFile(file, () => [keys.newKey(START, true)]);
      const rotateKey = path.join(codeDir(7), 'rotate-key.ts');
      const runs = await Promise.all(
        Array.from({ length: 4 }, () => runFor(30_000, rotateKey, { KEYS_FILE: file })),
      );
      for (const r of runs) assert.equal(r.code, 0, `Every rotation succeeds: ${r.output}`);
      assert.equal(
        keys.readKeyFile(file).length,
        5,
        'One key at first and 4 rotations: 5 keys, none overwritten by a rotation running at the same time',
      );
    });

    test('a lock left by a rotation that was killed is taken over', () => {
      const file = scratchFile();
      keys.updateKeyFile(file, () => [keys.newKey(START, true)]);
      writeFileSync(`${file}.lock`, '2147483646'); // a pid no process has
      keys.updateKeyFile(file, (list) => keys.rotate(list!, START + 1));
      assert.equal(keys.readKeyFile(file).length, 2, 'The rotation went ahead');
    });

    test('a key file that is not valid stops the service at start, in a message naming the file', () => {
      const cases: [string, string][] = [
        ['{}', 'holds no keys'],
        ['{"keys":[]}', 'holds no keys'],
        ['{"keys":', 'is not JSON'],
        [
          '{"keys":[{"kid":"k","createdAt":1,"privateJwk":{"kty":"EC"}}]}',
          'not an EC P-256 private key',
        ],
      ];
      for (const [text, problem] of cases) {
        const file = scratchFile();
        writeFileSync(file, text, { mode: 0o600 });
        assert.throws(
          () => auth.loadAuthConfig({ KEYS_FILE: file }),
          (err: Error) => err.message.includes(file) && err.message.includes(problem),
          `A key file of ${text} must be refused with "${problem}" and its path`,
        );
      }
      const underAFile = path.join(scratchFile(), 'keys.json');
      writeFileSync(path.dirname(underAFile), 'a file, not a folder');
      assert.throws(
        () => auth.loadAuthConfig({ KEYS_FILE: underAFile }),
        /KEYS_FILE .* a part of its path is a file/,
        'A KEYS_FILE under a regular file says so, not EEXIST ... mkdir',
      );
    });

    test('a key file broken while the service runs: one line in the log, and logins go on with the keys it had', async () => {
      const file = scratchFile();
      keys.updateKeyFile(file, () => [keys.newKey(START, true)]);
      const logged: string[] = [];
      const watched = keys.watchedKeyRing(
        file,
        TIMES,
        () => START,
        (line) => logged.push(line),
      );
      const kid = watched().signingKey(START).kid;
      for (const text of ['{}', '', '{"keys":[]}']) {
        writeFileSync(file, text);
        assert.equal(
          watched().signingKey(START).kid,
          kid,
          `With a key file of ${JSON.stringify(text)} the service signs with the keys it read before`,
        );
        assert.equal(watched().signingKey(START).kid, kid, 'and again');
      }
      assert.equal(
        logged.length,
        3,
        `One line per broken version of the file, not one per request: ${logged.join(' | ')}`,
      );
      assert.ok(
        logged.every((line) => line.includes(file)),
        'Each line names the file',
      );
      const config = Object.assign(auth.loadAuthConfig({ KEYS_FILE: scratchFile() }), {
        keys: watched,
        now: () => START,
      });
      const running = await listen(auth.createAuthApp(config));
      try {
        const res = await get(`${running.url}/login`, {
          Authorization: `Basic ${Buffer.from('alice:pyconid').toString('base64')}`,
        });
        assert.equal(res.status, 200, `/login still works, never a 500: ${show(res)}`);
      } finally {
        await running.close();
      }
    });
  });

  describe('the API', () => {
    bearerRules(h);

    test('refuses a token signed by a key that is not in the JWKS, even with a real kid', async () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const forged = es256Token(
        { alg: 'ES256', typ: 'JWT', kid: ring.signingKey(h.clock.now).kid },
        goodClaims(h),
        privateKey,
      );
      const res = await get(`${h.apiUrl}/protected`, bearer(forged));
      assert.equal(res.status, 401, `Only the login service's keys sign: ${show(res)}`);
    });

    test('refuses an unknown kid', async () => {
      const res = await get(
        `${h.apiUrl}/protected`,
        bearer(h.sign({ alg: 'ES256', typ: 'JWT', kid: 'no-such-key' }, goodClaims(h))),
      );
      assert.equal(res.status, 401, show(res));
    });

    test('refuses HS256 keyed with the public key (algorithm confusion)', async () => {
      const { kid } = ring.signingKey(h.clock.now);
      const jwk = ring.jwks(h.clock.now).keys.find((k) => k.kid === kid)!;
      const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({
        type: 'spki',
        format: 'pem',
      });
      const res = await get(
        `${h.apiUrl}/protected`,
        bearer(hmacToken({ alg: 'HS256', typ: 'JWT', kid }, goodClaims(h), pem)),
      );
      assert.equal(
        res.status,
        401,
        `A public key is public: an HMAC keyed with it proves nothing: ${show(res)}`,
      );
    });

    test('refuses a key embedded in the token (jwk)', async () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const token = es256Token(
        {
          alg: 'ES256',
          typ: 'JWT',
          kid: ring.signingKey(h.clock.now).kid,
          jwk: publicKey.export({ format: 'jwk' }),
        },
        goodClaims(h),
        privateKey,
      );
      const res = await get(`${h.apiUrl}/protected`, bearer(token));
      assert.equal(res.status, 401, show(res));
    });

    test('through a rotation no genuine token is refused: the API has the new key before it signs', async () => {
      await withFreshApi(async (url) => {
        const start = h.clock.now;
        setKeys(keys.rotate(stored, start));
        const newKid = stored.at(-1)!.kid;
        for (let t = 0; t <= 130; t += 5) {
          h.clock.now = start + t;
          const token = await loginToken(h);
          const res = await protectedWith(url, token);
          assert.equal(
            res.status,
            200,
            `${t} s after the rotation, a fresh token with kid ${decode(token).header.kid} must open /protected: ${show(res)}`,
          );
        }
        assert.equal(decode(await loginToken(h)).header.kid, newKid, 'By then the new key signs');
      });
    });

    test('a withdrawn key is refused within the JWKS max-age, while the API answers from its cache until then', async () => {
      await withFreshApi(async (url) => {
        const leaked = stored.at(-1)!;
        assert.equal(
          (await protectedWith(url, signedBy(leaked))).status,
          200,
          'Before: the key is trusted',
        );
        const start = h.clock.now;
        setKeys(keys.revoke(stored, leaked.kid, start));
        h.clock.now = start + 59;
        const fresh = await loginToken(h);
        assert.notEqual(
          decode(fresh).header.kid,
          leaked.kid,
          'The login service signs with the new key at once',
        );
        assert.equal(
          (await protectedWith(url, fresh)).status,
          200,
          'A token from the new key is fetched for and accepted',
        );
        h.clock.now = start + 60;
        const res = await protectedWith(url, signedBy(leaked));
        assert.equal(
          res.status,
          401,
          `60 s (the max-age) after it was withdrawn, a fresh token signed with the leaked key is refused: ${show(res)}`,
        );
      });
    });

    test('the API keeps the JWKS no longer than its Cache-Control max-age says', async () => {
      await withFreshApi(async (url) => {
        jwks.maxAge = 10;
        const leaked = stored.at(-1)!;
        assert.equal(
          (await protectedWith(url, signedBy(leaked))).status,
          200,
          'Before: the key is trusted',
        );
        setKeys(keys.revoke(stored, leaked.kid, h.clock.now));
        h.clock.now += 10;
        const res = await protectedWith(url, signedBy(leaked));
        assert.equal(
          res.status,
          401,
          `With max-age=10 the withdrawn key is refused 10 s later: ${show(res)}`,
        );
      });
    });

    test('half-way through max-age the API fetches again in the background, answering from its cache meanwhile', async () => {
      await withFreshApi(async (url) => {
        const token = await loginToken(h);
        assert.equal(
          (await protectedWith(url, token)).status,
          200,
          'The first call loads the keys',
        );
        const fetched = jwks.fetches;
        h.clock.now += 30;
        assert.equal(
          (await protectedWith(url, token)).status,
          200,
          'At half the max-age the answer comes from the keys in hand',
        );
        await protectedWith(url, madeUpKid('waits-for-the-fetch-in-flight'));
        assert.equal(jwks.fetches, fetched + 1, 'and one fetch ran meanwhile');
      });
    });

    test('50 requests at once with made-up kids: one JWKS fetch, shared, and 401 for all', async () => {
      await withFreshApi(async (url) => {
        assert.equal(
          (await protectedWith(url, await loginToken(h))).status,
          200,
          'The first call loads the keys',
        );
        h.clock.now += 1;
        const fetched = jwks.fetches;
        const answers = await Promise.all(
          Array.from({ length: 50 }, (_, i) => protectedWith(url, madeUpKid(`made-up-${i}`))),
        );
        assert.deepEqual(
          [...new Set(answers.map((a) => a.status))],
          [401],
          'Every made-up kid is refused, never a 500',
        );
        assert.equal(
          jwks.fetches - fetched,
          1,
          `One fetch for 50 unknown kids, not one each: got ${jwks.fetches - fetched}`,
        );
        const again = await protectedWith(url, madeUpKid('made-up-again'));
        assert.equal(again.status, 401, show(again));
        assert.equal(jwks.fetches - fetched, 1, 'Another made-up kid within 5 s fetches nothing');
      });
    });

    test('a hung login service: one fetch at a time, then 503 at once rather than a pile-up', async () => {
      await withFreshApi(
        async (url) => {
          jwks.hang = true;
          const fetched = jwks.fetches;
          const token = h.sign(goodHeader(h), goodClaims(h));
          const answers = await Promise.all(
            Array.from({ length: 20 }, () => protectedWith(url, token)),
          );
          assert.deepEqual(
            [...new Set(answers.map((a) => a.status))],
            [503],
            'No keys, no verdict: 503',
          );
          assert.equal(
            jwks.fetches - fetched,
            1,
            `20 requests waited on one fetch, got ${jwks.fetches - fetched}`,
          );
          const later = await protectedWith(url, token);
          assert.equal(later.status, 503, show(later));
          assert.match(
            later.headers.get('retry-after') ?? '',
            /^[0-9]+$/,
            'A 503 says when to try again',
          );
          assert.equal(
            jwks.fetches - fetched,
            1,
            'Within 5 s of a failed fetch the API does not try again',
          );
        },
        { fetchTimeoutMs: 300 },
      );
    });

    test('answers 503 when the JWKS cannot be fetched, and recovers when it comes back', async () => {
      await withFreshApi(async (url) => {
        const token = await loginToken(h);
        jwks.down = true;
        const down = await protectedWith(url, token);
        assert.equal(
          down.status,
          503,
          `No keys, no verdict: 503, not 401 and never 500: ${show(down)}`,
        );
        assert.equal(
          (down.json as { error?: string }).error,
          'temporarily_unavailable',
          'A JSON body says why',
        );
        jwks.down = false;
        h.clock.now += 6;
        const up = await protectedWith(url, token);
        assert.equal(
          up.status,
          200,
          `Once the login service is back, the API fetches the keys again: ${show(up)}`,
        );
      });
    });

    test('a key that signs at once (after a --revoke) is fetched on first sight, and a made-up kid right after is not', async () => {
      await withFreshApi(async (url) => {
        assert.equal(
          (await protectedWith(url, await loginToken(h))).status,
          200,
          'The first call loads the keys',
        );
        h.clock.now += 1;
        setKeys(keys.revoke(stored, stored.at(-1)!.kid, h.clock.now));
        const fetched = jwks.fetches;
        const res = await protectedWith(url, await loginToken(h));
        assert.equal(
          res.status,
          200,
          `The replacement key's kid is unknown to the API: it fetches the JWKS once and finds it: ${show(res)}`,
        );
        await protectedWith(url, madeUpKid('made-up'));
        assert.equal(
          jwks.fetches - fetched,
          1,
          'A made-up kid within 5 s of that fetch fetches nothing',
        );
      });
    });
  });

  describe('settings', () => {
    test('every setting is checked at start: a whole number of seconds, an http(s) URL', () => {
      const bad: [object, RegExp][] = [
        [{ TOKEN_TTL_SECONDS: 'abc' }, /TOKEN_TTL_SECONDS/],
        [{ TOKEN_TTL_SECONDS: '-1' }, /TOKEN_TTL_SECONDS/],
        [{ TOKEN_TTL_SECONDS: '0x10' }, /TOKEN_TTL_SECONDS/],
        [{ TOKEN_TTL_SECONDS: ' 40 ' }, /TOKEN_TTL_SECONDS/],
        [{ JWKS_MAX_AGE_SECONDS: '0' }, /JWKS_MAX_AGE_SECONDS/],
        [{ JWKS_MAX_AGE_SECONDS: '86400' }, /JWKS_MAX_AGE_SECONDS/],
      ];
      for (const [env, name] of bad) {
        assert.throws(
          () => api.loadApiConfig(env),
          name,
          `The API refuses ${JSON.stringify(env)}, naming the setting: abc would switch the lifetime check off, -1 would refuse every token`,
        );
        assert.throws(
          () => auth.loadAuthConfig({ KEYS_FILE: scratchFile(), ...env }),
          name,
          `The login service refuses ${JSON.stringify(env)}, naming the setting`,
        );
      }
      for (const url of ['not a url', 'ftp://localhost/jwks.json', '']) {
        assert.throws(
          () => api.loadApiConfig({ JWKS_URL: url }),
          /JWKS_URL must be an http/,
          `JWKS_URL=${JSON.stringify(url)} is refused at start`,
        );
      }
      assert.equal(
        api.loadApiConfig({ JWKS_URL: 'https://login.example/.well-known/jwks.json' }).jwksUrl,
        'https://login.example/.well-known/jwks.json',
      );
    });

    test(
      'run with a bad setting, each service exits before listening, in one line naming it',
      { skip: slow },
      async () => {
        const start = (file: string, env: Record<string, string>) =>
          runFor(30_000, path.join(codeDir(7), file), { KEYS_FILE: scratchFile(), ...env });
        const broken = scratchFile();
        writeFileSync(broken, '{}', { mode: 0o600 });
        const cases: [string, Record<string, string>, string][] = [
          ['api-server.ts', { JWKS_URL: 'not a url' }, 'JWKS_URL'],
          ['auth-server.ts', { KEYS_FILE: broken }, broken],
        ];
        const runs = await Promise.all(cases.map(([file, env]) => start(file, env)));
        runs.forEach((r, i) => {
          const [file, env, name] = cases[i]!;
          assert.equal(
            r.code,
            1,
            `${file} with ${JSON.stringify(env)} exits with status 1: ${r.output}`,
          );
          assert.equal(
            r.output.trim().split('\n').length,
            1,
            `${file} with ${JSON.stringify(env)}: one line, no stack trace: ${r.output}`,
          );
          assert.ok(r.output.includes(name), `${file}: the line names ${name}: ${r.output}`);
        });
      },
    );
  });

  test('the key file round-trips without losing the private key', () => {
    const file = scratchFile();
    keys.updateKeyFile(file, () => stored);
    const key = createPrivateKey({
      key: JSON.parse(readFileSync(file, 'utf8')).keys.at(-1).privateJwk,
      format: 'jwk',
    });
    assert.equal(key.asymmetricKeyType, 'ec');
  });
});
