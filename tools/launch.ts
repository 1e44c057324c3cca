// Start a step's servers, each in its own process. npm run step, npm start,
// npm run dev, the attack lab and the benchmark all launch steps through
// here, so the steps themselves only listen: the launcher checks the ports
// first, passes each server its PORT, and prints what to try. With --redis,
// a step whose manifest says so runs as several instances sharing one Redis.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import path from 'node:path';
import { bold, dim, fail } from './cli.ts';
import { freePort, freePortRun, portProblem } from './ports.ts';
import { fillUrls, servers, stepDir, type Server, type Step } from './steps.ts';

export { freePort } from './ports.ts';

export interface Launched {
  /** One URL per server, in the order of servers(step): the login service first. */
  urls: string[];
  children: ChildProcess[];
  /** Resolves when every server answers HTTP. */
  ready(timeoutMs?: number): Promise<void>;
  stop(): void;
}

export interface LaunchOptions {
  /** The folder to run the step's files from (a workspace), instead of the step's own. */
  dir?: string;
  /** Ports, one per server; the step's defaults where not given. */
  ports?: number[];
  env?: Record<string, string>;
  watch?: boolean;
  stdio?: StdioOptions;
  /** Arguments for node before the script, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Wrap the command, e.g. ['taskset', '-c', '0'] to pin it to a core. */
  prefix?: string[];
  /** Run the entry this many times instead of the step's servers (a step's --redis mode). */
  instances?: number;
}

/** The servers to start: the step's own, or `instances` copies of its entry. */
export function serversOf(step: Step, instances?: number): Server[] {
  if (!instances) return servers(step);
  return Array.from({ length: instances }, (_, i) => ({ entry: step.entry, port: 3000 + i, name: `instance ${String.fromCharCode(65 + i)}` }));
}

export function launchStep(step: Step, options: LaunchOptions = {}): Launched {
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  const list = serversOf(step, options.instances);
  const ports = list.map((server, i) => options.ports?.[i] ?? server.port);
  const urls = ports.map((port) => `http://127.0.0.1:${port}`);
  // What the step's manifest entry asks for (step 07's API finds the login
  // service's keys through JWKS_URL), then what the caller sets.
  // localhost, as a person's browser will say it: step 10's provider and app
  // set cookies for, and redirect to, these very URLs.
  const hostUrls = urls.map((url) => url.replace('127.0.0.1', 'localhost'));
  const stepEnv = Object.fromEntries(Object.entries(step.env ?? {}).map(([name, value]) => [name, fillUrls(value, hostUrls)]));
  const env = { ...process.env, ...stepEnv, ...options.env };
  const children = list.map(({ entry }, i) => {
    const file = path.join(options.dir ?? stepDir(step), entry);
    // Watch mode needs tsx's own runner; otherwise one process, tsx as a loader.
    const args = options.watch ? [...(options.nodeArgs ?? []), tsx, 'watch', '--clear-screen=false', file] : [...(options.nodeArgs ?? []), '--import', 'tsx', file];
    const [command, ...prefix] = [...(options.prefix ?? []), process.execPath];
    return spawn(command!, [...prefix, ...args], { stdio: options.stdio ?? 'inherit', env: { ...env, PORT: String(ports[i]) } });
  });
  return {
    urls,
    children,
    // A minute: a step starts in a second or two, but much longer on a busy
    // machine (the whole test suite at once on two cores).
    async ready(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (const url of urls) {
        for (;;) {
          const exited = children.find((child) => child.exitCode !== null);
          if (exited) throw new Error(`Step ${step.number} exited with status ${exited.exitCode} before it was ready.`);
          try {
            await fetch(url, { signal: AbortSignal.timeout(1000) });
            break;
          } catch {
            if (Date.now() > deadline) throw new Error(`Step ${step.number} did not answer at ${url} within ${timeoutMs / 1000} s.`);
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      }
    },
    stop() {
      for (const child of children) if (child.exitCode === null) child.kill();
    },
  };
}

/** Ports for a step's servers from one given port: the first there, the others after it. */
export function portsFrom(step: Step, base: number | undefined, instances?: number): number[] {
  return serversOf(step, instances).map((server, i) => (base === undefined ? server.port : base + i));
}

/** What the launcher prints once a step listens: where, and what to try. */
export function banner(step: Step, urls: string[], label = `Step ${String(step.number).padStart(2, '0')} (${step.title})`, instances?: number): string {
  const list = serversOf(step, instances);
  // localhost for people: it is what they type, and what the docs show.
  const shown = urls.map((url) => url.replace('127.0.0.1', 'localhost'));
  const where = list.map((server, i) => `${list.length > 1 ? `${server.name ?? server.entry} on ` : ''}${shown[i]}`).join(', ');
  const tries = [...(step.try ?? []), ...(step.expected ? [`# ${step.expected}`] : [])].map((line) => `  ${fillUrls(line, shown)}`);
  return [`${bold(label)} listening: ${where}`, ...(tries.length ? ['Try, in another terminal, in the workshop folder:', ...tries] : []), dim('Ctrl-C stops it.')].join('\n');
}

export interface ForegroundOptions {
  dir?: string;
  port?: number;
  watch?: boolean;
  /** The banner's first words, for a workspace. */
  label?: string;
  /** Whose Try lines to print, when not the step's own (a workspace on its way to the next step). */
  tryStep?: Step;
  /** The command to suggest with another port, given that port. */
  retry?: (port: number) => string;
  /** The step's --redis mode: a redis-server of its own, and the instances its manifest asks for. */
  redis?: boolean;
}

/** redis-server on the PATH, or undefined. */
export function findRedisServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const name = process.platform === 'win32' ? 'redis-server.exe' : 'redis-server';
  return (env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, name)).find((file) => existsSync(file));
}

