// Checkpoint 06: the talk's app, hardened per RFC 7519, 7518, 8725, 6750 and 7617.
import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import {
  withFastUsers,
  bearerHeaderRules,
  claimRules,
  forgedTokens,
  goodClaims,
  goodHeader,
  hardened,
  loginRules,
  type LoginLimits,
  type Throttle,
  hmacThrottleRules,
  type HmacLoginStep,
} from './helpers/hardened.ts';
import {
  checkpoint,
  codeDir,
  exportedApp,
  importStep,
  importStepFiles,
  runFile,
  serve,
  slow,
  stillRunning,
} from './helpers/step.ts';
import { hmacToken } from './helpers/tokens.ts';

// The parts of step 06 these tests use, from the files that hold them.
const STEP06_FILES = ['app.ts', 'config.ts', 'passwords.ts', 'throttle.ts'];
interface Config {
  key: KeyObject;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  now: () => number;
}
interface Step06 {
  loadConfig(env: Record<string, string | undefined>, warn?: (message: string) => void): Config;
  createApp(config: Config): unknown;
  LoginThrottle: new (limits: LoginLimits, now: () => number) => Throttle;
  LOGIN_LIMITS: LoginLimits;
  checkUser(
    users: Record<string, string>,
    name: string,
    password: string,
    compare?: (p: string, s: string) => Promise<boolean>,
  ): Promise<boolean>;
  hashPassword(password: string, salt?: Buffer): Promise<string>;
}

const SECRET = 'a-test-key-of-32-bytes-or-more-0123456789';

