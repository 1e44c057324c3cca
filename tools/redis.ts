// A redis-server of our own: found on the PATH, started on a free port of
// 127.0.0.1, ready once it answers PING. Tests and the benchmark start a
// throwaway one; the launcher's --redis mode one that keeps its data. And
// redisClient(), through which a test looks inside one.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { freePort } from './ports.ts';

/**
 * A connected node-redis client, for a test to look inside Redis. Imported on
 * first use: node-redis is some 650 modules, which a run without Redis (a
 * check of another part, say) need not load.
 */
export async function redisClient(url: string, connectTimeout = 5000) {
  const { createClient } = await import('redis');
  const client = createClient({ url, socket: { connectTimeout } });
  await client.connect();
  return client;
}

/** redis-server on the PATH, or undefined. */
export function findRedisServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const name = process.platform === 'win32' ? 'redis-server.exe' : 'redis-server';
  return (env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, name))
    .find((file) => existsSync(file));
}

export const noRedis =
  'redis-server is not installed: apt-get install redis-server (Debian, Ubuntu), brew install redis (macOS), or on Windows run it in WSL.';

export interface RunningRedis {
  url: string;
  /** The redis-server process: tests freeze it (SIGSTOP) and wake it (SIGCONT). */
  pid: number;
  /** Stop it; resolves once it has ended (and written what it keeps). */
  stop(): Promise<void>;
}

export interface RedisOptions {
  /** How long it may take to answer PING: 20 s, for a machine busy with the whole test suite. */
  timeoutMs?: number;
  /**
   * A folder to keep the data in, across restarts: an append-only file,
   * written before each answer. Without it, Redis keeps nothing on disk.
   */
  dir?: string;
}

/** Every redis-server this process started and has not stopped: none outlives it. */
const running = new Set<() => void>();
let stopOnExit = false;

/** Whether a Redis answers PING at this port. */
function pong(port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    // Until the deadline: on a machine busy with the whole test suite, an
    // answer can take seconds, and a shorter wait would only ask again.
    socket.setTimeout(ms, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk: Buffer) => done(chunk.toString().startsWith('+PONG')));
  });
}

/** How Redis keeps its data: in a folder's append-only file, or not at all. */
function persistence(dir: string | undefined): string[] {
  if (dir === undefined) return ['--save', '', '--appendonly', 'no'];
  mkdirSync(dir, { recursive: true });
  // fsync before each answer: a logout that was answered is on disk, even
  // after a kill -9 (with the default, once a second, the last second is lost).
  return ['--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'];
}

/** A redis-server on a free port of 127.0.0.1; resolves once it answers PING. */
export async function startRedis(
  executable = findRedisServer(),
  { timeoutMs = 20_000, dir }: RedisOptions = {},
): Promise<RunningRedis> {
  if (!executable) throw new Error(noRedis);
  const port = await freePort();
  const child = spawn(
    executable,
    ['--port', String(port), '--bind', '127.0.0.1', ...persistence(dir)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Its log, for a start that fails: the last of it says why.
  let log = '';
  for (const stream of [child.stdout!, child.stderr!])
    stream.on('data', (chunk: Buffer) => (log = (log + chunk).slice(-2000)));
  const ended = () => child.exitCode !== null || child.signalCode !== null;
  const gone = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = () => {
    running.delete(stop);
    if (!ended()) child.kill();
    return child.pid === undefined ? Promise.resolve() : gone;
  };
  running.add(stop);
  if (!stopOnExit) {
    stopOnExit = true;
    process.on('exit', () => running.forEach((stopIt) => stopIt()));
  }
  const deadline = Date.now() + timeoutMs;
  let failed: Error | undefined;
  child.once('error', (err) => (failed = err));
  while (!(await pong(port, Math.max(1, deadline - Date.now())))) {
    if (failed || ended() || Date.now() > deadline) {
      stop();
      const why = failed
        ? `: ${failed.message}`
        : ended()
          ? ` (exit status ${child.exitCode ?? child.signalCode})`
          : ` within ${timeoutMs / 1000} s`;
      const last = log.trim().split('\n').slice(-3).join(' | ');
      throw new Error(
        `redis-server did not start on port ${port}${why}; ${last ? `it printed: ${last}` : 'it printed nothing'}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid!, stop };
}
