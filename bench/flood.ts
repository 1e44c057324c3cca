// The login flood of npm run bench: does a flood of wrong passwords from one
// address cost the server more than the same flood of /unprotected? For each
// step, in rounds, a 200-connection flood from 127.0.0.2, first of
// /unprotected, then of alice with wrong passwords (or the other way round),
// while a probe at 127.0.0.1 measures /protected's rate, alice's login and,
// for step 08, the page. Loopback only, bounded in connections and time.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../tools/child.ts';
import { launchStep } from '../tools/launch.ts';
import { canListenOn, freePorts } from '../tools/ports.ts';
import { findStep, servers, stepDir } from '../tools/steps.ts';
import { basic, loginToken } from '../tools/token.ts';
import { canPin } from './http.ts';

/** The flood's source: another loopback address, so the server sees another client than the probe. */
export const FLOOD_FROM = '127.0.0.2';

export interface FloodOptions {
  steps: number[];
  rounds: number;
  /** Seconds each flood lasts; the probe measures during all but the first and last of them. */
  seconds: number;
  connections: number;
  /** Pin the server to core 0, flood and probe to core 1 (default true where possible). */
  pin?: boolean;
  /** Run a step's files from another folder (an older copy, to compare), by step number. */
  dirs?: Record<number, string>;
  /** Cap the flood and the probe at this many requests a second each (a small test run); no cap by default. */
  rate?: number;
  /**
   * Send this many flood requests and wait for every answer, rather than
   * flooding for `seconds` (a small test run: on a busy machine a window of
   * a few seconds may close before the first wrong password is answered).
   */
  amount?: number;
}

export type Flooded = '/unprotected' | '/login';

export interface Under {
  /** /protected requests per second at 127.0.0.1, median over rounds. */
  protectedRps: number;
  /** alice's logins at 127.0.0.1 during the flood, ms: the slowest of each round, median over rounds. */
  loginMs: number;
  /** Whether every one of alice's logins got its token. */
  loginsOk: boolean;
  /** Step 08: the page's three files during the flood, ms: the slowest of each round, median over rounds. */
  pageMs?: number;
  /** What was flooded, the flood's own rate, and what it was answered (status: count, summed over rounds). */
  flooded: string;
  floodRps: number;
  floodStatuses: Record<string, number>;
}

export interface FloodResult {
  step: number;
  title: string;
  under: Record<Flooded, Under>;
  /** /protected's rate under the /login flood, as a share of its rate under the /unprotected flood in the same round; median. */
  ratio: number;
}

export interface FloodReport {
  pinned: boolean;
  options: FloodOptions;
  steps: FloodResult[];
}

/** Whether the flood can come from its own address (see canListenOn). */
export const canFloodFrom = (address = FLOOD_FROM): Promise<boolean> => canListenOn(address);

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

interface Round {
  floodRps: number;
  floodStatuses: Record<string, number>;
  protectedRps: number;
  loginMs: number;
  loginsOk: boolean;
  pageMs?: number;
}

async function node(script: string, input: object, pinned: boolean): Promise<unknown> {
  const file = fileURLToPath(new URL(script, import.meta.url));
  const [command, ...args] = pinned
    ? ['taskset', '-c', '1', process.execPath, file, JSON.stringify(input)]
    : [process.execPath, file, JSON.stringify(input)];
  const { code, output, stdout } = await run(command!, args);
  if (code !== 0) throw new Error(`${script} exited with ${code}: ${output.trim()}`);
  return JSON.parse(stdout);
}

/** alice logs in within a second again: what a flood left queued has drained (60 s at most). */
async function drained(loginUrl: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const start = Date.now();
    await loginToken({ loginUrl }).catch(() => {});
    if (Date.now() - start < 1000) return;
  }
}

