// npm run attack <n>: start step n on a free port and fire the attack lab at it.
// npm run attack -- --url http://host:port: attack an app that is already running.
// npm run attack -- <n> --summary: the verdict in a few short lines, for a
// slide or a narrow terminal, rather than the table.
import { createPrivateKey, randomBytes, type JsonWebKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  attack,
  attackCount,
  findProtectedPath,
  type Outcome,
  type Report,
  type Target,
} from './attack/lab.ts';
import { run } from './child.ts';
import { bold, cli, dim, fail, green, isMain, red, stepArgument, yellow, userPath } from './cli.ts';
import { launchStep } from './launch.ts';
import { freePorts } from './ports.ts';
import { fillUrls, rel, servers, stepDir, type Step } from './steps.ts';

const usage = `
Usage: npm run attack <n>                               start step n and attack it
       npm run attack -- <n> --dir workspace            start your code of step n and attack it
       npm run attack -- --url http://localhost:3000    attack a running app (logs in as alice:pyconid)
       npm run attack -- --url <url> --user bob --password secret
       npm run attack -- --url <url> --token <jwt>
       npm run attack -- --url <url> --path /messages --token <jwt>
Options:
  --url <url>         the app's base URL (with /protected)
  --path <path>       the path that needs a token, when not /protected
  --login-url <url>   where /login is, when it is another service than --url
  --user <name>       user name for /login (default alice)
  --password <pw>     password for /login (default pyconid)
  --token <jwt>       start from this valid token instead of logging in
  --secret <secret>   the app's signing secret, if you know it: adds the claim checks
  --grace <seconds>   the app's refresh grace window: a replay goes after it (default 10)
  --json              print the report as JSON
  --summary           the verdict in at most 8 lines of 40 columns, instead of the table
  --dir <folder>      run step n's files from this folder (your workspace) instead
Exits 1 when any attack got through, so it can gate CI.`;

const options = {
  url: { type: 'string' },
  'login-url': { type: 'string' },
  user: { type: 'string' },
  password: { type: 'string' },
  token: { type: 'string' },
  secret: { type: 'string' },
  path: { type: 'string' },
  grace: { type: 'string' },
  json: { type: 'boolean' },
  summary: { type: 'boolean' },
  dir: { type: 'string' },
} as const;

function table(outcomes: Outcome[]): string {
  const paint = (verdict: Outcome['verdict']) =>
    verdict === 'held' ? green(verdict) : verdict === 'n/a' ? dim(verdict) : red(verdict);
  const widths = [26, 50, 9, 20];
  const cell = (text: string, width: number) =>
    text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
  const head = bold(
    ['attack', 'what it tries', 'expected', 'got'].map((t, i) => cell(t, widths[i]!)).join(' ') +
      ' verdict',
  );
  const rows = outcomes.map(
    (o) =>
      [o.attack, o.tries, o.expected, o.got].map((t, i) => cell(t, widths[i]!)).join(' ') +
      ' ' +
      paint(o.verdict),
  );
  return [head, ...rows].join('\n');
}

function summary(report: Report, name: string): string {
  const ran = report.outcomes.filter((o) => o.verdict !== 'n/a').length;
  const through = report.succeeded;
  const line = `${name}: ${through} of ${ran} attacks got through${report.outcomes.length > ran ? ` (${report.outcomes.length - ran} n/a)` : ''}, tokens sent ${report.transport === 'header' ? 'as Authorization: Bearer' : 'as ?token='}`;
  return through === 0 ? green(line) : red(line);
}

/** Words filled into lines of at most `width` characters. */
function fill(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + 1 + word.length <= width)
      lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

/** The longest --summary: a slide's code box, or a terminal split in three. */
export const SUMMARY_LIMITS = { lines: 8, columns: 40 };

/**
 * The lab's verdict in a few lines (--summary): how many attacks got
 * through, and when the secret was guessed, that it is the one hole and
 * what follows from it. `who` names the target, "step 05"; `full` is the
 * command that prints every row.
 */
