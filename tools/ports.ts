// Ports: a free one for tests and tools, and whether a given one can be
// listened on, so the launcher can say so in one line before a step starts.
import { createServer } from 'node:net';

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

/** Undefined when the port is free; otherwise why not, in a few words. */
export function portProblem(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      resolve(err.code === 'EADDRINUSE' ? `port ${port} is in use` : err.code === 'EACCES' ? `port ${port} is not allowed` : `port ${port} is not available (${err.code})`),
    );
    // Where Koa's listen() binds: every address, IPv6 and IPv4.
    probe.listen(port, () => probe.close(() => resolve(undefined)));
  });
}

/** The first port from `from` on, in steps of 100, where `count` ports in a row are free. */
export async function freePortRun(count: number, from = 4000): Promise<number> {
  for (let base = from; base + count <= 65536; base += 100) {
    const problems = await Promise.all(Array.from({ length: count }, (_, i) => portProblem(base + i)));
    if (problems.every((p) => p === undefined)) return base;
  }
  throw new Error(`no ${count} free ports in a row from ${from} on`);
}
