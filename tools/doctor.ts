// npm run doctor: is this machine ready for the workshop? Node's version,
// the installed packages against the lockfile, and the default port.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { cli, green, isMain, red } from './cli.ts';
import { root } from './steps.ts';

export interface Finding {
  ok: boolean;
  what: string;
  /** One line: how to fix it. */
  fix?: string;
}

/** Whether `version` meets a ">=major.minor[.patch]" range, as package.json engines says. */
export function checkNode(version: string, range: string): Finding {
  const need = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
  const have = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!need || !have) return { ok: false, what: `cannot compare Node ${version} with "${range}"`, fix: 'Use Node 20.11 or newer.' };
  const a = have.slice(1, 4).map(Number);
  const b = need.slice(1, 4).map((x) => Number(x ?? 0));
  const cmp = a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
  return cmp >= 0
    ? { ok: true, what: `Node ${version} meets ${range}` }
    : { ok: false, what: `Node ${version} is older than ${range}`, fix: `Install a newer Node (nvm install ${b[0]}; or from nodejs.org), then npm install again.` };
}

/** Every package the lockfile pins at the top level is installed, at its locked version. */
export function checkInstall(dir = root): Finding[] {
  const lockFile = path.join(dir, 'package-lock.json');
  if (!existsSync(path.join(dir, 'node_modules'))) return [{ ok: false, what: 'no node_modules: dependencies are not installed', fix: 'Run npm install.' }];
  const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as { packages: Record<string, { version?: string }> };
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  const direct = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies });
  const wrong: string[] = [];
  for (const name of direct) {
    const locked = lock.packages[`node_modules/${name}`]?.version;
    const file = path.join(dir, 'node_modules', name, 'package.json');
    const installed = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version : undefined;
    if (installed !== locked) wrong.push(`${name} ${installed ?? 'missing'} (lockfile: ${locked})`);
  }
  return wrong.length === 0
    ? [{ ok: true, what: `${direct.length} packages installed as the lockfile pins them` }]
    : [{ ok: false, what: `packages differ from the lockfile: ${wrong.join(', ')}`, fix: 'Run npm ci (or npm install) to match package-lock.json.' }];
}

/** Whether a port is free to listen on. */
export function checkPort(port: number): Promise<Finding> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      resolve({ ok: false, what: `port ${port} is ${err.code === 'EADDRINUSE' ? 'in use' : `not available (${err.code})`}`, fix: `Stop what uses it, or run steps on another port: npm run step -- 1 --port ${port + 1}` }),
    );
    probe.listen(port, () => probe.close(() => resolve({ ok: true, what: `port ${port} is free` })));
  });
}

if (isMain(import.meta.url)) {
  cli('\nUsage: npm run doctor   check Node, the installed packages and port 3000; a fix for each problem', {}, { max: 0 });
  const engines = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
  const port = Number(process.env.PORT || 3000);
  const findings = [checkNode(process.version, engines), ...checkInstall(), await checkPort(port)];
  for (const f of findings) console.log(f.ok ? `${green('ok')}   ${f.what}` : `${red('fix')}  ${f.what}\n     ${f.fix}`);
  const problems = findings.filter((f) => !f.ok).length;
  console.log(problems === 0 ? green('Ready for the workshop.') : red(`${problems} problem${problems > 1 ? 's' : ''} to fix first.`));
  process.exitCode = problems === 0 ? 0 : 1;
}
