// Start a step's servers, each in its own process. npm run step, npm start,
// npm run dev, the attack lab and the benchmark all launch steps through
// here, so the steps themselves only listen: the launcher checks the ports
// first, passes each server its PORT, prints what to try, and stops them all
// when it is stopped. With --redis, a step whose manifest says so runs as
// several instances sharing one Redis, which keeps its data across restarts.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import path from 'node:path';
import { whenParentGone } from './child.ts';
import { bold, dim, fail } from './cli.ts';
import { freePortRun, portProblem } from './ports.ts';
import { startRedis, type RunningRedis } from './redis.ts';
import { fillUrls, rel, root, servers, stepDir, type Server, type Step } from './steps.ts';

export interface Launched {
  /** One URL per server, in the order of servers(step): the login service first. */
  urls: string[];
  children: ChildProcess[];
  /** Resolves when every server answers HTTP; rejects when one ends first. */
  ready(timeoutMs?: number): Promise<void>;
  /**
   * Ask every server to stop; resolves once all have ended. One still running
   * after `graceMs` is killed. `ownMs`: first wait that long for them to end
   * on their own (a Ctrl-C in the terminal reaches them too).
   */
  stop(graceMs?: number, ownMs?: number): Promise<void>;
}

/** Whether a child process has ended: exited, killed by a signal, or never started. */
function ended(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
}

/** How a child ended, in a few words. */
function howEnded(child: ChildProcess): string {
  return child.signalCode !== null
    ? `was stopped by ${child.signalCode}`
    : child.exitCode !== null
      ? `exited with status ${child.exitCode}`
      : 'did not start';
}