export async function floodBenchmark(
  options: FloodOptions,
  progress: (line: string) => void = () => {},
): Promise<FloodReport> {
  if (!(await canFloodFrom()))
    throw new Error(
      `The flood comes from ${FLOOD_FROM}, which this system does not have (macOS: sudo ifconfig lo0 alias ${FLOOD_FROM}).`,
    );
  const pinned = options.pin !== false && canPin();
  const report: FloodReport = { pinned, options, steps: [] };
  for (const number of options.steps) {
    const step = findStep(number);
    const dir = options.dirs?.[number] ?? stepDir(step);
    const ports = await freePorts(servers(step).length);
    const scratch = mkdtempSync(path.join(tmpdir(), 'jwt-bench-'));
    // Tokens that outlive the benchmark; the default limits, as a learner runs the step.
    const env = {
      JWT_SECRET: randomBytes(32).toString('base64url'),
      TOKEN_TTL_SECONDS: '3600',
      KEYS_FILE: path.join(scratch, 'keys.json'),
    };
    const server = launchStep(step, {
      dir,
      ports,
      env,
      stdio: 'ignore',
      prefix: pinned ? ['taskset', '-c', '0'] : [],
    });
    try {
      await server.ready();
      const loginUrl = server.urls[0]!;
      const apiUrl = server.urls.at(-1)!;
      const token = await loginToken({ loginUrl });
      const probe = {
        protectedUrl: `${apiUrl}/protected`,
        protectedHeaders: { Authorization: `Bearer ${token}` },
        loginUrl: `${loginUrl}/login`,
        loginHeaders: basic('alice', 'pyconid'),
        pageUrls: existsSync(path.join(dir, 'public', 'index.html'))
          ? ['/', '/app.js', '/style.css'].map((p) => `${loginUrl}${p}`)
          : [],
        // Two seconds at least: on a busy machine a shorter window can see no answer at all.
        seconds: Math.max(2, options.seconds - 2),
        rate: options.rate,
      };
      // The plain flood: /unprotected, or for a login service of its own (step
      // 07), its other cheap answer, the JWKS.
      const plain = loginUrl === apiUrl ? '/unprotected' : '/.well-known/jwks.json';
      const floods: Record<Flooded, { url: string; headers: Record<string, string> }> = {
        '/unprotected': { url: `${loginUrl}${plain}`, headers: {} },
        '/login': {
          url: `${loginUrl}/login`,
          headers: basic('alice', 'not-her-password'),
        },
      };
      const rounds: Record<Flooded, Round[]> = { '/unprotected': [], '/login': [] };
      for (let round = 1; round <= options.rounds; round++) {
        const order: Flooded[] =
          round % 2 ? ['/unprotected', '/login'] : ['/login', '/unprotected'];
        for (const flooded of order) {
          // The probe starts once the flood is under way; both are awaited together,
          // so that a failing flood stops the run rather than going unnoticed.
          const underWay = new Promise((resolve) =>
            setTimeout(resolve, Math.min(1000, options.seconds * 250)),
          );
          const [flooding, seen] = (await Promise.all([
            node(
              './flood.mjs',
              {
                ...floods[flooded],
                connections: options.connections,
                seconds: options.seconds,
                rate: options.rate,
                amount: options.amount,
                from: FLOOD_FROM,
              },
              pinned,
            ),
            underWay.then(() => node('./probe.mjs', probe, pinned)),
          ])) as [
            { rps: number; statuses: Record<string, number> },
            { protectedRps: number; loginMs: number[]; loginStatuses: number[]; pageMs: number[] },
          ];
          rounds[flooded].push({
            floodRps: flooding.rps,
            floodStatuses: flooding.statuses,
            protectedRps: seen.protectedRps,
            loginMs: Math.max(...seen.loginMs),
            loginsOk: seen.loginStatuses.every((s) => s === 200),
            pageMs: seen.pageMs.length ? Math.max(...seen.pageMs) : undefined,
          });
          await drained(loginUrl);
        }
        progress(`flood, step ${number}, round ${round} of ${options.rounds} done`);
      }
      const under = (flooded: Flooded): Under => {
        const r = rounds[flooded];
        const statuses: Record<string, number> = {};
        for (const { floodStatuses } of r)
          for (const [status, count] of Object.entries(floodStatuses))
            statuses[status] = (statuses[status] ?? 0) + count;
        return {
          flooded: new URL(floods[flooded].url).pathname,
          protectedRps: median(r.map((x) => x.protectedRps)),
          loginMs: median(r.map((x) => x.loginMs)),
          loginsOk: r.every((x) => x.loginsOk),
          pageMs: r[0]!.pageMs === undefined ? undefined : median(r.map((x) => x.pageMs!)),
          floodRps: median(r.map((x) => x.floodRps)),
          floodStatuses: statuses,
        };
      };
      const result = { '/unprotected': under('/unprotected'), '/login': under('/login') };
      // Each round's two floods ran back to back: their ratio, median over the rounds.
      const ratio = median(
        rounds['/login'].map((r, i) => r.protectedRps / rounds['/unprotected'][i]!.protectedRps),
      );
      report.steps.push({ step: number, title: step.title, under: result, ratio });
    } finally {
      await server.stop();
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  return report;
}

export function formatFlood(report: FloodReport): string {
  const { connections, seconds, rounds } = report.options;
  const lines = [
    `Flood: ${connections} connections from ${FLOOD_FROM} for ${seconds} s, probe at 127.0.0.1; ${rounds} round${rounds === 1 ? '' : 's'}, medians; ${report.pinned ? 'server on core 0, flood and probe on core 1' : 'not pinned to cores'}`,
    '',
    '| step | flood of | flood answered | /protected req/s | ratio | alice logs in, ms | page loads, ms |',
    '|---|---|---|---:|---:|---:|---:|',
  ];
  for (const { step, title, under, ratio } of report.steps) {
    for (const flooded of ['/unprotected', '/login'] as const) {
      const u = under[flooded];
      const answered = Object.entries(u.floodStatuses)
        .map(([status, count]) => `${count} x ${status}`)
        .join(', ');
      const r = flooded === '/login' ? ratio.toFixed(2) : '1.00';
      lines.push(
        `| ${String(step).padStart(2, '0')} ${title} | ${u.flooded} | ${answered} | ${Math.round(u.protectedRps)} | ${r} | ${Math.round(u.loginMs)}${u.loginsOk ? '' : ' (refused)'} | ${u.pageMs === undefined ? '' : Math.round(u.pageMs)} |`,
      );
    }
  }
  return lines.join('\n');
}
