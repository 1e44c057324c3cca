// npm run bench: what authentication costs per request. Each step's server
// runs in its own process; autocannon loads it from another, on loopback,
// each pinned to its own core where the OS allows. Endpoints alternate in
// rounds so that drift on a noisy machine hits all of them alike; figures are
// medians over the rounds, and ratios are to the same app's /unprotected.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { run } from '../tools/child.ts';
import { launchStep } from '../tools/launch.ts';
import { freePort } from '../tools/ports.ts';
import { findRedisServer, noRedis, startRedis, type RunningRedis } from '../tools/redis.ts';
import { findStep } from '../tools/steps.ts';
import { basic, loginToken, tokenTransport } from '../tools/token.ts';

export const ENDPOINTS = ['/unprotected', '/protected', '/login'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

export interface Options {
  steps: number[];
  /** Steps to run once more with Redis as their store (REDIS_URL), when redis-server is installed. */
  redis?: number[];
  rounds: number;
  /** Seconds per endpoint per round; or `amount` requests instead. */
  seconds: number;
  amount?: number;
  connections: number;
  /** A discarded first round, for the JIT (default true). */
  warmup?: boolean;
  /** Pause after each endpoint, ms, and after /login, whose scrypt runs on (default 200 and 1000). */
  settle?: [number, number];
  /** Pin server and load to their own cores where possible (default true). */
  pin?: boolean;
  /** Write a CPU profile of each server into this folder (node --cpu-prof). */
  profileDir?: string;
}

export interface EndpointResult {
  endpoint: Endpoint;
  /** Requests per second, median over rounds. */
  rps: number;
  /** 99th percentile latency in ms, median over rounds. */
  p99: number;
  /** Requests per second relative to /unprotected in the same round, median over rounds. */
  ratio: number;
}

export interface BenchReport {
  node: string;
  cores: number;
  pinned: boolean;
  options: Options;
  steps: { step: number; title: string; store?: 'redis'; endpoints: EndpointResult[] }[];
  /** Why the Redis runs were left out, when they were. */
  noRedis?: string;
}

/** taskset exists and there are two cores to give: pin the server to one, the load to the other. */
export function canPin(): boolean {
  return (
    process.platform === 'linux' &&
    availableParallelism() >= 2 &&
    spawnSync('taskset', ['-c', '0', 'true']).status === 0
  );
}

interface Load {
  rps: number;
  p99: number;
  non2xx: number;
  errors: number;
}

/** One round: every request in turn, from the load generator's own process. */
async function loadRound(
  requests: { url: string; headers: Record<string, string>; login: boolean }[],
  options: Options,
  pinned: boolean,
): Promise<Load[]> {
  const input = JSON.stringify({
    connections: options.connections,
    seconds: options.seconds,
    amount: options.amount,
    settle: options.settle ?? [200, 1000],
    requests,
  });
  const script = fileURLToPath(new URL('./load.mjs', import.meta.url));
  const [command, ...rest] = pinned
    ? ['taskset', '-c', '1', process.execPath, script, input]
    : [process.execPath, script, input];
  const { code, output, stdout } = await run(command!, rest);
  if (code !== 0) throw new Error(`The load generator exited with ${code}: ${output.trim()}`);
  return JSON.parse(stdout) as Load[];
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export async function httpBenchmark(
  options: Options,
  progress: (line: string) => void = () => {},
): Promise<BenchReport> {
  const pinned = options.pin !== false && canPin();
  const report: BenchReport = {
    node: process.version,
    cores: availableParallelism(),
    pinned,
    options,
    steps: [],
  };
  // Each step with its own store, then the ones asked for again with Redis.
  const runs: { number: number; redis?: boolean }[] = options.steps.map((number) => ({ number }));
  let redis: RunningRedis | undefined;
  if (options.redis?.length) {
    if (findRedisServer()) {
      redis = await startRedis();
      runs.push(...options.redis.map((number) => ({ number, redis: true })));
    } else report.noRedis = noRedis;
  }
  try {
    for (const run of runs) await benchStep(run.number, run.redis ? redis : undefined);
  } finally {
    redis?.stop();
  }
  return report;

  async function benchStep(number: number, redis: RunningRedis | undefined): Promise<void> {
    const step = findStep(number);
    const port = await freePort();
    // A key for steps that read one, and tokens that outlive the benchmark.
    const env: Record<string, string> = {
      JWT_SECRET: randomBytes(32).toString('base64url'),
      TOKEN_TTL_SECONDS: '3600',
      // Step 09 gives one user 100 logins a day; the benchmark logs alice in
      // thousands of times.
      LOGINS_PER_DAY: '999999999',
      REFRESHES_PER_DAY: '999999999',
    };
    if (redis) env.REDIS_URL = redis.url;
    const nodeArgs = options.profileDir
      ? [
          '--require',
          fileURLToPath(new URL('./exit-on-signal.cjs', import.meta.url)),
          '--cpu-prof',
          '--cpu-prof-dir',
          options.profileDir,
        ]
      : [];
    const server = launchStep(step, {
      ports: [port],
      env,
      stdio: 'ignore',
      nodeArgs,
      prefix: pinned ? ['taskset', '-c', '0'] : [],
    });
    try {
      await server.ready();
      const url = server.urls[0]!;
      const samples = new Map<Endpoint, { rps: number[]; p99: number[]; ratio: number[] }>(
        ENDPOINTS.map((e) => [e, { rps: [], p99: [], ratio: [] }]),
      );
      // Round 0 warms up (the JIT compiles the hot paths) and is not counted.
      for (let round = options.warmup === false ? 1 : 0; round <= options.rounds; round++) {
        // A fresh token each round: step 05's tokens live 40 s whatever we ask.
        const token = await loginToken({ loginUrl: url });
        const transport = await tokenTransport(`${url}/protected`, token);
        const requests: Record<Endpoint, [string, Record<string, string>]> = {
          '/unprotected': [`${url}/unprotected`, {}],
          '/protected':
            transport === 'query'
              ? [`${url}/protected?token=${token}`, {}]
              : [`${url}/protected`, { Authorization: `Bearer ${token}` }],
          '/login': [`${url}/login`, basic('alice', 'pyconid')],
        };
        // Rotate the order each round, so no endpoint always goes first.
        const order = ENDPOINTS.map((_, i) => ENDPOINTS[(i + round) % ENDPOINTS.length]!);
        const warm =
          round === 0
            ? { ...options, seconds: 1, amount: options.amount && Math.min(options.amount, 100) }
            : options;
        const loads = await loadRound(
          order.map((endpoint) => ({
            url: requests[endpoint][0],
            headers: requests[endpoint][1],
            login: endpoint === '/login',
          })),
          warm,
          pinned,
        );
        const got = new Map<Endpoint, Load>(order.map((endpoint, i) => [endpoint, loads[i]!]));
        for (const [endpoint, result] of got) {
          if (result.non2xx > 0 || result.errors > 0)
            throw new Error(
              `Step ${number} ${endpoint}: ${result.non2xx} answers not 2xx, ${result.errors} errors`,
            );
        }
        if (round === 0) continue;
        for (const endpoint of ENDPOINTS) {
          const s = samples.get(endpoint)!;
          s.rps.push(got.get(endpoint)!.rps);
          s.p99.push(got.get(endpoint)!.p99);
          s.ratio.push(got.get(endpoint)!.rps / got.get('/unprotected')!.rps);
        }
        progress(
          `step ${number}${redis ? ' with Redis' : ''}, round ${round} of ${options.rounds} done`,
        );
      }
      report.steps.push({
        step: number,
        title: step.title,
        ...(redis ? { store: 'redis' as const } : {}),
        endpoints: ENDPOINTS.map((endpoint) => {
          const s = samples.get(endpoint)!;
          return { endpoint, rps: median(s.rps), p99: median(s.p99), ratio: median(s.ratio) };
        }),
      });
    } finally {
      // A profiled server writes its profile as it exits: give it the time.
      await server.stop(options.profileDir ? 60_000 : undefined);
    }
  }
}

export function formatReport(report: BenchReport): string {
  const lines = [
    `Node ${report.node}, ${report.cores} cores, ${report.pinned ? 'server on core 0, load on core 1 (taskset)' : 'not pinned to cores'}; ` +
      `${report.options.connections} connections, ${report.options.amount ? `${report.options.amount} requests` : `${report.options.seconds} s`} per endpoint per round, ${report.options.rounds} round${report.options.rounds === 1 ? '' : 's'} after a warm-up, medians`,
    '',
    '| step | endpoint | req/s | p99 ms | ratio to /unprotected |',
    '|---|---|---:|---:|---:|',
  ];
  for (const { step, title, store, endpoints } of report.steps) {
    const name = `${String(step).padStart(2, '0')} ${title}${store === 'redis' ? ', Redis' : ''}`;
    for (const e of endpoints)
      lines.push(
        `| ${name} | ${e.endpoint} | ${Math.round(e.rps)} | ${e.p99.toFixed(1)} | ${e.ratio.toFixed(2)} |`,
      );
  }
  if (report.noRedis) lines.push('', `Without Redis: ${report.noRedis}`);
  return lines.join('\n');
}