/** Every server this process started and has not seen end: none outlives it. */
const live = new Set<ChildProcess>();
let killOnExit = false;

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
  return Array.from({ length: instances }, (_, i) => ({
    entry: step.entry,
    port: 3000 + i,
    name: `instance ${String.fromCharCode(65 + i)}`,
  }));
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
  const stepEnv = Object.fromEntries(
    Object.entries(step.env ?? {}).map(([name, value]) => [name, fillUrls(value, hostUrls)]),
  );
  const env = { ...process.env, ...stepEnv, ...options.env };
  const children = list.map(({ entry }, i) => {
    const file = path.join(options.dir ?? stepDir(step), entry);
    // Watch mode needs tsx's own runner; otherwise one process, tsx as a loader.
    const args = options.watch
      ? [...(options.nodeArgs ?? []), tsx, 'watch', '--clear-screen=false', file]
      : [...(options.nodeArgs ?? []), '--import', 'tsx', file];
    const [command, ...prefix] = [...(options.prefix ?? []), process.execPath];
    const child = spawn(command!, [...prefix, ...args], {
      stdio: options.stdio ?? 'inherit',
      env: { ...env, PORT: String(ports[i]) },
    });
    live.add(child);
    child.once('exit', () => live.delete(child));
    return child;
  });
  if (!killOnExit) {
    killOnExit = true;
    process.on('exit', () => {
      for (const child of live) child.kill();
    });
  }
  return {
    urls,
    children,
    // A minute: a step starts in a second or two, but much longer on a busy
    // machine (the whole test suite at once on two cores).
    async ready(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (const url of urls) {
        for (;;) {
          const gone = children.find(ended);
          if (gone) throw new Error(`Step ${step.number} ${howEnded(gone)} before it was ready.`);
          try {
            await fetch(url, { signal: AbortSignal.timeout(1000) });
            break;
          } catch {
            if (Date.now() > deadline)
              throw new Error(
                `Step ${step.number} did not answer at ${url} within ${timeoutMs / 1000} s.`,
              );
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      }
    },
    async stop(graceMs = 3000, ownMs = 0) {
      const running = children.filter((child) => !ended(child));
      const gone = Promise.all(
        running.map((child) => new Promise((resolve) => child.once('exit', resolve))),
      );
      const within = async (ms: number) => {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([gone, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
        clearTimeout(timer);
      };
      // A second signal to tsx watch while its server stops makes it say
      // "Force killing..." and kill it: no signal of ours while they end.
      if (ownMs > 0) await within(ownMs);
      for (const child of running) if (!ended(child)) child.kill();
      await within(graceMs);
      for (const child of running) if (!ended(child)) child.kill('SIGKILL');
      await gone;
    },
  };
}

/** Ports for a step's servers from one given port: the first there, the others after it. */
export function portsFrom(step: Step, base: number | undefined, instances?: number): number[] {
  return serversOf(step, instances).map((server, i) =>
    base === undefined ? server.port : base + i,
  );
}

/** What the launcher prints once a step listens: where, and what to try. */
export function banner(
  step: Step,
  urls: string[],
  label = `Step ${String(step.number).padStart(2, '0')} (${step.title})`,
  instances?: number,
): string {
  const list = serversOf(step, instances);
  // localhost for people: it is what they type, and what the docs show.
  const shown = urls.map((url) => url.replace('127.0.0.1', 'localhost'));
  const where = list
    .map((server, i) => `${list.length > 1 ? `${server.name ?? server.entry} on ` : ''}${shown[i]}`)
    .join(', ');
  const tries = (step.try ?? []).map((line) => `  ${fillUrls(line, shown)}`);
  return [
    `${bold(label)} listening: ${where}`,
    ...(tries.length ? ['Try, in another terminal, in the workshop folder:', ...tries] : []),
    dim('Ctrl-C stops it.'),
  ].join('\n');
}

export interface ForegroundOptions {
  dir?: string;
  port?: number;
  watch?: boolean;
  /** The banner's first words, for a workspace. */
  label?: string;
  /** A line to print as the servers start, before they answer. */
  intro?: string;
  /** The command to suggest with another port, given that port. */
  retry?: (port: number) => string;
  /** The step's --redis mode: a redis-server of its own, and the instances its manifest asks for. */
  redis?: boolean;
}

/** A step running in the foreground. */
export interface Foreground {
  /**
   * Stop its servers (and its Redis), without ending this process; resolves
   * once they have ended. `ownMs`: as Launched.stop takes it.
   */
  stop(ownMs?: number): Promise<void>;
}

/** What runs in the foreground now: a signal stops it all. */
const foreground = new Set<Foreground>();
let catching = false;

/**
 * Ctrl-C, kill, an editor's stop button or a closed terminal: stop the
 * servers (they keep the ports otherwise), wait for them, and end, in every
 * state: before the servers answer, once they do, or after one crashed. A
 * second signal does not wait.
 */
function stopOnSignals(): void {
  if (catching) return;
  catching = true;
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, async () => {
      if (stopping) {
        for (const child of live) child.kill('SIGKILL');
        process.exit(128 + constants.signals[signal]);
      }
      stopping = true;
      // Ctrl-C in a terminal reaches every process of the command, the
      // servers too: a second for them to end on their own.
      const ownMs = signal === 'SIGINT' ? 1000 : 0;
      await Promise.all([...foreground].map((run) => run.stop(ownMs)));
      // Ctrl-C is how a person ends a run: no error. A kill gets the status a
      // shell gives a program it ended, 128 + the signal's number.
      process.exit(signal === 'SIGINT' ? undefined : 128 + constants.signals[signal]);
    });
  }
  // npm start runs this under a shell (node need-node && node step): once
  // npm is gone, so is this, its servers stopped first.
  whenParentGone(() => process.emit('SIGHUP'));
}

/** Where the --redis mode keeps Redis's data across restarts (git ignores it). */
export const redisDataDir = (step: Step): string => path.join(root, '.redis', step.slug);

/**
 * Run a step for a person at a terminal: refuse busy ports in one line,
 * start the servers, print the banner when they answer, and stay until a
 * signal or until a server exits (its exit status becomes ours).
 */
export async function runInForeground(
  step: Step,
  options: ForegroundOptions = {},
): Promise<Foreground> {
  stopOnSignals();
  const mode = options.redis ? step.redis : undefined;
  if (options.redis && !mode)
    fail(
      `Step ${step.number} has no --redis mode: it keeps everything in one process. Step 9 has one: npm run step -- 9 --redis`,
    );
  const ports = portsFrom(step, options.port, mode?.instances);
  const problems = step.script
    ? []
    : (await Promise.all(ports.map(portProblem))).filter((p) => p !== undefined);
  if (problems.length > 0) {
    // Ports that are free now, as doctor suggests them.
    const port = await freePortRun(ports.length);
    const retry =
      options.retry?.(port) ??
      `npm run step -- ${step.number}${mode ? ' --redis' : ''} --port ${port}`;
    fail(
      `Cannot start: ${problems.join(', ')}. Stop what uses ${problems.length > 1 ? 'them' : 'it'} (another npm run step?), or pick another port: ${retry}`,
    );
  }
  const env: Record<string, string> = {};
  let redis: RunningRedis | undefined;
  if (mode) {
    try {
      redis = await startRedis(undefined, { dir: redisDataDir(step) });
    } catch (err) {
      fail((err as Error).message);
    }
    env.REDIS_URL = redis.url;
    // Instances that must agree (one signing key) get one value for this run.
    for (const name of mode.shared ?? [])
      if (!process.env[name]) env[name] = randomBytes(32).toString('base64url');
  }
  if (options.intro) console.log(options.intro);
  // Before the servers load: a library of theirs may print a warning as it loads.
  if (step.expected) console.log(dim(step.expected));
  const launched = launchStep(step, {
    dir: options.dir,
    ports,
    watch: options.watch,
    env,
    instances: mode?.instances,
  });
  let stopped: Promise<void> | undefined;
  const run: Foreground = {
    stop: (ownMs?: number) =>
      (stopped ??= (async () => {
        foreground.delete(run);
        await launched.stop(undefined, ownMs);
        await redis?.stop();
      })()),
  };
  foreground.add(run);
  // A server that ends on its own ends the run, and this process with its status.
  for (const child of launched.children) {
    child.once('exit', async (code) => {
      if (stopped) return;
      await run.stop();
      process.exit(code ?? 0);
    });
  }
  // A step with a mistake in it may take a while (watch mode waits for the
  // fix): print the banner whenever it first answers, and never time out.
  if (step.script) {
    // A script prints and is done, but watch mode keeps the terminal: say so.
    if (options.watch)
      console.log(
        dim(
          `Step ${step.number} is a script, not a server: it runs again when you save one of its files. Ctrl-C stops it.`,
        ),
      );
    return run;
  }
  const shown = mode ? { ...step, try: mode.try } : step;
  launched.ready(24 * 3600 * 1000).then(
    () => {
      if (stopped) return;
      // Before the banner, whose last line says how to stop it all.
      if (redis)
        console.log(
          dim(
            `The instances share Redis at ${redis.url} (a redis-server of this run, stopped with it; it keeps its data in ${rel(redisDataDir(step))}/ across restarts)${mode?.shared?.length ? ` and one ${mode.shared.join(', ')}` : ''}.`,
          ),
        );
      console.log(banner(shown, launched.urls, options.label, mode?.instances));
    },
    () => {},
  );
  return run;
}
