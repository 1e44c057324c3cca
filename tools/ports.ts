// Ports: free ones for tests and tools (one per server of a step), whether a
// given one can be listened on, so the launcher can say so in one line before
// a step starts, and a run of free ones to suggest instead.
import { createServer } from 'node:net';

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

// Ports for another process to listen on are picked below 32768, at random:
// no system hands out ports there to a listen(0) (Linux's ephemeral range
// starts at 32768, macOS's and Windows's at 49152). From that range, a port
// that was free could be taken by any server asking for "any free port" in
// the second or so before the process it was meant for listens.
const FIRST = 20000;
const PAST = 32768;

/** `count` different ports that were free a moment ago: one for each server of a step. */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = FIRST + Math.floor(Math.random() * (PAST - FIRST));
    if (!ports.includes(port) && (await portProblem(port)) === undefined) ports.push(port);
  }
  return ports;
}

/** Undefined when the port is free; otherwise why not, in a few words. */
export function portProblem(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      resolve(
        err.code === 'EADDRINUSE'
          ? `port ${port} is in use`
          : err.code === 'EACCES'
            ? `port ${port} is not allowed`
            : `port ${port} is not available (${err.code})`,
      ),
    );
    // Where Koa's listen() binds: every address, IPv6 and IPv4.
    probe.listen(port, () => probe.close(() => resolve(undefined)));
  });
}

/**
 * Whether this system can listen on a loopback address other than 127.0.0.1:
 * Linux and Windows have all of 127.0.0.0/8, macOS only 127.0.0.1 unless told
 * (sudo ifconfig lo0 alias 127.0.0.2). Floods come from such addresses.
 */
export function canListenOn(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(0, address, () => probe.close(() => resolve(true)));
  });
}

/** The first port from `from` on, in steps of 100, where `count` ports in a row are free. */
export async function freePortRun(count: number, from = 4000): Promise<number> {
  for (let base = from; base + count <= 65536; base += 100) {
    const problems = await Promise.all(
      Array.from({ length: count }, (_, i) => portProblem(base + i)),
    );
    if (problems.every((p) => p === undefined)) return base;
  }
  throw new Error(`no ${count} free ports in a row from ${from} on`);
}
