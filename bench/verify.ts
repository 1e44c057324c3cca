// npm run bench:verify: what one HS256 sign and verify cost with jsonwebtoken,
// given the secret as a string (as the talk's code does) or as a KeyObject,
// against the floor: node:crypto's HMAC-SHA256, base64url and JSON.parse.
// Printed as ratios to the floor; times are medians over alternating rounds.
import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';

import jwt from 'jsonwebtoken';
import { cli, isMain } from '../tools/cli.ts';

export interface MicroResult {
  name: string;
  nsPerOp: number;
  /** Times the floor's cost. */
  ratio: number;
}

export function microBenchmark({ rounds = 7, msPerRound = 150 } = {}): MicroResult[] {
  const secret = randomBytes(32).toString('base64url');
  const key = createSecretKey(Buffer.from(secret));
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    sub: 'alice',
    iss: 'jwt-koa-workshop',
    aud: 'jwt-koa-workshop-api',
    iat: now,
    exp: now + 3600,
    jti: 'c9b1a7e2-4d3f-4a8e-9d1c-2f6b8e7a5c3d',
  };
  const token = jwt.sign(claims, key, { algorithm: 'HS256' });
  const [h, p, s] = token.split('.') as [string, string, string];
  const signature = Buffer.from(s, 'base64url');
  const options = { algorithms: ['HS256' as const] };

  const cases: [string, () => unknown][] = [
    [
      'floor: HMAC-SHA256 + base64url + JSON.parse',
      () => {
        const mac = createHmac('sha256', key).update(`${h}.${p}`).digest();
        if (!timingSafeEqual(mac, signature)) throw new Error('bad');
        return JSON.parse(Buffer.from(p, 'base64url').toString());
      },
    ],
    ['jwt.verify, KeyObject', () => jwt.verify(token, key, options)],
    ['jwt.verify, string secret', () => jwt.verify(token, secret, options)],
    ['jwt.sign, KeyObject', () => jwt.sign(claims, key, { algorithm: 'HS256' })],
    ['jwt.sign, string secret', () => jwt.sign(claims, secret, { algorithm: 'HS256' })],
  ];
  const samples = cases.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    // Each round runs every case, in turn: drift on a noisy machine hits all alike.
    cases.forEach(([, fn], i) => {
      let ops = 0;
      const start = process.hrtime.bigint();
      const end = start + BigInt(msPerRound * 1e6);
      let t = start;
      while (t < end) {
        for (let k = 0; k < 50; k++) fn();
        ops += 50;
        t = process.hrtime.bigint();
      }
      if (round > 0) samples[i]!.push(Number(t - start) / ops); // round 0 warms up
    });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ns = samples.map(median);
  return cases.map(([name], i) => ({ name, nsPerOp: ns[i]!, ratio: ns[i]! / ns[0]! }));
}

if (isMain(import.meta.url)) {
  const usage = `
Usage: npm run bench:verify             HS256 sign and verify per operation, as ratios to the HMAC floor
       npm run bench:verify -- --json   the same as JSON
Options:
  --json  print JSON instead of a table`;
  const json = cli(usage, { json: { type: 'boolean' } }, { max: 0 }).values.json;
  const results = microBenchmark();
  if (json) console.log(JSON.stringify({ node: process.version, results }, null, 2));
  else {
    console.log(`HS256 per operation, Node ${process.version} (median of 6 rounds):\n`);
    for (const r of results)
      console.log(
        `  ${r.name.padEnd(46)} ${(r.nsPerOp / 1000).toFixed(1).padStart(7)} µs   ${r.ratio.toFixed(1).padStart(6)}x the floor`,
      );
  }
}