checkpoint(6, () => {
  let step: Step06;
  before(async () => {
    step = (await importStepFiles(6, STEP06_FILES)) as unknown as Step06;
    assert.equal(
      typeof step.createApp,
      'function',
      'app.ts exports createApp(config), so that tests can give it a key and a clock',
    );
    assert.equal(
      typeof step.loadConfig,
      'function',
      'config.ts exports loadConfig(env), which reads JWT_SECRET and TOKEN_TTL_SECONDS',
    );
  });

  describe('the key', () => {
    test('a JWT_SECRET under 32 bytes is refused, with how to make one', () => {
      assert.throws(
        () => step.loadConfig({ JWT_SECRET: 'indonesia' }),
        /32[\s\S]*npm run secret/,
        'JWT_SECRET="indonesia" must be refused with an error that says 32 bytes and how to make a key (npm run secret): an HS256 key has at least 256 bits (RFC 7518 section 3.2)',
      );
    });

    test('32 bytes of JWT_SECRET become a secret KeyObject, made once', () => {
      const config = step.loadConfig({ JWT_SECRET: SECRET });
      assert.equal(
        config.key.type,
        'secret',
        'createSecretKey(Buffer.from(JWT_SECRET)), not the string itself',
      );
      assert.equal(config.key.export().toString(), SECRET, 'The key holds the bytes of JWT_SECRET');
    });

    test('JWT_SECRET is counted in bytes, not characters (UTF-8)', () => {
      // 16 characters of 2 bytes each: 32 bytes, as long as a key must be.
      const value = 'äöüéèàçñåøæœßþðł';
      assert.equal(value.length, 16);
      let key: { export(): Buffer } | undefined;
      try {
        key = step.loadConfig({ JWT_SECRET: value }).key;
      } catch (err) {
        assert.fail(
          `JWT_SECRET=${JSON.stringify(value)} is 16 characters but 32 bytes, long enough; it was refused ("${(err as Error).message.split('\n')[0]}"): count Buffer.from(value, 'utf8').length`,
        );
      }
      assert.equal(key?.export().length, 32, 'The key holds the 32 bytes of the UTF-8 text');
    });

    test('without JWT_SECRET a random key is made, with a warning', () => {
      const warnings: string[] = [];
      const a = step.loadConfig({}, (m) => warnings.push(m));
      const b = step.loadConfig({}, () => {});
      assert.ok(
        !a.key.export().equals(b.key.export()),
        'Without JWT_SECRET each start must make a new random key (crypto.randomBytes): two starts got the same one',
      );
      assert.ok(a.key.export().length >= 32, 'The random key has at least 32 bytes');
      assert.match(warnings.join('\n'), /restart/, 'Warn that tokens will not survive a restart');
    });

    test("TOKEN_TTL_SECONDS sets the lifetime; the default is the talk's 40 s", () => {
      assert.equal(
        step.loadConfig({ JWT_SECRET: SECRET }).ttlSeconds,
        40,
        "Without TOKEN_TTL_SECONDS a token lives the talk's 40 s",
      );
      assert.equal(
        step.loadConfig({ JWT_SECRET: SECRET, TOKEN_TTL_SECONDS: '300' }).ttlSeconds,
        300,
        'TOKEN_TTL_SECONDS=300 gives tokens of 300 s',
      );
      assert.throws(
        () => step.loadConfig({ JWT_SECRET: SECRET, TOKEN_TTL_SECONDS: 'forever' }),
        /TOKEN_TTL_SECONDS/,
        'TOKEN_TTL_SECONDS=forever is refused, naming the setting',
      );
    });

    test('TOKEN_TTL_SECONDS takes decimal digits only, from 1 s to a day, and says so', () => {
      for (const value of ['0x10', ' 40 ', '1e3', '-1', '0', '40.5', '', '86401', 'abc']) {
        assert.throws(
          () => step.loadConfig({ JWT_SECRET: SECRET, TOKEN_TTL_SECONDS: value }),
          /TOKEN_TTL_SECONDS must be a whole number of seconds/,
          `TOKEN_TTL_SECONDS=${JSON.stringify(value)} must be refused with a message naming the setting: Number() would read it as ${Number(value)}`,
        );
      }
      assert.equal(
        step.loadConfig({ JWT_SECRET: SECRET, TOKEN_TTL_SECONDS: '86400' }).ttlSeconds,
        86400,
        'A day is the longest lifetime',
      );
    });

    test('a JWT_SECRET of one repeated character or only whitespace is refused, however long', () => {
      for (const value of [' '.repeat(32), 'a'.repeat(40), '\t'.repeat(32), ' \n'.repeat(16)]) {
        assert.throws(
          () => step.loadConfig({ JWT_SECRET: value }),
          /JWT_SECRET[\s\S]*npm run secret/,
          `JWT_SECRET=${JSON.stringify(value)} must be refused: 32 bytes, and no secret in them`,
        );
      }
    });

    test(
      'run with a bad setting, the server exits before listening, in one line naming it',
      { skip: slow },
      async () => {
        const app = path.join(codeDir(6), 'app.ts');
        // Every bad setting throws a ConfigError (each is tested above, in
        // this process); one shows the way out of the process they all take.
        const cases: [Record<string, string>, string][] = [
          [{ JWT_SECRET: 'indonesia' }, 'JWT_SECRET'],
        ];
        const runs = await Promise.all(cases.map(([env]) => runFile(app, env)));
        runs.forEach((run, i) => {
          const [env, name] = cases[i]!;
          const must = `${JSON.stringify(env)} must stop the server with exit status 1`;
          assert.ok(run.status !== null, `${must}${stillRunning(run)}`);
          assert.equal(run.status, 1, `${must}: ${run.stdout}${run.stderr}`);
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
          assert.doesNotMatch(run.stdout, /listening/, 'Nothing listens with a bad setting');
        });
      },
    );
  });

  describe('the verified-token cache', () => {
    interface TokensFile {
      verifyToken(token: string, config: Config, cache?: unknown): { sub: string };
    }
    interface CacheFile {
      VerifiedTokens: new () => { get(t: string): unknown; add(t: string, c: object): void };
    }
    let tokens: TokensFile;
    let cacheFile: CacheFile;
    before(async () => {
      tokens = (await importStep(6, 'tokens.ts')) as unknown as TokensFile;
      cacheFile = (await importStep(6, 'verified-tokens.ts')) as unknown as CacheFile;
    });

    test('the verified-token cache is bounded: the oldest token goes first', () => {
      const cache = new cacheFile.VerifiedTokens();
      const claims = { sub: 'alice', iat: 100, exp: 140 };
      for (let i = 0; i <= 1000; i++) cache.add(`token-${i}`, claims);
      assert.equal(cache.get('token-0'), undefined, 'Past 1000 entries the oldest goes');
      assert.deepEqual(cache.get('token-1000'), claims, 'The newest token is still cached');
    });

    test('a cached token gets the same answer as a fresh one, at every edge of exp, nbf and iat', (t) => {
      // Some 16,000 verifications: the checkpoint proof, which runs this file
      // once per part of the step, leaves it out (it passes with any part cut).
      if (slow) return t.skip(slow);
      const base = step.loadConfig({ JWT_SECRET: SECRET });
      const at = (now: number): Config => ({ ...base, now: () => now });
      const answer = (token: string, now: number, cache?: unknown): string => {
        try {
          return `accepted for ${tokens.verifyToken(token, at(now), cache).sub}`;
        } catch (err) {
          const e = err as { status?: number; message?: string };
          return `refused ${e.status}: ${e.message}`;
        }
      };
      const s = h.clock.now;
      const edges: [string, () => string][] = [
        ['a good token', () => h.sign(goodHeader(h), goodClaims(h))],
        ['nbf 10 s ahead', () => h.sign(goodHeader(h), goodClaims(h, { nbf: s + 10 }))],
        ['iat 5 s ahead', () => h.sign(goodHeader(h), goodClaims(h, { iat: s + 5 }))],
        ...forgedTokens(h),
      ];
      const times = [-7, -6, -5, -1, 0, 4, 5, 6, 10, 15, 16].flatMap((d) => [
        s + d,
        s + base.ttlSeconds + d,
      ]);
      for (const [what, make] of edges) {
        const token = make();
        for (const now of times) {
          const cache = new cacheFile.VerifiedTokens();
          // Warm the cache at every time first: whatever passed once is cached.
          for (const earlier of times) answer(token, earlier, cache);
          assert.equal(
            answer(token, now, cache),
            answer(token, now),
            `${what} at ${now - s} s: the cache must decide as a fresh verify does`,
          );
        }
      }
    });
  });

  describe('passwords', () => {
    test('an unknown user costs one password hash, like a wrong password', async () => {
      const compared: string[] = [];
      const compare = async (_password: string, stored: string) => {
        compared.push(stored);
        return false;
      };
      const users = { alice: 'scrypt$stored-hash-of-alice' };
      assert.equal(await step.checkUser(users, 'mallory', 'pyconid', compare), false);
      const unknown = compared.length;
      assert.equal(await step.checkUser(users, 'alice', 'wrong', compare), false);
      assert.deepEqual(
        { 'unknown user': unknown, 'wrong password': compared.length - unknown },
        { 'unknown user': 1, 'wrong password': 1 },
        'Both a wrong user and a wrong password must run the hash once: timing then tells nothing',
      );
      assert.notEqual(compared[0], compared[1], 'The unknown user is checked against a dummy hash');
    });

    test("alice's stored hash is scrypt of pyconid with its salt, not the password", async () => {
      const config = step.loadConfig({ JWT_SECRET: SECRET }) as Config & {
        users: Record<string, string>;
      };
      const stored = config.users.alice!;
      assert.doesNotMatch(stored, /pyconid/, 'Never the password itself');
      const salt = Buffer.from(stored.split('$')[4]!, 'base64url');
      assert.equal(
        await step.hashPassword('pyconid', salt),
        stored,
        'hashPassword(password, salt) makes the stored form',
      );
    });

    test('a name from Object.prototype is not a user', async () => {
      for (const name of ['__proto__', 'constructor'])
        assert.equal(
          await step.checkUser({}, name, 'x', async () => true),
          false,
          `"${name}" is not a user, though users["${name}"] exists on every object: Object.hasOwn(users, name) first`,
        );
    });
  });

  const h = hardened({
    alg: 'HS256',
    loginUrl: () => server.url,
    apiUrl: () => server.url,
    sign: (header, claims) => hmacToken(header, claims, SECRET),
  });
  const server = serve(async () => {
    const config = step.loadConfig({ JWT_SECRET: SECRET });
    withFastUsers(config);
    config.now = () => h.clock.now;
    h.issuer = config.issuer;
    h.audience = config.audience;
    return exportedApp({ app: step.createApp(config) }, 6);
  });

  describe('GET /login', () => loginRules(h));
  describe('GET /protected: the Bearer header', () => bearerHeaderRules(h));
  describe('GET /protected: the claims', () => claimRules(h));
  describe('login throttling', () =>
    hmacThrottleRules(6, () => step as unknown as HmacLoginStep, SECRET));
});