export function summaryLines(report: Report, who: string, full: string): string[] {
  const ran = report.outcomes.filter((o) => o.verdict !== 'n/a').length;
  const through = report.outcomes.filter(
    (o) => o.verdict === 'VULNERABLE' || o.verdict === 'CRASH',
  );
  const text = [`${who}: ${through.length} of ${ran} attacks got through.`];
  if (report.cracked !== undefined) {
    const forged = report.outcomes.find((o) => o.attack === 'forged with the cracked secret');
    text.push(
      `The one hole: its secret "${report.cracked}", guessed offline from a single token.`,
      forged?.verdict === 'VULNERABLE'
        ? `With it anyone signs anything: a token for admin, valid a year, got ${forged.got}.`
        : 'With it anyone can sign anything.',
      'First fix: a long random key (step 06).',
      `${full} lists all ${through.length}.`,
    );
  } else if (through.length > 0) {
    text.push(`Through: ${through.map((o) => o.attack).join(', ')}.`);
  } else {
    text.push('Every attack that applies was refused.');
  }
  const lines = text.flatMap((paragraph) => fill(paragraph, SUMMARY_LIMITS.columns));
  // Too many names to list: the last line sends to the table.
  if (lines.length > SUMMARY_LIMITS.lines)
    lines.splice(SUMMARY_LIMITS.lines - 1, Infinity, `... ${full} lists every row.`);
  return lines;
}

/** The newest private key of a key file (step 07's format), if the step wrote one. */
function readSigner(file: string): Target['signer'] {
  if (!existsSync(file)) return undefined;
  const { keys } = JSON.parse(readFileSync(file, 'utf8')) as {
    keys: { kid: string; revokedAt?: number; privateJwk: JsonWebKey }[];
  };
  const newest = keys.filter((k) => k.revokedAt === undefined).at(-1);
  return (
    newest && {
      kid: newest.kid,
      privateKey: createPrivateKey({ key: newest.privateJwk, format: 'jwk' }),
    }
  );
}

