// The learner tooling: workspace, check --dir, diff, doctor, decode, and
// the launcher as a person runs it (signals, a replaced workspace, pipes),
// and what npm test keeps from one run to the next.
import assert from 'node:assert/strict';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import jwt from 'jsonwebtoken';
import { checkReport, checkpoints, mistakes, stepMistakes } from '../tools/check.ts';
import { follow, type Following } from '../tools/child.ts';
import { handOut, loadExercise, parseHints } from '../tools/exercise.ts';
import { npmFlags } from '../tools/cli.ts';
import { banner, launchStep, redisDataDir } from '../tools/launch.ts';
import { freePort, freePorts, portProblem } from '../tools/ports.ts';
import { findRedisServer, noRedis, redisClient, startRedis } from '../tools/redis.ts';
import { runTests } from '../tools/run-tests.ts';
import { testFileKeys } from '../tools/test-inputs.ts';
import { baseOf, nextOf } from '../tools/steps.ts';
import { markdownFiles, namedRegions, syncText, unusedRegions } from '../tools/sync.ts';
import { explain, relative } from '../tools/decode.ts';
import { diffDirs, unifiedDiff } from '../tools/diff.ts';
import { checkInstall, checkNode, checkPort, stepPorts } from '../tools/doctor.ts';
import { checkpointName, findStep, root, stepDir } from '../tools/steps.ts';
import {
  changedFiles,
  describeWorkspace,
  exerciseIn,
  ignoredByGit,
  overwriteConcern,
  startFrom,
  workspaceStep,
} from '../tools/workspace.ts';
import { basic, show } from './helpers/http.ts';
import { unsigned } from './helpers/tokens.ts';

