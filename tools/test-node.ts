// npm run test:node -- 24: npm test again on another Node, taken from the npm
// registry's node-<os>-<arch> package (no download from anywhere else) and
// kept in a cache folder, so the next run starts at once.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import path from 'node:path';
import { cli, dim, fail, green, red } from './cli.ts';
import { root } from './steps.ts';

const usage = `
Usage: npm run test:node -- 24          npm test on the newest Node 24
       npm run test:node -- 20.18.0     on that exact version
       npm run test:node -- floor       on the oldest version package.json's engines allows
Node versions are kept in NODE_VERSIONS_DIR, else ~/.cache/jwt-koa-workshop/node.`;
const { positionals } = cli(usage, {}, { max: 1 });
const wanted = positionals[0] ?? fail(`Which Node? ${usage.trim()}`);

const engines = (
  createRequire(import.meta.url)('./need-node.cjs') as { engines(): string }
).engines();
const spec = wanted === 'floor' ? /(\d+\.\d+\.\d+)/.exec(engines)![1]! : wanted;
if (!/^\d+(\.\d+){0,2}$/.test(spec))
  fail(`A Node version is a number like 24 or 20.18.0, not ${JSON.stringify(wanted)}.`);

const os = { linux: 'linux', darwin: 'darwin', win32: 'win' }[process.platform as string];
if (!os) fail(`No Node package on the npm registry for ${process.platform}.`);
const pkg = `node-${os}-${process.arch}`;

/** npm itself: the one running this script when there is one (no shell needed on Windows). */
function npm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const cmd = process.env.npm_execpath
    ? ([process.execPath, [process.env.npm_execpath, ...args]] as const)
    : (['npm', args] as const);
  return spawnSync(cmd[0], cmd[1], {
    encoding: 'utf8',
    shell: !process.env.npm_execpath && process.platform === 'win32',
  });
}

let version = spec;
if (!/^\d+\.\d+\.\d+$/.test(spec)) {
  const found = npm(['view', `${pkg}@${spec}`, 'version', '--json']);
  const list =
    found.status === 0 && found.stdout.trim()
      ? ([] as string[]).concat(JSON.parse(found.stdout) as string | string[])
      : [];
  if (list.length === 0)
    fail(`The npm registry has no ${pkg} ${spec}: ${found.stderr.trim().split('\n')[0] ?? ''}`);
  version = list.at(-1)!;
}

const cache = path.resolve(
  process.env.NODE_VERSIONS_DIR ?? path.join(homedir(), '.cache', 'jwt-koa-workshop', 'node'),
);
const dir = path.join(cache, `${pkg}-${version}`);
const candidates = [
  path.join(dir, 'node_modules', pkg, 'bin', 'node'),
  path.join(dir, 'node_modules', pkg, 'node.exe'),
  path.join(dir, 'node_modules', pkg, 'bin', 'node.exe'),
];
let binary = candidates.find((file) => existsSync(file));
if (!binary) {
  console.log(dim(`Fetching ${pkg}@${version} from the npm registry into ${dir} ...`));
  const installed = npm([
    'install',
    '--prefix',
    dir,
    '--no-save',
    '--no-package-lock',
    '--no-audit',
    '--no-fund',
    `${pkg}@${version}`,
  ]);
  binary = candidates.find((file) => existsSync(file));
  if (installed.status !== 0 || !binary)
    fail(
      `Could not install ${pkg}@${version}: ${installed.stderr.trim().split('\n').slice(-3).join(' ')}`,
    );
}

const tsx = createRequire(import.meta.url).resolve('tsx/cli');
console.log(dim(`npm test on Node ${version} (${binary})`));
const started = Date.now();
const run = spawnSync(binary, [tsx, path.join(root, 'tools', 'test.ts')], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    PATH: `${path.dirname(binary)}${path.delimiter}${process.env.PATH ?? ''}`,
  },
});
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(
  run.status === 0
    ? green(`Node ${version}: npm test passed in ${seconds} s`)
    : red(`Node ${version}: npm test failed (status ${run.status}) after ${seconds} s`),
);
process.exitCode = run.status ?? 1;
