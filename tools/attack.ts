// npm run attack <n>: start step n on a free port and fire the attack lab at it.
// npm run attack -- --url http://host:port: attack an app that is already running.
import { createPrivateKey, randomBytes, type JsonWebKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { attack, attackCount, type Outcome, type Report, type Target } from './attack/lab.ts';
import { bold, cli, dim, fail, green, red, stepArgument, yellow } from './cli.ts';
import { freePort, launchStep } from './launch.ts';
import { servers } from './steps.ts';

const usage = `
Usage: npm run attack <n>                               start step n and attack it
       npm run attack -- --url http://localhost:3000    attack a running app (logs in as alice:pyconid)
       npm run attack -- --url <url> --user bob --password secret
       npm run attack -- --url <url> --token <jwt>
Options:
  --url <url>         the app's base URL (with /protected)
  --login-url <url>   where /login is, when it is another service than --url
  --user <name>       user name for /login (default alice)
  --password <pw>     password for /login (default pyconid)
  --token <jwt>       start from this valid token instead of logging in
  --secret <secret>   the app's signing secret, if you know it: adds the claim checks
  --json              print the report as JSON
Exits 1 when any attack got through, so it can gate CI.`;

const { values, positionals } = cli(usage, {
  url: { type: 'string' },
  'login-url': { type: 'string' },
  user: { type: 'string' },
  password: { type: 'string' },
  token: { type: 'string' },
  secret: { type: 'string' },
  json: { type: 'boolean' },
}, { max: 1, looksLike: (p) => /^\d+$/.test(p) });

function table(outcomes: Outcome[]): string {
  const paint = (verdict: Outcome['verdict']) =>
    verdict === 'held' ? green(verdict) : verdict === 'n/a' ? dim(verdict) : red(verdict);
  const widths = [26, 50, 9, 20];
  const cell = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width));
  const head = bold(['attack', 'what it tries', 'expected', 'got'].map((t, i) => cell(t, widths[i]!)).join(' ') + ' verdict');
  const rows = outcomes.map((o) => [o.attack, o.tries, o.expected, o.got].map((t, i) => cell(t, widths[i]!)).join(' ') + ' ' + paint(o.verdict));
  return [head, ...rows].join('\n');
}

function summary(report: Report, name: string): string {
  const ran = report.outcomes.filter((o) => o.verdict !== 'n/a').length;
  const through = report.succeeded;
  const line = `${name}: ${through} of ${ran} attacks got through${report.outcomes.length > ran ? ` (${report.outcomes.length - ran} n/a)` : ''}, tokens sent ${report.transport === 'header' ? 'as Authorization: Bearer' : 'as ?token='}`;
  return through === 0 ? green(line) : red(line);
}

/** The newest private key of a key file (step 07's format), if the step wrote one. */
function readSigner(file: string): Target['signer'] {
  if (!existsSync(file)) return undefined;
  const { keys } = JSON.parse(readFileSync(file, 'utf8')) as { keys: { kid: string; privateJwk: JsonWebKey }[] };
  const newest = keys.at(-1);
  return newest && { kid: newest.kid, privateKey: createPrivateKey({ key: newest.privateJwk, format: 'jwk' }) };
}

async function main(): Promise<void> {
  let target: Target;
  let stop = () => {};
  let name: string;
  if (values.url) {
    target = { apiUrl: values.url.replace(/\/$/, ''), loginUrl: values['login-url']?.replace(/\/$/, ''), user: values.user, password: values.password, token: values.token, secret: values.secret };
    name = values.url;
  } else {
    const step = stepArgument(positionals, usage);
    // The lab picks the key for steps that read JWT_SECRET, and signs with it
    // as an insider would, to test each claim rule on its own.
    // A step that signs with a key pair keeps it in KEYS_FILE: the lab reads
    // the private key from there, for the same insider tests.
    const secret = randomBytes(32).toString('base64url');
    const scratch = mkdtempSync(path.join(tmpdir(), 'jwt-attack-'));
    const keysFile = path.join(scratch, 'keys.json');
    const ports = await Promise.all(servers(step).map(() => freePort()));
    const launched = launchStep(step, { ports, env: { JWT_SECRET: secret, KEYS_FILE: keysFile }, stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    for (const child of launched.children) child.stderr?.on('data', (chunk: Buffer) => (errors += chunk));
    stop = () => {
      launched.stop();
      rmSync(scratch, { recursive: true, force: true });
    };
    try {
      await launched.ready();
    } catch (err) {
      stop();
      fail(`${(err as Error).message}\n${errors}`);
    }
    target = { apiUrl: launched.urls.at(-1)!, loginUrl: launched.urls[0], user: values.user, password: values.password, token: values.token, secret: values.secret ?? secret, signer: readSigner(keysFile) };
    name = `step ${step.number} (${step.title})`;
  }
  try {
    if (!values.json) console.log(dim(`Attacking ${name} with ${attackCount} attacks...\n`));
    const report = await attack(target);
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else {
      console.log(table(report.outcomes));
      if (report.cracked !== undefined) console.log(yellow(`\nThe secret is "${report.cracked}": anyone can mint tokens for any user. See step 06.`));
      console.log(`\n${summary(report, name)}`);
    }
    process.exitCode = report.succeeded > 0 ? 1 : 0;
  } catch (err) {
    stop(); // fail() exits at once: no finally runs after it
    fail((err as Error).message);
  }
  stop();
}

await main();
