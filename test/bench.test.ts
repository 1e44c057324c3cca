// The benchmarks run, on a tiny budget, and say what they measured. No
// timing is asserted: figures belong in npm run bench, not in tests.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canFloodFrom, floodBenchmark, formatFlood } from '../bench/flood.ts';
import { ENDPOINTS, formatReport, httpBenchmark } from '../bench/http.ts';
import { microBenchmark } from '../bench/verify.ts';
import { findRedisServer } from '../tools/redis.ts';

describe('benchmarks', { concurrency: true }, () => {
  test('bench:verify reports each case per operation and against the floor', () => {
    const results = microBenchmark({ rounds: 2, msPerRound: 5 });
    assert.deepEqual(
      results.map((r) => r.name),
      [
        'floor: HMAC-SHA256 + base64url + JSON.parse',
        'jwt.verify, KeyObject',
        'jwt.verify, string secret',
        'jwt.sign, KeyObject',
        'jwt.sign, string secret',
      ],
    );
    assert.equal(results[0]!.ratio, 1, 'Ratios are to the floor');
    for (const r of results)
      assert.ok(r.nsPerOp > 0 && Number.isFinite(r.ratio), `${r.name} has a time and a ratio`);
  });

  test('bench loads a step from another process and reports req/s, p99 and ratios as JSON, with each store it can have', async () => {
    // A handful of requests each: the test shows the tool works, npm run bench measures.
    const report = await httpBenchmark({
      steps: [9],
      redis: [9],
      rounds: 1,
      seconds: 1,
      amount: 5,
      connections: 2,
      warmup: false,
      settle: [0, 0],
      pin: false,
    });
    const json = JSON.parse(JSON.stringify(report)) as typeof report;
    assert.equal(
      typeof json.pinned,
      'boolean',
      'It says whether server and load were pinned to cores',
    );
    assert.equal(json.cores > 0, true, 'It says how many cores the machine has');
    const withRedis = findRedisServer() !== undefined;
    assert.deepEqual(
      json.steps.map((s) => `${s.step} ${s.store ?? 'embedded'}`),
      ['9 embedded', ...(withRedis ? ['9 redis'] : [])],
      'Step 09 once with each store it can have',
    );
    for (const s of json.steps) {
      assert.deepEqual(
        s.endpoints.map((e) => e.endpoint),
        [...ENDPOINTS],
        `Step ${s.step}: every endpoint`,
      );
      for (const e of s.endpoints)
        assert.ok(
          e.rps > 0 && e.p99 >= 0 && e.ratio > 0,
          `Step ${s.step} ${e.endpoint} has req/s, p99 and a ratio`,
        );
      assert.equal(s.endpoints[0]!.ratio, 1, '/unprotected is the reference');
    }
    const table = formatReport(report);
    assert.match(
      table,
      /\| 09 Refresh and revocation \| \/protected \|/,
      'The table names step and endpoint',
    );
    if (withRedis)
      assert.match(
        table,
        /\| 09 Refresh and revocation, Redis \| \/protected \|/,
        'The table says which run had Redis',
      );
    else
      assert.match(
        table,
        /Without Redis: redis-server is not installed/,
        'Without redis-server the report says why the Redis run is missing',
      );
  });

  test('the flood runs from another loopback address and reports what a user at 127.0.0.1 saw', async (t) => {
    if (!(await canFloodFrom()))
      return t.skip('this system has no 127.0.0.2 (macOS: sudo ifconfig lo0 alias 127.0.0.2)');
    // 20 requests at 10 a second, each answered: 2 s of flood, enough for
    // 429s, around the probe's window (0.5 to 2.5 s); and on a busy machine
    // no window that closes before the first wrong password is answered.
    const report = await floodBenchmark({
      steps: [6],
      rounds: 1,
      seconds: 2,
      connections: 10,
      pin: false,
      rate: 10,
      amount: 20,
    });
    const json = JSON.parse(JSON.stringify(report)) as typeof report;
    const [result] = json.steps;
    assert.ok(result, 'One result for step 06');
    const { '/unprotected': plain, '/login': login } = result.under;
    assert.ok(
      (plain.floodStatuses['200'] ?? 0) > 0,
      `The plain flood got 200s: ${JSON.stringify(plain.floodStatuses)}`,
    );
    assert.ok(
      (login.floodStatuses['429'] ?? 0) > 0,
      `The wrong-password flood from one address got 429s: ${JSON.stringify(login.floodStatuses)}`,
    );
    assert.ok(
      login.loginsOk && plain.loginsOk,
      'alice, at another address, got her token every time',
    );
    for (const u of [plain, login])
      assert.ok(
        u.protectedRps >= 0 && u.loginMs >= 0,
        `${u.flooded}: /protected's rate and alice's login time are measured (${u.protectedRps} req/s, ${u.loginMs} ms)`,
      );
    // On a machine busy with every test file at once, one 2-second window can
    // pass without an answer; the figures themselves belong to npm run bench.
    assert.ok(plain.protectedRps + login.protectedRps > 0, '/protected answered during the floods');
    if (plain.protectedRps > 0)
      assert.ok(Number.isFinite(result.ratio), 'A ratio of the two /protected rates');
    assert.match(
      formatFlood(report),
      /\| 06 Hardening \| \/login \|/,
      'The table names step and flood',
    );
  });
});
