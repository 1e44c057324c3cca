// Run a program to its end and collect what it printed: the typecheck, Marp,
// the test runs and the benchmark's load generator all run through here. Or
// start one and follow what it prints, line by line.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface Finished {
  /** The exit status; 1 when the program was killed by a signal. */
  code: number;
  /** Standard output and standard error, interleaved as they came. */
  output: string;
  stdout: string;
}

export interface RunOptions extends Pick<SpawnOptions, 'cwd' | 'env'> {
  /** Also pass what the program prints to this process's own output. */
  echo?: boolean;
}

export function run(
  command: string,
  args: string[],
  { echo = false, ...options }: RunOptions = {},
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    let output = '';
    let stdout = '';
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk;
      stdout += chunk;
      if (echo) process.stdout.write(chunk);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk;
      if (echo) process.stderr.write(chunk);
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ code: status ?? 1, output, stdout }));
  });
}

/** A program started and still running, whose output is read as it comes. */
export interface Following {
  child: ChildProcess;
  /** Everything it printed so far, standard output and error. */
  output(): string;
  /** The next line that matches, after the last one found; rejects when the program ends first. */
  next(pattern: RegExp): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start a program and follow what it prints, line by line: tests and the benchmark wait on its lines. */
export function follow(
  command: string,
  args: string[],
  options: Pick<SpawnOptions, 'cwd' | 'env' | 'detached'> = {},
): Following {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let from = 0;
  let wake = () => {};
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  let ended = false;
  void exited.then(() => {
    ended = true;
    wake();
  });
  for (const stream of [child.stdout!, child.stderr!])
    stream.on('data', (chunk: Buffer) => {
      output += chunk;
      wake();
    });
  return {
    child,
    exited,
    output: () => output,
    async next(pattern) {
      for (;;) {
        const rest = output.slice(from);
        const lines = rest.split('\n').slice(0, -1);
        const at = lines.findIndex((line) => pattern.test(line));
        if (at >= 0) {
          from += lines.slice(0, at + 1).join('\n').length + 1;
          return lines[at]!;
        }
        if (ended)
          throw new Error(
            `${command} ${args.join(' ')} ended without printing ${pattern}:\n${output}`,
          );
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

/**
 * Call `stop` once, when this process's parent is gone. npm runs a script
 * under a shell (or has the shell exec it), and a kill of npm reaches neither
 * that script nor, through the shell, its child: left behind, a server would
 * keep its port.
 */
export function whenParentGone(stop: () => void): void {
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch); // once: a second stop would not wait for the first
    stop();
  }, 500);
  watch.unref();
}
