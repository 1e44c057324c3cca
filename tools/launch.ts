// Start a step's servers as `npm run step` does, each in its own process:
// npm run step, the attack lab and the benchmark all launch steps through here.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import { servers, stepDir, type Step } from './steps.ts';

export interface Launched {
  /** One URL per server, in the order of servers(step): the login service first. */
  urls: string[];
  children: ChildProcess[];
  /** Resolves when every server answers HTTP. */
  ready(timeoutMs?: number): Promise<void>;
  stop(): void;
}

/** A port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
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
  // A resource server finds the login service's public keys here (step 07).
  const env = { ...process.env, JWKS_URL: `${urls[0]}/.well-known/jwks.json`, ...options.env };
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

/** Keep the servers in the foreground: when one exits, stop the rest and exit as it did. */
export function foreground(launched: Launched): void {
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
}

/** Ports for a step's servers from --port or PORT: the first there, the others after it. */
export function portsFrom(step: Step, base: string | undefined): number[] | undefined {
  return base === undefined ? undefined : servers(step).map((_, i) => Number(base) + i);
}