/** A proxy in front of a JWKS that counts what the API fetches; on loopback, closed with the lab. */
async function countingProxy(
  upstream: string,
): Promise<{ url: string; fetches(): number; close(): void }> {
  let fetches = 0;
  const server = createServer(async (req, res) => {
    fetches++;
    try {
      const answer = await fetch(upstream, { signal: AbortSignal.timeout(5000) });
      res
        .writeHead(answer.status, {
          'Content-Type': 'application/json',
          'Cache-Control': answer.headers.get('cache-control') ?? '',
        })
        .end(await answer.text());
    } catch {
      res.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`,
    fetches: () => fetches,
    close: () => server.close(),
  };
}

// The lab runs a step's keys with a JWKS max-age of 2 s, so that the API
// notices a withdrawn key after 3 s, rather than after the minute it
// would take with the default.
const LAB_JWKS_MAX_AGE = 2;
// And a refresh grace window of 1 s, so that a replay comes 2 s after the
// use, rather than the 11 s the default would take.
const LAB_REFRESH_GRACE = 1;

/** What a step's keys.ts offers the lab when the step mints its own tokens (an OpenID Provider). */
interface InsiderKeys {
  insiderAccessToken?: (options: { keysFile?: string; env?: NodeJS.ProcessEnv }) => string;
  signingKey?: (file: string) => Target['signer'];
}

/** The paths a step's Try lines show on its API (the last server): where a token may be needed. */
function triedPaths(step: Step): string[] {
  const api = servers(step).length - 1;
  return (step.try ?? []).flatMap((line) =>
    [...line.matchAll(/\{(\d+)\}(\/[\w./-]*)/g)]
      .filter((m) => Number(m[1]) === api)
      .map((m) => m[2]!),
  );
}

async function main(): Promise<void> {
  const { values, positionals } = cli(usage, options, {
    max: 1,
    looksLike: (p) => /^\d+$/.test(p),
  });
  let target: Target;
  let full: string;
  let short: string | undefined;
  let stop = () => {};
  let name: string;
  if (values.url) {
    const grace = values.grace === undefined ? undefined : Number(values.grace);
    if (grace !== undefined && !(Number.isInteger(grace) && grace >= 0))
      fail('--grace takes a whole number of seconds.');
    target = {
      apiUrl: values.url.replace(/\/$/, ''),
      protectedPath: values.path,
      loginUrl: values['login-url']?.replace(/\/$/, ''),
      user: values.user,
      password: values.password,
      token: values.token,
      secret: values.secret,
      refreshGraceSeconds: grace,
    };
    name = values.url;
    full = 'npm run attack -- --url <url>';
  } else {
    const step = stepArgument(positionals, usage);
    // The lab picks the key for steps that read JWT_SECRET, and signs with it
    // as an insider would, to test each claim rule on its own.
    // A step that signs with a key pair keeps it in KEYS_FILE: the lab reads
    // the private key from there, for the same insider tests.
    const secret = randomBytes(32).toString('base64url');
    const scratch = mkdtempSync(path.join(tmpdir(), 'jwt-attack-'));
    const keysFile = path.join(scratch, 'keys.json');
    const ports = await freePorts(servers(step).length);
    const env: Record<string, string> = {
      JWT_SECRET: secret,
      KEYS_FILE: keysFile,
      REFRESH_GRACE_SECONDS: String(LAB_REFRESH_GRACE),
    };
    // A step whose API fetches a JWKS fetches it through the lab, which counts.
    const jwks = step.env?.JWKS_URL
      ? await countingProxy(
          fillUrls(
            step.env.JWKS_URL,
            ports.map((port) => `http://127.0.0.1:${port}`),
          ),
        )
      : undefined;
    if (jwks)
      Object.assign(env, { JWKS_URL: jwks.url, JWKS_MAX_AGE_SECONDS: String(LAB_JWKS_MAX_AGE) });
    const dir = values.dir === undefined ? stepDir(step) : userPath(values.dir);
    const launched = launchStep(step, { dir, ports, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    for (const child of launched.children)
      child.stderr?.on('data', (chunk: Buffer) => (errors += chunk));
    stop = () => {
      launched.stop();
      jwks?.close();
      rmSync(scratch, { recursive: true, force: true });
    };
    // npm run rotate-key -- --revoke, as a person would, then a max-age's wait.
    const rotateKey = path.join(dir, 'rotate-key.ts');
    const withdraw = async (kid: string) => {
      const done = await run(process.execPath, ['--import', 'tsx', rotateKey, '--revoke', kid], {
        env: { ...process.env, KEYS_FILE: keysFile },
      });
      if (done.code !== 0) throw new Error(`rotate-key --revoke failed: ${done.output}`);
      await new Promise((resolve) => setTimeout(resolve, (LAB_JWKS_MAX_AGE + 1) * 1000));
    };
    try {
      await launched.ready();
    } catch (err) {
      stop();
      fail(`${(err as Error).message}\n${errors}`);
    }
    // A step whose keys.ts mints tokens (step 10's provider signs for its
    // API; nobody logs in there with a password) gives the lab its token
    // and key, with the settings the step runs with.
    const keys = existsSync(path.join(dir, 'keys.ts'))
      ? ((await import(pathToFileURL(path.join(dir, 'keys.ts')).href)) as InsiderKeys)
      : {};
    const stepEnv = Object.fromEntries(
      Object.entries(step.env ?? {}).map(([name, value]) => [
        name,
        fillUrls(
          value,
          ports.map((port) => `http://localhost:${port}`),
        ),
      ]),
    );
    const token =
      values.token ??
      keys.insiderAccessToken?.({
        keysFile,
        env: { ...process.env, ...stepEnv, KEYS_FILE: keysFile },
      });
    const signer = keys.signingKey?.(keysFile) ?? readSigner(keysFile);
    const apiUrl = launched.urls.at(-1)!;
    // The protected path: /protected, or one the step's Try lines show on its API.
    const protectedPath = token
      ? await findProtectedPath(apiUrl, token, ['/protected', ...triedPaths(step)])
      : undefined;
    target = {
      apiUrl,
      protectedPath,
      loginUrl: launched.urls[0],
      user: values.user,
      password: values.password,
      token,
      secret: values.secret ?? secret,
      signer,
      jwksFetches: jwks?.fetches,
      withdraw: signer && existsSync(rotateKey) ? withdraw : undefined,
      refreshGraceSeconds: LAB_REFRESH_GRACE,
    };
    name = `step ${step.number} (${step.title}${values.dir === undefined ? '' : `, your code in ${rel(dir)}/`})`;
    full = `npm run attack ${step.number}`;
    short = `step ${String(step.number).padStart(2, '0')}`;
  }
  try {
    const brief = values.summary && !values.json;
    if (!values.json && !brief)
      console.log(dim(`Attacking ${name} with ${attackCount} attacks...\n`));
    const report = await attack(target);
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else if (brief) {
      const lines = summaryLines(report, short ?? 'the app', full);
      console.log((report.succeeded > 0 ? red : green)(lines[0]!));
      for (const line of lines.slice(1)) console.log(line);
    } else {
      console.log(table(report.outcomes));
      if (report.cracked !== undefined)
        console.log(
          yellow(
            `\nThe secret is "${report.cracked}": anyone can mint tokens for any user. See step 06.`,
          ),
        );
      console.log(`\n${summary(report, name)}`);
    }
    process.exitCode = report.succeeded > 0 ? 1 : 0;
  } catch (err) {
    stop(); // fail() exits at once: no finally runs after it
    fail((err as Error).message);
  }
  stop();
}

if (isMain(import.meta.url)) await main();
