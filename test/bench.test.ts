// The benchmarks run, on a tiny budget, and say what they measured. No
// timing is asserted: figures belong in npm run bench, not in tests.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ENDPOINTS, formatReport, httpBenchmark } from '../bench/http.ts';
import { microBenchmark } from '../bench/verify.ts';

describe('benchmarks', { concurrency: true }, () => {
  test('bench:verify reports each case per operation and against the floor', () => {
    const results = microBenchmark({ rounds: 2, msPerRound: 5 });
    assert.deepEqual(
      results.map((r) => r.name),
      ['floor: HMAC-SHA256 + base64url + JSON.parse', 'jwt.verify, KeyObject', 'jwt.verify, string secret', 'jwt.sign, KeyObject', 'jwt.sign, string secret'],
    );
    assert.equal(results[0]!.ratio, 1, 'Ratios are to the floor');
    for (const r of results) assert.ok(r.nsPerOp > 0 && Number.isFinite(r.ratio), `${r.name} has a time and a ratio`);
  });

  test('bench loads a step from another process and reports req/s, p99 and ratios as JSON', async () => {
    const report = await httpBenchmark({ steps: [5], rounds: 1, seconds: 1, amount: 20, connections: 2, warmup: false, settle: [0, 0], pin: false });
    const json = JSON.parse(JSON.stringify(report)) as typeof report;
    assert.equal(typeof json.pinned, 'boolean', 'It says whether server and load were pinned to cores');
    assert.equal(json.cores > 0, true);
    assert.equal(json.steps.length, 1);
    assert.deepEqual(json.steps[0]!.endpoints.map((e) => e.endpoint), [...ENDPOINTS]);
    for (const e of json.steps[0]!.endpoints) {
      assert.ok(e.rps > 0 && e.p99 >= 0 && e.ratio > 0, `${e.endpoint} has req/s, p99 and a ratio`);
    }
    assert.equal(json.steps[0]!.endpoints[0]!.ratio, 1, '/unprotected is the reference');
    assert.match(formatReport(report), /\| 05 The final app \| \/protected \|/, 'The table names step and endpoint');
  });
});