// Inside the repository, like workspace/: code there finds the installed packages.
mkdirSync(path.join(root, '.scratch'), { recursive: true });
const scratch = mkdtempSync(path.join(root, '.scratch', 'tools-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A workshop command as a person starts it, its output followed line by line. */
function command(script: string, args: string[], env: Record<string, string> = {}): Following {
  return follow(process.execPath, ['--import', 'tsx', path.join(root, 'tools', script), ...args], {
    cwd: root,
    // npm's settings would read as flags; PORT would move the ports.
    env: {
      ...Object.fromEntries(
        Object.entries(process.env).filter(
          ([name]) => !name.startsWith('npm_config_') && name !== 'PORT',
        ),
      ),
      ...env,
    },
  });
}

/** The first of `count` free ports in a row, from one the system just gave out. */
async function freeRun(count: number): Promise<number> {
  for (;;) {
    const base = await freePort();
    if (base + count > 65536) continue;
    const problems = await Promise.all(
      Array.from({ length: count }, (_, i) => portProblem(base + i)),
    );
    if (problems.every((p) => p === undefined)) return base;
  }
}

/**
 * A launcher in a process group of its own, as a terminal runs a command,
 * with PORT unset; `end()` kills whatever is left of the group.
 */
function inGroup(command: string, args: string[]): Following & { end(): void } {
  const run = follow(command, args, {
    cwd: root,
    env: { ...process.env, PORT: '' },
    detached: true,
  });
  const end = () => {
    try {
      process.kill(-run.child.pid!, 'SIGKILL');
    } catch {
      // the group has ended already
    }
  };
  return { ...run, end };
}

describe('learner tooling', { concurrency: true }, () => {
  test("start-from copies a step, remembers it, and notices the learner's changes", () => {
    const dir = path.join(scratch, 'start');
    const files = startFrom(findStep(4), dir);
    assert.deepEqual(
      files,
      ['README.md', 'app.ts', 'token-required.ts'],
      'The workspace holds every file of step 4',
    );
    assert.equal(
      workspaceStep(dir)?.number,
      4,
      'The workspace knows which step it came from (npm run dev runs that)',
    );
    assert.equal(describeWorkspace(dir), "step 4's code", 'check and dev say what it holds');
    assert.equal(
      exerciseIn(dir),
      undefined,
      "A copy of a step's code is no exercise: a bare npm run hint asks which step",
    );
    assert.deepEqual(changedFiles(dir), [], 'A fresh copy has no changes of the learner');
    appendFileSync(path.join(dir, 'app.ts'), '\n// mine\n');
    assert.deepEqual(changedFiles(dir), ['app.ts'], 'An edited file counts as a change to protect');
  });

  test("start-from asks before it overwrites the learner's changes, and only then", () => {
    const dir = path.join(scratch, 'guarded');
    startFrom(findStep(2), dir);
    assert.equal(
      overwriteConcern(dir),
      undefined,
      'A workspace as copied can be replaced without asking',
    );
    appendFileSync(path.join(dir, 'app.ts'), '\n// mine\n');
    assert.match(
      overwriteConcern(dir) ?? '',
      /changes of yours \(app\.ts\)/,
      'An edited workspace is not overwritten unasked (or without --force)',
    );
  });

  test('check --dir fails on an incomplete workspace and passes on a correct one', async () => {
    // A copy of step 3 is a correct workspace for step 3 and an incomplete one
    // for step 4 (no tokenRequired yet): one run checks both.
    const dir = path.join(scratch, 'step3');
    startFrom(findStep(3), dir);
    const [done, behind] = await checkpoints([findStep(3), findStep(4)], { 3: dir, 4: dir });
    assert.equal(
      done!.failed,
      0,
      `A copy of step 3 passes step 3: ${done!.results
        .filter((r) => !r.ok)
        .map((r) => r.message)
        .join('; ')}`,
    );
    assert.ok(done!.passed > 5);
    assert.ok(behind!.failed > 0, "Step 3's code does not pass step 4's checkpoint");
    assert.ok(
      behind!.results.some((r) => !r.ok && /403/.test(r.message ?? '')),
      "The failures say what is expected, in the test's own words",
    );
  });

  test('diff shows what a step adds, code only, as a unified diff', () => {
    const diff = diffDirs(stepDir(findStep(3)), stepDir(findStep(4)), ['a', 'b']);
    assert.match(
      diff,
      /^\+import \{ tokenRequired \} from '\.\/token-required\.ts';$/m,
      'The new import is an added line',
    );
    assert.match(
      diff,
      /^--- \/dev\/null\n\+\+\+ b\/token-required\.ts$/m,
      'A new file is diffed against /dev/null',
    );
    assert.doesNotMatch(diff, /\.test\.ts|package-lock/, 'Tests and lockfiles are left out');
    assert.equal(unifiedDiff('a\nb\n', 'a\nb\n', 'x', 'y'), '', 'No difference, no output');
    assert.equal(
      unifiedDiff('a\nb\nc\n', 'a\nB\nc\n', 'x', 'y'),
      '--- x\n+++ y\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n',
    );
  });

  test('doctor: Node version, installed packages, busy port, each with a fix', async () => {
    const range = '^20.18.0 || >=22.1.0';
    for (const version of ['v20.18.0', 'v20.20.2', 'v22.1.0', 'v24.11.0', 'v26.0.0'])
      assert.equal(checkNode(version, range).ok, true, `${version} is supported`);
    for (const version of ['v18.19.0', 'v20.12.0', 'v21.7.3', 'v22.0.0'])
      assert.equal(checkNode(version, range).ok, false, `${version} is not`);
    assert.match(
      checkNode('v18.19.0', range).fix ?? '',
      /needs Node 20\.18 or a later 20\.x, or 22\.1 or newer.*nvm install 24/,
      'The fix says which Node and how to get it',
    );
    assert.deepEqual(
      checkInstall().map((f) => f.ok),
      [true],
      'This checkout is installed as its lockfile says',
    );
    assert.equal(checkInstall(scratch)[0]!.fix, 'Run npm install.');
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, resolve));
    const port = (busy.address() as { port: number }).port;
    const finding = await checkPort(port);
    busy.close();
    assert.equal(finding.ok, false);
    assert.match(finding.fix ?? '', /--port/);
    assert.deepEqual(
      [...stepPorts(4000).keys()].sort(),
      [4000, 4001, 4002],
      'With --port 4000 (or PORT=4000) doctor checks the ports the steps then take',
    );
    assert.ok(
      stepPorts().get(3001)?.includes('9 --redis'),
      "Port 3001 is also step 9's second instance (npm run step -- 9 --redis): doctor names it",
    );
  });

  test('a failing assertion without a message says what was expected and what came', async () => {
    const run = await runTests({
      files: [path.join(root, 'test', 'fixtures', 'bare-assertions.ts')],
    });
    const messages = Object.fromEntries(run.results.map((r) => [r.name, r.message]));
    assert.equal(messages['a status'], 'expected 403, got 401');
    assert.equal(
      run.results.find((r) => r.name === 'a status')?.at,
      'test/fixtures/bare-assertions.ts:7',
      'A failure names the file and line of the assertion, also when a helper defines the test',
    );
    assert.equal(
      messages['a body'],
      'expected {"message":"Token is invalid!"}, got {"message":"Token is invalid","extra":1}',
    );
    assert.equal(messages['a pattern'], 'expected "Basic realm:\\"x\\"" to match /realm="/');
    assert.equal(messages['a condition'], 'expected a true value, got false');
    assert.equal(
      messages['a message of its own'],
      'token_type is Bearer (expected "Bearer", got "bearer")',
      "The test's words first, then what came",
    );
    assert.equal(
      messages['nothing thrown'],
      'a short JWT_SECRET must be refused (nothing was thrown)',
      'assert.throws in words, not "Missing expected exception"',
    );
  });

  test('check tells one mistake once, with the number of tests it breaks and the hint that speaks to it', () => {
    const failure = (name: string, message: string, detail?: string) => ({
      name,
      suites: ['Step 04: tokenRequired'],
      ok: false,
      skipped: false,
      message,
      detail,
    });
    const hints = parseHints(
      '### 1. A factory\nTests: got 200\n\nx\n\n### 5. Pin it\nTests: algorithm not pinned\n\ny\n',
    );
    const found = mistakes(
      [
        failure(
          '/protected with garbage answers 403',
          'garbage must be refused with 403: got 401',
          'expected 403, got 401',
        ),
        failure(
          '/protected with an expired token answers 403',
          'an expired token must be refused with 403: got 401',
          'expected 403, got 401',
        ),
        failure(
          '/protected with HS512 (algorithm not pinned) answers 403',
          'must be refused: got 200',
          'expected 403, got 200',
        ),
      ],
      hints,
    );
    assert.deepEqual(
      found.map((m) => [m.what, m.tests.length]),
      [
        ['expected 403, got 401', 2],
        ['expected 403, got 200', 1],
      ],
      'The same wrong status in two tests is one mistake',
    );
    assert.equal(
      found[1]!.hints[0]?.number,
      5,
      'Of two hints that match, the closer one ("algorithm not pinned" over "got 200") comes first',
    );
  });

  test("a mistake that breaks two parts' tests points to the earlier part's hint", () => {
    // Step 06's exercise as handed out: the Bearer header is not read yet,
    // so good tokens are refused in the claims' tests too.
    const step = findStep(6);
    const refused = (suite: string, name: string) => ({
      name,
      suites: [checkpointName(step), suite],
      ok: false,
      skipped: false,
      message: 'expected 200, got 401',
      detail: 'expected 200, got 401',
    });
    const failures = [
      refused(
        'GET /protected: the claims',
        'a token without exp is refused, one with exp opens /protected',
      ),
      refused('GET /protected: the claims', 'a token with a whole-second iat opens /protected'),
      refused('GET /protected: the Bearer header', 'a token from /login opens /protected'),
    ];
    const [found] = stepMistakes(step, failures, failures.length);
    const bearer = loadExercise(step)!.hints.find((h) => h.part === 'bearer')!;
    assert.equal(
      found?.hints[0]?.number,
      bearer.number,
      `Part "bearer" comes before "claims": its hint ${bearer.number} ("${bearer.title}") is the one to read`,
    );
  });

  test('the workspace README gives the task, not the hints nor the markers', () => {
    const dir = path.join(scratch, 'exercise');
    handOut(findStep(4), dir);
    const readme = readFileSync(path.join(dir, 'README.md'), 'utf8');
    assert.match(readme, /## Task/, 'The task is there');
    assert.doesNotMatch(
      readme,
      /## Hints|## Markers|^Tests:/m,
      'Hints come one at a time (npm run hint), markers are in the code',
    );
    assert.match(
      readFileSync(path.join(dir, 'token-required.ts'), 'utf8'),
      /\/\/ TODO 3: export function tokenRequired/,
      'The TODO markers are in the files',
    );
    assert.equal(
      exerciseIn(dir)?.number,
      4,
      'A bare npm run hint finds the step whose exercise the workspace holds',
    );
  });

  test('flags typed without -- do what was meant', () => {
    const options = {
      dir: { type: 'string' },
      force: { type: 'boolean' },
      port: { type: 'string' },
    } as const;
    const step = { max: 1, looksLike: (p: string) => /^\d+$/.test(p) };
    // npm run check 5 --dir workspace: npm keeps --dir, passes "workspace" on.
    assert.deepEqual(npmFlags(options, ['5', 'workspace'], step, { npm_config_dir: 'true' }), {
      values: { dir: 'workspace' },
      positionals: ['5'],
    });
    // npm run step 4 --port 3002: both look like numbers; one step at most.
    assert.deepEqual(npmFlags(options, ['4', '3002'], step, { npm_config_port: 'true' }), {
      values: { port: '3002' },
      positionals: ['4'],
    });
    assert.deepEqual(npmFlags(options, ['5'], step, { npm_config_force: 'true' }), {
      values: { force: true },
      positionals: ['5'],
    });
    assert.deepEqual(
      npmFlags({ cache: { type: 'string' } } as const, ['5'], step, {
        npm_config_cache: '/home/me/.npm',
      }),
      { values: {}, positionals: ['5'] },
      "npm's own settings are not flags",
    );
    assert.deepEqual(
      npmFlags({ to: { type: 'string' } } as const, ['5'], step, {
        npm_config_token_description: 'ws2',
      }),
      { values: { to: 'ws2' }, positionals: ['5'] },
      'npm expands --to ws2 to --token-description ws2: still --to',
    );
    assert.equal(
      npmFlags(options, ['5', 'a', 'b'], step, { npm_config_dir: 'true' }),
      undefined,
      'Two candidates for one flag: ask for the exact command',
    );
    assert.equal(
      npmFlags(options, ['6', 'key', 'workspace'], step, {
        npm_config_dir: 'true',
        npm_config_port: 'true',
      }),
      undefined,
      'Two flags npm took: which value is whose is lost, so ask',
    );
    assert.deepEqual(
      npmFlags(options, ['4'], step, { npm_config_dir: 'workspace' }),
      { values: { dir: 'workspace' }, positionals: ['4'] },
      '--dir=workspace reaches us as npm_config_dir=workspace',
    );
  });

  test('the manifest says what each step builds on', () => {
    assert.equal(baseOf(findStep(4))?.number, 3, 'By default a step builds on the one before it');
    assert.equal(baseOf(findStep(8))?.number, 6, 'Step 08 is step 06 with a page');
    assert.equal(baseOf(findStep(0)), undefined);
    assert.deepEqual(
      nextOf(findStep(6)).map((s) => s.number),
      [7, 8],
      'After step 06 come 07 and 08',
    );
  });

  test('the launcher starts a step, prints its Try lines, and sees a busy port', async () => {
    const ports = await freePorts(3);
    assert.equal(new Set(ports).size, 3, 'One free port for each server, no two the same');
    const port = ports[0]!;
    const launched = launchStep(findStep(1), { ports: [port], stdio: 'ignore' });
    try {
      await launched.ready();
      const res = await fetch(`${launched.urls[0]}/`);
      assert.equal(
        await res.text(),
        'Hello, World!',
        'Step 01 listens on the PORT the launcher gives it',
      );
      assert.match(
        (await portProblem(port)) ?? '',
        /in use/,
        'A port a step listens on is reported busy',
      );
      assert.match(
        banner(findStep(1), launched.urls),
        new RegExp(`curl http://localhost:${port}/`),
        'The Try lines name the port',
      );
      assert.match(
        banner(findStep(7), ['http://127.0.0.1:4000', 'http://127.0.0.1:4001']),
        /Bearer \$TOKEN" http:\/\/localhost:4001\/protected/,
        '{1} is the second server',
      );
    } finally {
      await launched.stop();
    }
  });

  test('sync catches drift in a checkout with CRLF line ends, and keeps them', () => {
    const file = path.join(root, 'slides', '04-token-required.md');
    const crlf = readFileSync(file, 'utf8').replace(/\r?\n/g, '\r\n');
    assert.equal(
      syncText(crlf, file).text,
      crlf,
      'A CRLF copy of an up-to-date deck is up to date',
    );
    const edited = crlf.replace("algorithms: ['HS256']", "algorithms: ['HS256', 'none']");
    assert.notEqual(edited, crlf, 'The deck shows the algorithm list');
    const synced = syncText(edited, file).text;
    assert.equal(
      synced,
      crlf,
      "A hand edit in a CRLF deck is drift: sync puts the step's code back",
    );
    assert.doesNotMatch(
      synced.replace(/\r\n/g, ''),
      /\n/,
      'No LF on its own: the line ends stay CRLF throughout',
    );
  });

  test('sync names every region a slide shows, and only those', () => {
    assert.deepEqual(
      unusedRegions(namedRegions(markdownFiles().map((f) => readFileSync(f, 'utf8')))),
      [],
      'No region marker without a slide',
    );
    const all = unusedRegions(new Set());
    assert.ok(
      all.some((line) =>
        /steps\/04-token-required\/token-required\.ts has a region "token-check" that no slide, README or exercise names/.test(
          line,
        ),
      ),
      'A region nothing names is reported, with its file',
    );
  });

  test('decode explains claims against a given clock, and warns', () => {
    const now = 1_800_000_000;
    const token = jwt.sign({ sub: 'alice', iat: now - 60, exp: now - 30 }, 'k', {
      algorithm: 'HS256',
    });
    const report = explain(token, { now, secret: 'k' });
    assert.equal(report.valid, true, 'The right secret verifies the signature, expiry aside');
    assert.ok(
      report.lines.some((l) => /exp.*2027-01-15T07:59:30\.000Z \(30 s ago\)/.test(l)),
      'exp shows as a date and "30 s ago"',
    );
    assert.deepEqual(report.warnings, ['Expired 30 s ago.']);
    const wrong = explain(token, { now, secret: 'not-k' });
    assert.equal(wrong.valid, false);
    assert.match(wrong.reason ?? '', /signature does not match/);
    const none = explain(unsigned({ sub: 'x' }), { now });
    assert.ok(none.warnings.some((w) => /"alg": "none"/.test(w)));
    assert.ok(none.warnings.some((w) => /No exp/.test(w)));
    assert.equal(relative(now + 12, now), 'in 12 s');
    assert.equal(relative(now - 180, now), '3 min ago');
    assert.throws(() => explain('abc'), /three parts/);
    assert.throws(() => explain('a.b.c'), /not base64url|JSON/);
  });

  test('a wrong status names the request that got it', () => {
    const message = show({
      status: 400,
      headers: new Headers(),
      text: '{"error":"invalid_request"}',
      json: { error: 'invalid_request' },
      sent: { method: 'GET', path: '/protected', headers: basic('alice', 'pyconid') },
    });
    assert.equal(
      message,
      'got 400 {"error":"invalid_request"} to GET /protected with Authorization: Basic base64("alice:pyconid")',
      'The body as it came, then the method, the path and the headers the test sent, Basic credentials readable',
    );
  });

  test('check leads each mistake with the rule its test states, then what came instead', () => {
    const step = findStep(9);
    const suites = [checkpointName(step), 'step 09', 'sessions', 'the refresh token'];
    const failed = (name: string, message: string, detail?: string) => ({
      name,
      suites,
      ok: false,
      skipped: false,
      message,
      detail,
      at: 'test/09-refresh-revocation.test.ts:173',
    });
    const replayed = failed(
      'a spent refresh token used again after the grace window revokes its whole family',
      'The spent refresh token, 10 s later, must be refused with 400 invalid_grant: got 200 {} to POST /auth/refresh',
      'expected 400, got 200',
    );
    const rotated = failed(
      'a refresh rotates',
      'Every use rotates: the answer sets a new refresh token (expected anything but "abc")',
      'expected anything but "abc"',
    );
    const bare = failed(
      'the access token lasts 5 minutes',
      'expected 300, got 40',
      'expected 300, got 40',
    );
    const unthrown = failed(
      'a short key is refused',
      'JWT_SECRET="indonesia" must be refused (nothing was thrown)',
    );
    const flood = failed('the flood', 'The flood trips the limit of 50: got 192 × 401');
    const { text } = checkReport(
      [{ step, results: [replayed, rotated, bare, unthrown, flood], passed: 0, failed: 5 }],
      { steps: [9], dir: path.join(root, 'workspace'), coach: true, quiet: false },
    );
    const lines = text.split('\n');
    const after = (headline: string) => {
      const at = lines.findIndex((line) => line.startsWith(`  x ${headline} (1 test)`));
      assert.ok(at >= 0, `A mistake headed "${headline}", the test's own sentence, in:\n${text}`);
      return lines.slice(at + 1, at + 3).map((line) => line.trim());
    };
    assert.deepEqual(
      after('The spent refresh token, 10 s later, must be refused with 400 invalid_grant'),
      [
        'expected 400, got 200 {} to POST /auth/refresh',
        `in step 09 > sessions > the refresh token > ${replayed.name} (test/09-refresh-revocation.test.ts:173)`,
      ],
      'Under the rule: what was expected, what came and to which request; then the test',
    );
    assert.equal(
      after('Every use rotates: the answer sets a new refresh token')[0],
      'expected anything but "abc"',
      'What came is said once, under the rule',
    );
    assert.deepEqual(
      after('the access token lasts 5 minutes'),
      [
        'expected 300, got 40',
        'in step 09 > sessions > the refresh token (test/09-refresh-revocation.test.ts:173)',
      ],
      'A test without a sentence of its own is told by its name, not named twice',
    );
    assert.equal(
      after('JWT_SECRET="indonesia" must be refused')[0],
      'nothing was thrown',
      'An error that never came is what came',
    );
    assert.match(
      after('The flood trips the limit of 50: got 192 × 401')[0]!,
      /^in /,
      'A count of statuses is no status: the sentence stays whole',
    );
  });

  test('check says in one line when the folder holds another step, or when workspace/ holds the one checked', () => {
    const { text } = checkReport([{ step: findStep(6), results: [], passed: 0, failed: 0 }], {
      steps: [6],
      dir: path.join(root, 'workspace'),
      coach: true,
      quiet: true,
      holds: { step: 9, words: "step 9's code" },
    });
    assert.match(
      text,
      /^workspace\/ holds step 9's code, not step 6's: npm run check -- 9 --dir workspace checks it against its own step\.$/m,
    );
    // Without --dir, with that step's exercise in workspace/: the reference
    // passes, and the learner is told how to check their own code.
    const reference = checkReport([{ step: findStep(6), results: [], passed: 0, failed: 0 }], {
      steps: [6],
      part: 'key',
      coach: false,
      quiet: true,
      workspace: { step: 6, words: 'the exercise for step 6' },
    });
    assert.match(
      reference.text,
      /^That was the reference code\. workspace\/ holds the exercise for step 6: npm run check -- 6 --dir workspace --part key checks yours\.$/m,
      'A check without --dir says which command checks the exercise in workspace/',
    );
  });

  test('a busy port in --redis mode suggests free ports in the same mode', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const start = command('step.ts', ['9', '--redis', '--port', String(port)]);
      const { code } = await start.exited;
      assert.equal(code, 1, `It stops at once: ${start.output()}`);
      assert.match(
        start.output(),
        /pick another port: npm run step -- 9 --redis --port \d+/,
        'The command it suggests keeps --redis',
      );
    } finally {
      busy.close();
    }
  });

  test('a command whose reader stops early ends quietly', async () => {
    const diff = command('diff.ts', ['9']);
    // Closed before the first line, as head closes it after its last.
    diff.child.stdout!.destroy();
    const { code } = await diff.exited;
    assert.equal(code, 0, `npm run -s diff 9 | head ends without an error: ${diff.output()}`);
    assert.doesNotMatch(diff.output(), /EPIPE|at /, 'and without a stack trace');
  });

  test(
    'the launcher ends within seconds of SIGTERM while step 10 is still starting',
    { timeout: 60_000 },
    async () => {
      const base = await freeRun(3);
      const start = command('step.ts', ['--port', String(base)], {
        KEYS_FILE: path.join(scratch, 'step10-keys.json'),
      });
      let seconds: number;
      let code: number | null;
      try {
        // Printed once its three servers are spawned, before they answer.
        await start.next(/Starting the latest step, 10/);
        assert.doesNotMatch(start.output(), /listening/, 'Step 10 is still starting');
        const sent = performance.now();
        start.child.kill('SIGTERM');
        ({ code } = await start.exited);
        seconds = (performance.now() - sent) / 1000;
      } finally {
        start.child.kill('SIGKILL');
      }
      // A few seconds at most (3 s for the servers to stop, then they are
      // killed); the bound leaves room for a machine running the whole suite.
      assert.ok(seconds < 10, `It ended ${seconds.toFixed(1)} s after SIGTERM`);
      assert.equal(
        code,
        143,
        `With the status a shell gives a program that SIGTERM ended; it printed:\n${start.output()}`,
      );
      assert.deepEqual(
        await Promise.all([0, 1, 2].map((i) => portProblem(base + i))),
        [undefined, undefined, undefined],
        'No server of step 10 is left behind on its ports',
      );
    },
  );

  test(
    'the launcher ends when the shell npm start runs it under is killed',
    // npm runs "node need-node && node step" in sh (cmd.exe on Windows): a
    // kill of npm reaches the shell, which ends without passing it on.
    { timeout: 60_000, skip: process.platform === 'win32' ? 'a POSIX shell' : false },
    async () => {
      const port = await freePort();
      const script = path.join(root, 'tools', 'step.ts');
      const shell = inGroup('sh', [
        '-c',
        `"${process.execPath}" --import tsx "${script}" 1 --port ${port}; echo ended`,
      ]);
      try {
        await shell.next(/listening/);
        shell.child.kill('SIGTERM');
        // The shell ends at once; its output closes only when the launcher,
        // which writes to it too, has ended: within a second of seeing its
        // parent gone, its servers stopped first.
        const ended = await Promise.race([
          shell.exited.then(() => true),
          delay(10_000, false, { ref: false }),
        ]);
        assert.ok(ended, 'The launcher still runs 10 s after the shell that ran it was killed');
        assert.equal(
          await portProblem(port),
          undefined,
          `Step 01 still holds port ${port} after the shell that ran it was killed`,
        );
      } finally {
        shell.end();
      }
    },
  );

  test(
    'Ctrl-C in a terminal ends the launcher and its servers, without tsx\'s "Force killing"',
    // A terminal's Ctrl-C sends SIGINT to every process of the command at once.
    { timeout: 60_000, skip: process.platform === 'win32' ? 'POSIX process groups' : false },
    async () => {
      const port = await freePort();
      const script = path.join(root, 'tools', 'step.ts');
      const start = inGroup(process.execPath, [
        '--import',
        'tsx',
        script,
        '1',
        '--port',
        `${port}`,
      ]);
      try {
        await start.next(/Ctrl-C stops it/);
        process.kill(-start.child.pid!, 'SIGINT');
        const { code } = await start.exited;
        assert.equal(
          code,
          0,
          `Ctrl-C is how a person ends a run: no error status\n${start.output()}`,
        );
        assert.doesNotMatch(
          start.output(),
          /Force killing/,
          'The servers end on the Ctrl-C they got: no second signal makes tsx watch kill them',
        );
        assert.equal(await portProblem(port), undefined, `Step 01 still holds port ${port}`);
      } finally {
        start.end();
      }
    },
  );

  test(
    'npm run dev follows a workspace that start-from replaced, and names the step it runs',
    { timeout: 60_000 },
    async () => {
      const dir = path.join(scratch, 'dev');
      startFrom(findStep(1), dir);
      const port = await freePort();
      const dev = command('dev.ts', ['--dir', dir, '--port', String(port)]);
      try {
        await dev.next(/\(step 1, .*\) listening/);
        // How soon: npm run bench:loop measures it (a figure, not a test).
        startFrom(findStep(2), dir);
        await dev.next(/\(step 2, .*\) listening/);
        const res = await fetch(`http://127.0.0.1:${port}/login`);
        assert.equal(
          res.status,
          401,
          "It is step 2's server that answers: /login wants a password",
        );
      } finally {
        dev.child.kill('SIGTERM');
        await dev.exited;
      }
    },
  );

  test(
    '--redis runs a Redis that keeps its data across a restart, in a folder git ignores',
    { skip: findRedisServer() ? false : noRedis },
    async () => {
      assert.ok(ignoredByGit(redisDataDir(findStep(9))), 'No Redis data lands in a commit');
      const dir = path.join(scratch, 'redis');
      const set = async (url: string, value?: string) => {
        // Redis syncs its file before each answer: on a machine busy with
        // every test at once, its first answer can take seconds.
        const client = await redisClient(url, 30_000);
        try {
          if (value !== undefined) await client.set('revoked:jti', value);
          return await client.get('revoked:jti');
        } finally {
          await client.close();
        }
      };
      const first = await startRedis(undefined, { dir });
      await set(first.url, 'logged out');
      await first.stop();
      const again = await startRedis(undefined, { dir });
      try {
        assert.equal(
          await set(again.url),
          'logged out',
          'A revocation written before the restart is still there after it',
        );
      } finally {
        await again.stop();
      }
    },
  );

  test('after a part passes, Next is the following part; after the last, the whole step', () => {
    const step = findStep(6);
    const next = (part: string) =>
      checkReport([{ step, results: [], passed: 0, failed: 0 }], {
        steps: [6],
        dir: path.join(root, 'workspace'),
        part,
        coach: true,
        quiet: false,
      }).text;
    assert.match(next('key'), /Next: npm run check -- 6 --dir workspace --part passwords/);
    const last = step.parts!.at(-1)!.id;
    assert.match(
      next(last),
      /Next: npm run check -- 6 --dir workspace\n/,
      `After the last part ("${last}"), the whole step: no loop back to the first part`,
    );
  });

  test('npm test keeps a file only while nothing it can read has changed', () => {
    // A repository of a few files, outside git: every file is an input.
    const dir = mkdtempSync(path.join(tmpdir(), 'jwt-workshop-inputs-'));
    try {
      const files = {
        'package.json': '{}',
        'tools/launch.ts': 'export const port = process.env.WORKSHOP_PORT;',
        'steps/03-token-issue/app.ts': 'export {};',
        'steps/09-refresh-revocation/app.ts': 'export {};',
        'slides/09-refresh-revocation.md': '# Step 09',
        'test/09-refresh-revocation.test.ts': 'export {};',
        'test/tools.test.ts': 'export {};',
      };
      for (const [file, text] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        writeFileSync(path.join(dir, file), text);
      }
      const step = 'test/09-refresh-revocation.test.ts';
      const tools = 'test/tools.test.ts';
      let env: NodeJS.ProcessEnv = { WORKSHOP_PORT: '3000', UNNAMED_SETTING: 'a' };
      let last = testFileKeys([step, tools], { dir, env });
      /** After `change`, which files' keys changed. */
      const rerun = (change: () => void): string[] => {
        change();
        const now = testFileKeys([step, tools], { dir, env });
        const changed = [step, tools].filter((file) => now.get(file) !== last.get(file));
        last = now;
        return changed;
      };
      const edit = (file: string) => () => appendFileSync(path.join(dir, file), '\n// edited');
      assert.deepEqual(
        rerun(() => {}),
        [],
        'Nothing changed: every file is kept',
      );
      assert.deepEqual(
        rerun(edit('steps/03-token-issue/app.ts')),
        [tools],
        "Another step's code: step 09's checkpoint is kept, the tests that read every step run",
      );
      assert.deepEqual(
        rerun(edit('slides/09-refresh-revocation.md')),
        [tools],
        "A deck: no step's checkpoint reads one",
      );
      assert.deepEqual(
        rerun(edit('steps/09-refresh-revocation/app.ts')),
        [step, tools],
        "The step's own code: its checkpoint runs again",
      );
      assert.deepEqual(
        rerun(edit('tools/launch.ts')),
        [step, tools],
        'A tool every test may use: everything runs again',
      );
      assert.deepEqual(
        rerun(() => (env = { ...env, WORKSHOP_PORT: '4000' })),
        [step, tools],
        'An environment variable the code names: everything runs again',
      );
      assert.deepEqual(
        rerun(() => (env = { ...env, UNNAMED_SETTING: 'b' })),
        [],
        'One the code never names changes nothing',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
