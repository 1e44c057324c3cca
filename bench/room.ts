// npm run bench:room: a room of 200 attendees whose checks all report at
// once. The room runs in a process of its own, as on the presenter's laptop,
// with the presenter's page listening; every attendee joins, then posts 5
// results one after another, each on a new connection as a check does, all
// attendees at the same time. Prints how many were answered 2xx, the p99 of
// the posts against the goal of a second, and whether the presenter's list
// has everyone. With --check, also what reporting adds to npm run check:
// joined to the room, to a room that is down, and to one that never answers.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { bold, cli, isMain } from '../tools/cli.ts';
import { freePort } from '../tools/ports.ts';
import { reportToRoom, roomReport } from '../tools/room/client.ts';
import { joinedFile, writeJson } from '../tools/room/files.ts';
import { findStep, root } from '../tools/steps.ts';
import { checkArgs } from '../tools/check.ts';
import { startFrom } from '../tools/workspace.ts';

export interface RoomBenchOptions {
  attendees: number;
  posts: number;
  /** Runs of the check in each case; 0: the check is not measured. */
  checkRuns: number;
}

export interface RoomBenchReport {
  cores: number;
  attendees: number;
  posts: number;
  joins: { ok: number; p99: number };
  results: {
    ok: number;
    total: number;
    statuses: Record<string, number>;
    p50: number;
    p99: number;
    max: number;
  };
  /** Attendees the presenter's API lists with a result: all of them, when the room kept up. */
  listed: number;
  /** Events the presenter's page received while the posts came in. */
  events: number;
  /** The report alone (reportToRoom) to a room that answers, is down, or never answers: ms. */
  send?: Record<'joined' | 'down' | 'silent', { median: number; max: number }>;
  /** npm run check -- 2 --quiet, the fastest of `runs` in each case: ms. */
  check?: { runs: number; alone: number; joined: number; down: number; silent: number };
}

const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
};
const median = (xs: number[]) => percentile(xs, 50);

interface Answer {
  status: number;
  body: string;
  ms: number;
}

/** One request on a connection of its own, as a check makes it. */
function send(url: string, method: string, body: unknown, token?: string): Promise<Answer> {
  const data = body === undefined ? '' : JSON.stringify(body);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method,
      agent: false,
      headers: {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(data),
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
    });
    req.on('error', reject);
    req.on('response', (res: IncomingMessage) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: text, ms: performance.now() - started }),
      );
    });
    req.end(data);
  });
}

/** npm run room in a process of its own, on a free port, kept in `dir`. */
async function startRoom(dir: string) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'tools/room.ts', '--port', String(port)],
    {
      cwd: root,
      env: { ...process.env, ROOM_DIR: dir, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let printed = '';
  child.stdout.on('data', (chunk: Buffer) => (printed += chunk));
  child.stderr.on('data', (chunk: Buffer) => (printed += chunk));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => /^Your page.*\n/m.test(printed) && resolve());
    child.once('exit', () => reject(new Error(`npm run room stopped:\n${printed}`)));
  });
  const code = /npm run join -- \S+ (\S+)/.exec(printed)![1]!;
  const key = /#key=([\w-]+)/.exec(printed)![1]!;
  return {
    url: `http://127.0.0.1:${port}`,
    code,
    key,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The check of step 2 on step 1's code, timed, with the room files in `dir`. */
function timedCheck(workspace: string, dir: string): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, checkArgs(['2', '--dir', workspace, '--quiet']), {
    cwd: root,
    env: { ...process.env, ROOM_DIR: dir },
    stdio: 'ignore',
  });
  return new Promise((resolve) => child.on('exit', () => resolve(performance.now() - started)));
}

