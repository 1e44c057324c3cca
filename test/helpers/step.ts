// Load the code under test and serve it on a free port.
//
// Checkpoint tests run against the reference step by default. STEP_DIRS (a
// JSON map, see CodeDirs) points them at other folders instead: a learner's
// workspace (npm run check -- 4 --dir workspace), or the step before each step
// (the proof that each checkpoint means something). Every step test loads its
// code through here.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe } from 'node:test';
import { freePort } from '../../tools/ports.ts';
import { checkpointName, findStep, rel, stepDir, type CodeDirs } from '../../tools/steps.ts';
import { noteServerError } from './http.ts';

const dirs: CodeDirs = JSON.parse(process.env.STEP_DIRS ?? '{}');

/**
 * The checkpoint proof (test/checkpoints.test.ts) only needs each exercise
 * to fail: tests that cost seconds (a browser, lockouts, spawned servers)
 * are skipped there, and run everywhere else.
 */
export const inProof = process.env.CHECKPOINT_PROOF === '1';
export const slow: false | string = inProof ? 'not needed to show that the exercise fails' : false;

/** The folder whose code is under test for step n. */
export function codeDir(n: number): string {
  const dir = dirs[n] ?? dirs['*'];
  return dir === undefined ? stepDir(findStep(n)) : path.resolve(dir);
}

/**
 * Step n's checkpoint tests, in one suite named after the step. They run one
 * at a time (a test may move the step's clock); suites run side by side.
 */
export function checkpoint(n: number, body: () => void): void {
  describe(checkpointName(findStep(n)), { concurrency: 1 }, body);
}

/**
 * Under npm run check --part: the reason to skip a costly suite (a browser,
 * a Redis) that belongs to another part of step n; false otherwise.
 */
export function otherPart(n: number, suite: string): string | false {
  const { part } = JSON.parse(process.env.CHECK_OPTIONS ?? '{}') as { part?: string };
  if (!part) return false;
  const owner = findStep(n).parts?.find((p) =>
    p.suites.some((s) => s === suite || s.endsWith(` > ${suite}`)),
  );
  return owner && owner.id !== part ? `part "${owner.id}" (this check is of "${part}")` : false;
}

/** Import a file of step n's code (its entry file unless named). */
export async function importStep(
  n: number,
  file = findStep(n).entry,
): Promise<Record<string, unknown>> {
  const full = path.join(codeDir(n), file);
  if (!existsSync(full)) {
    throw new Error(`Step ${n} needs ${rel(full)}: the file does not exist yet.`);
  }
  return import(pathToFileURL(full).href);
}

/** Import several files of step n's code: their exports, as one object. */
export async function importStepFiles(
  n: number,
  files: string[],
): Promise<Record<string, unknown>> {
  const modules = await Promise.all(files.map((file) => importStep(n, file)));
  return Object.assign({}, ...modules) as Record<string, unknown>;
}

/** Something that answers HTTP: a Koa app, or anything else with a callback(). */
export interface Listenable {
  callback(): (req: never, res: never) => void;
  /** A Koa app's error events: errors no middleware caught. */
  on?(event: 'error', listener: (err: Error & { status?: number }) => void): unknown;
}

export function isListenable(value: unknown): value is Listenable {
  return typeof (value as Listenable | undefined)?.callback === 'function';
}

/** The Koa app a step module exports as `name`, or an error saying what is missing. */
export function exportedApp(module: Record<string, unknown>, n: number, name = 'app'): Listenable {
  const app = module[name];
  if (!isListenable(app)) {
    throw new Error(
      `Step ${n}'s ${findStep(n).entry} must export its Koa app as \`${name}\` (export const ${name} = new Koa()).`,
    );
  }
  return app;
}

export interface Running {
  url: string;
  close(): Promise<void>;
}

/** Listen on port 0 on loopback: the OS picks a free port, so tests never collide. */
export async function listen(app: Listenable): Promise<Running> {
  let url = '';
  // Before callback(): with a listener of ours, Koa does not print the stack
  // itself; the test's message names the error instead (show() in http.ts).
  app.on?.('error', (err) => {
    if ((err.status ?? 500) >= 500 && url) noteServerError(url, err);
  });
  const server = createServer(app.callback() as never);
  // Node closes a kept-alive connection after 5 s idle; fetch may pick that
  // same connection for its next request at that moment, and the request
  // fails with ECONNRESET. A test server keeps idle connections for a minute
  // instead (close() below drops them all at once).
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  url = `http://127.0.0.1:${port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        // fetch keeps connections alive; drop them so close() returns at once.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Serve what `load` returns for the tests of the enclosing suite or file. */
export function serve(load: () => Promise<Listenable>): { readonly url: string } {
  let running: Running | undefined;
  before(async () => {
    running = await listen(await load());
  });
  after(() => running?.close());
  return {
    get url() {
      if (!running) throw new Error('The app did not start: see the error above.');
      return running.url;
    },
  };
}

/** Serve step n's exported Koa app. */
export function serveStep(n: number, name = 'app'): { readonly url: string } {
  return serve(async () => exportedApp(await importStep(n), n, name));
}

/** Tells runFile, from inside the child, that it listened. */
const reportListening = new URL('./report-listening.ts', import.meta.url).href;

export interface FileRun {
  /** The exit status, or null when it was killed: it listened, or still ran after `ms`. */
  status: number | null;
  /** It started listening (it says so itself): a server that should have stopped started instead. */
  listened: boolean;
  stdout: string;
  stderr: string;
}

/**
 * Run a file of a step to its end (a server given a setting it must refuse
 * should exit at once), or kill it after `ms`. It gets a free PORT of its
 * own: a server that listens after all must not take 3000 from the
 * learner's npm run dev, nor collide with the runs beside it.
 */
export async function runFile(
  file: string,
  env: Record<string, string>,
  ms = 30_000,
): Promise<FileRun> {
  const port = await freePort();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', reportListening, file], {
      env: { ...process.env, PORT: String(port), ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      timeout: ms,
    });
    let stdout = '';
    let stderr = '';
    let listened = false;
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
    // Listening is the answer already: no need to wait out `ms`.
    child.on('message', (message) => {
      if (message !== 'listening') return;
      listened = true;
      child.kill();
    });
    child.on('close', (status) => resolve({ status, listened, stdout, stderr }));
  });
}

/** Why a run that should have exited did not, for an assertion message. */
export function stillRunning(run: FileRun, ms = 30_000): string {
  if (run.listened) return ' (it listened on its port instead: it did not stop at the setting)';
  return run.status === null
    ? ` (still running after ${ms / 1000} s: it did not stop at the setting)`
    : '';
}
