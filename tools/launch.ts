// Start a step's servers, each in its own process. npm run step, npm start,
// npm run dev, the attack lab and the benchmark all launch steps through
// here, so the steps themselves only listen: the launcher checks the ports
// first, passes each server its PORT, and prints what to try.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { bold, dim, fail } from './cli.ts';
import { portProblem } from './ports.ts';
import { fillUrls, servers, stepDir, type Step } from './steps.ts';

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
}

export function launchStep(step: Step, options: LaunchOptions = {}): Launched {
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  const list = servers(step);
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
    async ready(timeoutMs = 15_000) {
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
export function portsFrom(step: Step, base: number | undefined): number[] {
  return servers(step).map((server, i) => (base === undefined ? server.port : base + i));
}

/** What the launcher prints once a step listens: where, and what to try. */
export function banner(step: Step, urls: string[], label = `Step ${String(step.number).padStart(2, '0')} (${step.title})`): string {
  const list = servers(step);
  // localhost for people: it is what they type, and what the docs show.
  const shown = urls.map((url) => url.replace('127.0.0.1', 'localhost'));
  const where = list.map((server, i) => `${list.length > 1 ? `${server.name ?? server.entry} on ` : ''}${shown[i]}`).join(', ');
  const tries = (step.try ?? []).map((line) => `  ${fillUrls(line, shown)}`);
  return [`${bold(label)} listening: ${where}`, ...(tries.length ? ['Try, in another terminal:', ...tries] : []), dim('Ctrl-C stops it.')].join('\n');
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
}

/**
 * Run a step for a person at a terminal: refuse busy ports in one line,
 * start the servers, print the banner when they answer, and stay until
 * Ctrl-C or until a server exits (its exit status becomes ours).
 */
export async function runInForeground(step: Step, options: ForegroundOptions = {}): Promise<void> {
  const ports = portsFrom(step, options.port);
  const problems = step.script ? [] : (await Promise.all(ports.map(portProblem))).filter((p) => p !== undefined);
  if (problems.length > 0) {
    const port = ports[0]! + ports.length;
    const retry = options.retry?.(port) ?? `npm run step -- ${step.number} --port ${port}`;
    fail(`Cannot start: ${problems.join(', ')}. Stop what uses it (another npm run step?), or pick another port: ${retry}`);
  }
  const launched = launchStep(step, { dir: options.dir, ports, watch: options.watch });
  let exiting = false;
  for (const child of launched.children) {
    child.on('exit', (code) => {
      if (exiting) return;
      exiting = true;
      launched.stop();
      process.exitCode = code ?? 0;
    });
  }
  // Ctrl-C reaches the children too; wait for them rather than die first.
  process.on('SIGINT', () => {});
  // A step with a mistake in it may take a while (watch mode waits for the
  // fix): print the banner whenever it first answers, and never time out.
  if (step.script) return;
  launched.ready(24 * 3600 * 1000).then(
    () => console.log(banner(options.tryStep ? { ...step, try: options.tryStep.try } : step, launched.urls, options.label)),
    () => {},
  );
}