export async function roomBenchmark(options: RoomBenchOptions): Promise<RoomBenchReport> {
  mkdirSync(path.join(root, '.scratch'), { recursive: true });
  const scratch = mkdtempSync(path.join(root, '.scratch', 'bench-room-'));
  const room = await startRoom(path.join(scratch, 'room'));
  const events = { count: 0 };
  let stream: IncomingMessage | undefined;
  try {
    // The presenter's page, listening while the room fills.
    const listening = request(`${room.url}/api/events`, {
      headers: { Authorization: `Bearer ${room.key}` },
    });
    listening.on('response', (res) => {
      stream = res;
      res.on(
        'data',
        (chunk: Buffer) => (events.count += String(chunk).split('event: ').length - 1),
      );
    });
    listening.on('error', () => undefined);
    listening.end();

    const joins = await Promise.all(
      Array.from({ length: options.attendees }, (_, i) =>
        send(`${room.url}/api/join`, 'POST', { code: room.code, name: `Attendee ${i + 1}` }),
      ),
    );
    const tokens = joins.flatMap((j) =>
      j.status === 201 ? [(JSON.parse(j.body) as { token: string }).token] : [],
    );
    const posts: Answer[] = [];
    await Promise.all(
      tokens.map(async (token, i) => {
        for (let n = 0; n < options.posts; n++) {
          const failed = Math.max(0, options.posts - 1 - n);
          const report = {
            step: 1 + (i % 10),
            part: null,
            passed: 9 - failed,
            failed,
            failing: failed
              ? [{ name: 'GET /login > answers 401 without credentials', hint: 3 }]
              : [],
          };
          posts.push(
            await send(`${room.url}/api/results`, 'POST', report, token).catch(() => ({
              status: 0,
              body: '',
              ms: 0,
            })),
          );
        }
      }),
    );
    const list = await send(`${room.url}/api/attendees`, 'GET', undefined, room.key);
    const listed = (
      JSON.parse(list.body) as { attendees: { results: unknown[] }[] }
    ).attendees.filter((a) => a.results.length > 0).length;
    const statuses: Record<string, number> = {};
    for (const p of posts) statuses[p.status] = (statuses[p.status] ?? 0) + 1;
    const times = posts.map((p) => p.ms);
    const report: RoomBenchReport = {
      cores: availableParallelism(),
      attendees: options.attendees,
      posts: options.posts,
      joins: {
        ok: tokens.length,
        p99: percentile(
          joins.map((j) => j.ms),
          99,
        ),
      },
      results: {
        ok: posts.filter((p) => p.status >= 200 && p.status < 300).length,
        total: options.attendees * options.posts,
        statuses,
        p50: median(times),
        p99: percentile(times, 99),
        max: Math.max(0, ...times),
      },
      listed,
      events: events.count,
    };

    if (options.checkRuns > 0) {
      const workspace = path.join(scratch, 'workspace');
      startFrom(findStep(1), workspace);
      const silent = createTcpServer(() => undefined).listen(0, '127.0.0.1');
      await new Promise((resolve) => silent.once('listening', resolve));
      const urls = {
        joined: `${room.url}/`,
        down: `http://127.0.0.1:${await freePort()}/`,
        silent: `http://127.0.0.1:${(silent.address() as { port: number }).port}/`,
      };
      const joined = (url: string, token: string) => ({
        url,
        token,
        name: 'Attendee',
        expires: '9999-12-31T00:00:00Z',
      });
      // The report alone, as a check sends it, each with a token of its own:
      // no attendee's limit is reached.
      const cases = ['joined', 'down', 'silent'] as const;
      const send: Partial<NonNullable<RoomBenchReport['send']>> = {};
      let next = 1;
      for (const which of cases) {
        const taken: number[] = [];
        for (let i = 0; i < 15; i++) {
          const file = path.join(scratch, 'send', which, `${i}.json`);
          writeJson(file, joined(urls[which], tokens[next++ % tokens.length]!));
          const started = performance.now();
          await reportToRoom([roomReport(2, undefined, 3, 6, [])], file);
          taken.push(performance.now() - started);
        }
        send[which] = { median: median(taken), max: Math.max(...taken) };
      }
      report.send = send as NonNullable<RoomBenchReport['send']>;
      // The whole check, turn by turn so that a busy moment of the machine falls
      // on every case alike; the fastest run of each, as other work only adds.
      const dirs = { alone: path.join(scratch, 'alone') } as Record<string, string>;
      mkdirSync(dirs.alone!, { recursive: true });
      for (const which of cases) {
        dirs[which] = path.join(scratch, which);
        writeJson(joinedFile(dirs[which]), joined(urls[which], tokens[0]!));
      }
      const times = {
        alone: [] as number[],
        joined: [] as number[],
        down: [] as number[],
        silent: [] as number[],
      };
      for (let i = 0; i < options.checkRuns; i++)
        for (const which of Object.keys(times) as (keyof typeof times)[])
          times[which].push(await timedCheck(workspace, dirs[which]!));
      silent.close();
      report.check = {
        runs: options.checkRuns,
        alone: Math.min(...times.alone),
        joined: Math.min(...times.joined),
        down: Math.min(...times.down),
        silent: Math.min(...times.silent),
      };
    }
    return report;
  } finally {
    stream?.destroy();
    await room.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

export function formatRoomBench(r: RoomBenchReport): string {
  const ms = (n: number) => `${Math.round(n)} ms`;
  const lines = [
    bold(
      `The room: ${r.attendees} attendees x ${r.posts} posts at once, the room in a process of its own (${r.cores} cores)`,
    ),
    `  joins     ${r.joins.ok} of ${r.attendees} answered 201, p99 ${ms(r.joins.p99)}`,
    `  posts     ${r.results.ok} of ${r.results.total} answered 2xx (${Object.entries(
      r.results.statuses,
    )
      .map(([s, n]) => `${n} x ${s}`)
      .join(', ')})`,
    `            p50 ${ms(r.results.p50)}, p99 ${ms(r.results.p99)}, max ${ms(r.results.max)}: p99 is ${((r.results.p99 / 1000) * 100).toFixed(0)}% of the 1 s goal`,
    `  presenter lists ${r.listed} of ${r.attendees} attendees with their results; the page got ${r.events} events`,
  ];
  if (r.send) {
    const { joined, down, silent } = r.send;
    lines.push(
      `  a check's report, median (max) of 15: to the room ${ms(joined.median)} (${ms(joined.max)}); room down ${ms(down.median)} (${ms(down.max)}); room silent ${ms(silent.median)} (${ms(silent.max)})`,
    );
  }
  if (r.check) {
    const added = (n: number) =>
      `${n - r.check!.alone >= 0 ? '+' : ''}${Math.round(n - r.check!.alone)} ms`;
    lines.push(
      `  npm run check -- 2 --quiet, fastest of ${r.check.runs}: not joined ${ms(r.check.alone)}; joined ${added(r.check.joined)}; room down ${added(r.check.down)}; room silent ${added(r.check.silent)}`,
    );
  }
  return lines.join('\n');
}

if (isMain(import.meta.url)) {
  const usage = `
Usage: npm run bench:room                      200 attendees x 5 posts
       npm run bench:room -- --check           and what reporting adds to npm run check
Options:
  --attendees <n>  how many attendees (default 200)
  --posts <n>      posts each (default 5)
  --check          also time a check's report, and npm run check not joined, joined, with the
                   room down and with a room that never answers (7 runs each)
  --json           print JSON`;
  const { values } = cli(
    usage,
    {
      attendees: { type: 'string' },
      posts: { type: 'string' },
      check: { type: 'boolean' },
      json: { type: 'boolean' },
    },
    { max: 0 },
  );
  const report = await roomBenchmark({
    attendees: Number(values.attendees ?? 200),
    posts: Number(values.posts ?? 5),
    checkRuns: values.check ? 7 : 0,
  });
  console.log(values.json ? JSON.stringify(report, null, 2) : formatRoomBench(report));
  // Every post served and every attendee listed, or the room did not keep up.
  if (report.results.ok !== report.results.total || report.listed !== report.attendees)
    process.exitCode = 1;
}
