// npm run doctor: is this machine ready for the workshop? Node's version
// (checked first, by need-node.cjs, on any Node from 14 on), the installed
// packages against the lockfile, every port a step listens on, and the
// optional parts: a browser for the browser tests, Redis for step 09.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { findChromium, noBrowser } from './chromium.ts';
import { cli, dim, green, isMain, portArgument, red, yellow } from './cli.ts';
import { portsFrom } from './launch.ts';
import { freePortRun, portProblem } from './ports.ts';
import { root, servers, steps } from './steps.ts';

export interface Finding {
  ok: boolean;
  what: string;
  /** One line: how to fix it. */
  fix?: string;
  /** Not needed for the workshop itself: a note, not a problem. */
  optional?: boolean;
}

const needNode = createRequire(import.meta.url)('./need-node.cjs') as {
  satisfies(version: string, range: string): boolean;
  engines(): string;
  advice(version: string, range: string): string;
};

/** Whether `version` meets the engines range of package.json. */
export function checkNode(version: string, range = needNode.engines()): Finding {
  return needNode.satisfies(version, range)
    ? { ok: true, what: `Node ${version} meets ${range}` }
    : {
        ok: false,
        what: `Node ${version} does not meet ${range}`,
        fix: needNode.advice(version, range),
      };
}

/** Every package the lockfile pins at the top level is installed, at its locked version. */
export function checkInstall(dir = root): Finding[] {
  const lockFile = path.join(dir, 'package-lock.json');
  if (!existsSync(path.join(dir, 'node_modules')))
    return [
      {
        ok: false,
        what: 'no node_modules: dependencies are not installed',
        fix: 'Run npm install.',
      },
    ];
  const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as {
    packages: Record<string, { version?: string }>;
  };
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<
    string,
    Record<string, string> | undefined
  >;
  const direct = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies });
  const wrong: string[] = [];
  for (const name of direct) {
    const locked = lock.packages[`node_modules/${name}`]?.version;
    const file = path.join(dir, 'node_modules', name, 'package.json');
    const installed = existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
      : undefined;
    if (installed !== locked) wrong.push(`${name} ${installed ?? 'missing'} (lockfile: ${locked})`);
  }
  return wrong.length === 0
    ? [{ ok: true, what: `${direct.length} packages installed as the lockfile pins them` }]
    : [
        {
          ok: false,
          what: `packages differ from the lockfile: ${wrong.join(', ')}`,
          fix: 'Run npm ci (or npm install) to match package-lock.json.',
        },
      ];
}

/**
 * Where the steps could start instead: a run of free ports as long as the
 * step with most servers needs, since they take the ports after --port. One
 * for the whole doctor run, however many ports are busy.
 */
let suggested: Promise<number> | undefined;
const suggestedBase = () =>
  (suggested ??= freePortRun(
    Math.max(...steps.filter((step) => !step.script).map((step) => servers(step).length)),
  ));

/** Whether a port is free to listen on, naming the steps that use it. */
export async function checkPort(port: number, usedBy = 'the steps'): Promise<Finding> {
  const problem = await portProblem(port);
  if (problem === undefined) return { ok: true, what: `port ${port} is free (${usedBy})` };
  const base = await suggestedBase();
  return {
    ok: false,
    what: `${problem} (${usedBy})`,
    fix: `Stop what uses it, or run those steps on ports that are free now: npm run step -- <n> --port ${base}`,
  };
}

/**
 * Every port a step of the manifest listens on, with the steps that use it:
 * by default, or from `base` on, as --port or PORT moves them.
 */
export function stepPorts(base?: number): Map<number, string[]> {
  const ports = new Map<number, string[]>();
  const use = (port: number, user: string) => ports.set(port, [...(ports.get(port) ?? []), user]);
  for (const step of steps) {
    if (step.script) continue;
    for (const port of portsFrom(step, base)) use(port, String(step.number));
    // npm run step -- 9 --redis: its instances, each on the next port.
    if (step.redis)
      for (const port of portsFrom(step, base, step.redis.instances))
        use(port, `${step.number} --redis`);
  }
  return ports;
}

/** Node 20 runs every step, but step 10's oidc-provider says otherwise: say so before it does. */
export function checkProviderRuntime(version: string): Finding | undefined {
  if (!/^v20\./.test(version)) return undefined;
  return {
    ok: false,
    what: `Node ${version.slice(1)}: step 10's OpenID Provider prints "Unsupported runtime" (it asks for 22); it works, so ignore it`,
    fix: 'Or use Node 24 LTS: nvm install 24 (or fnm install 24).',
    optional: true,
  };
}

export function checkBrowser(find = findChromium): Finding {
  const browser = find();
  return browser
    ? { ok: true, what: `browser for the browser tests: ${browser}`, optional: true }
    : {
        ok: false,
        what: 'no Chrome, Chromium, Edge or Brave: the browser tests are skipped',
        fix: noBrowser(),
        optional: true,
      };
}

export function checkRedis(): Finding {
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return found.status === 0
    ? {
        ok: true,
        what: `Redis for step 09's shared deny-list: ${found.stdout.trim().split(' ').slice(0, 3).join(' ')}`,
        optional: true,
      }
    : {
        ok: false,
        what: 'no redis-server: step 09 keeps its deny-list in memory, and its Redis tests are skipped',
        fix: 'Optional. Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis.',
        optional: true,
      };
}

if (isMain(import.meta.url)) {
  const usage = `
Usage: npm run doctor                  check Node, the installed packages, the ports the steps use,
                                       and the optional browser and Redis; a fix for each problem
       npm run doctor -- --port 4000   the ports the steps use with --port 4000 (or set PORT)
Options:
  --port <port>  the port the steps start from, as npm run step takes it (default: PORT, else 3000)`;
  const { values } = cli(usage, { port: { type: 'string' } }, { max: 0 });
  const base = portArgument(values.port) ?? portArgument(process.env.PORT, 'PORT');
  const ports = [...stepPorts(base)].map(([port, used]) =>
    checkPort(port, `step${used.length > 1 ? 's' : ''} ${used.join(', ')}`),
  );
  const runtime = checkProviderRuntime(process.version);
  const findings = [
    checkNode(process.version),
    ...(runtime ? [runtime] : []),
    ...checkInstall(),
    ...(await Promise.all(ports)),
    checkBrowser(),
    checkRedis(),
  ];
  for (const f of findings) {
    if (f.ok) console.log(`${green('ok')}    ${f.what}`);
    else
      console.log(
        `${f.optional ? yellow('note') : red('fix ')}  ${f.what}\n      ${dim(f.fix ?? '')}`,
      );
  }
  const problems = findings.filter((f) => !f.ok && !f.optional).length;
  console.log(
    problems === 0
      ? green('Ready for the workshop.')
      : red(`${problems} problem${problems > 1 ? 's' : ''} to fix first.`),
  );
  process.exitCode = problems === 0 ? 0 : 1;
}
