// Run a program to its end and collect what it printed: the typecheck, Marp,
// the test runs and the benchmark's load generator all run through here.
import { spawn, type SpawnOptions } from 'node:child_process';

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

export function run(command: string, args: string[], { echo = false, ...options }: RunOptions = {}): Promise<Finished> {
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