export const noRedis = 'redis-server is not installed: apt-get install redis-server (Debian, Ubuntu), brew install redis (macOS), or on Windows run it in WSL.';

export interface RunningRedis {
  url: string;
  stop(): void;
}

/** Whether a Redis answers PING at this port. */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk: Buffer) => done(chunk.toString().startsWith('+PONG')));
  });
}

/**
 * A throwaway redis-server on a free port of 127.0.0.1, which saves nothing
 * to disk; resolves once it answers PING. Tests, the benchmark and --redis
 * start theirs here.
 */
export async function startRedis(executable = findRedisServer(), timeoutMs = 10_000): Promise<RunningRedis> {
  if (!executable) throw new Error(noRedis);
  const port = await freePort();
  const child = spawn(executable, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const stop = () => {
    if (child.exitCode === null) child.kill();
  };
  const deadline = Date.now() + timeoutMs;
  let failed: Error | undefined;
  child.once('error', (err) => (failed = err));
  while (!(await pong(port))) {
    if (failed || child.exitCode !== null || Date.now() > deadline) {
      stop();
      throw new Error(`redis-server did not start on port ${port}${failed ? `: ${failed.message}` : child.exitCode !== null ? ` (exit status ${child.exitCode})` : ` within ${timeoutMs / 1000} s`}.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, stop };
}

/**
 * Run a step for a person at a terminal: refuse busy ports in one line,
 * start the servers, print the banner when they answer, and stay until
 * Ctrl-C or until a server exits (its exit status becomes ours).
 */
export async function runInForeground(step: Step, options: ForegroundOptions = {}): Promise<void> {
  const mode = options.redis ? step.redis : undefined;
  if (options.redis && !mode) fail(`Step ${step.number} has no --redis mode: it keeps everything in one process. Step 9 has one: npm run step -- 9 --redis`);
  const ports = portsFrom(step, options.port, mode?.instances);
  const problems = step.script ? [] : (await Promise.all(ports.map(portProblem))).filter((p) => p !== undefined);
  if (problems.length > 0) {
    // Ports that are free now, as doctor suggests them.
    const port = await freePortRun(ports.length);
    const retry = options.retry?.(port) ?? `npm run step -- ${step.number} --port ${port}`;
    fail(`Cannot start: ${problems.join(', ')}. Stop what uses it (another npm run step?), or pick another port: ${retry}`);
  }
  const env: Record<string, string> = {};
  let redis: RunningRedis | undefined;
  if (mode) {
    try {
      redis = await startRedis();
    } catch (err) {
      fail((err as Error).message);
    }
    env.REDIS_URL = redis.url;
    // Instances that must agree (one signing key) get one value for this run.
    for (const name of mode.shared ?? []) if (!process.env[name]) env[name] = randomBytes(32).toString('base64url');
    process.on('exit', () => redis?.stop());
  }
  const launched = launchStep(step, { dir: options.dir, ports, watch: options.watch, env, instances: mode?.instances });
  let exiting = false;
  for (const child of launched.children) {
    child.on('exit', (code) => {
      if (exiting) return;
      exiting = true;
      launched.stop();
      redis?.stop();
      process.exitCode = code ?? 0;
    });
  }
  // Ctrl-C reaches the children too; wait for them rather than die first.
  process.on('SIGINT', () => {});
  // kill, an editor's stop button or a closed terminal reach only us: stop
  // the servers, or they keep the ports.
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      exiting = true;
      launched.stop();
      redis?.stop();
    });
  }
  // A step with a mistake in it may take a while (watch mode waits for the
  // fix): print the banner whenever it first answers, and never time out.
  if (step.script) {
    // A script prints and is done, but watch mode keeps the terminal: say so.
    if (options.watch) console.log(dim(`Step ${step.number} is a script, not a server: it runs again when you save one of its files. Ctrl-C stops it.`));
    return;
  }
  const shown = mode ? { ...step, try: mode.try } : options.tryStep ? { ...step, try: options.tryStep.try } : step;
  launched.ready(24 * 3600 * 1000).then(
    () => {
      console.log(banner(shown, launched.urls, options.label, mode?.instances));
      if (redis) console.log(dim(`The instances share Redis at ${redis.url} (a redis-server of this run, stopped with it)${mode?.shared?.length ? ` and one ${mode.shared.join(', ')}` : ''}.`));
    },
    () => {},
  );
}
