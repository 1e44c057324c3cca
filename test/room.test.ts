// The room (npm run room, join, leave): what its API refuses, what a check
// sends it and what it never sends, a check with the room down, and the
// presenter's page in a real browser with three attendees.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { spawn } from 'node:child_process';
import jwt from 'jsonwebtoken';
import { run } from '../tools/child.ts';
import { findChromium } from '../tools/chromium.ts';
import { freePort } from '../tools/ports.ts';
import { reportToRoom, roomReport, type Joined } from '../tools/room/client.ts';
import { joinedFile, readJson, roomFile, writeJson } from '../tools/room/files.ts';
import type { Failing } from '../tools/room/report.ts';
import { listenRoom, type Limits, type RunningRoom } from '../tools/room/server.ts';
import { Room } from '../tools/room/store.ts';
import { endOfDay } from '../tools/room/tokens.ts';
import { findStep, root } from '../tools/steps.ts';
import { checkArgs } from '../tools/check.ts';
import { startFrom } from '../tools/workspace.ts';
import { browserSkip, launchChromium, waitForText, type Browser } from './helpers/browser.ts';
import { request, show, type Answer } from './helpers/http.ts';
import { decode, hmacToken, unsigned, withPayload } from './helpers/tokens.ts';

// Inside the workshop, like workspace/: a checked folder must find the installed packages.
mkdirSync(path.join(root, '.scratch'), { recursive: true });
const scratch = mkdtempSync(path.join(root, '.scratch', 'room-'));
const opened: RunningRoom[] = [];
// The rooms first: closing one writes its file a last time.
after(async () => {
  await Promise.all(opened.map((r) => r.close()));
  rmSync(scratch, { recursive: true, force: true, maxRetries: 3 });
});

/** A room of its own on a free loopback port, kept in `dir` when given. */
async function openRoom(options: { dir?: string; limits?: Partial<Limits> } = {}) {
  const room = Room.open(options.dir ? roomFile(options.dir) : undefined);
  const running = await listenRoom({ room, port: 0, host: '127.0.0.1', limits: options.limits });
  opened.push(running);
  const url = `http://127.0.0.1:${running.port}`;
  const post = (route: string, body: unknown, token?: string, raw?: string): Promise<Answer> =>
    request(url + route, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: raw ?? JSON.stringify(body),
    });
  const join = async (name: string) => {
    const answer = await post('/api/join', { code: room.code, name });
    assert.equal(answer.status, 201, `A join with the room's code is welcome: ${show(answer)}`);
    return (answer.json as { token: string }).token;
  };
  const attendees = (key = room.secret) =>
    request(`${url}/api/attendees`, { headers: { Authorization: `Bearer ${key}` } });
  return { room, running, url, post, join, attendees };
}

const report = (step: number, passed: number, failed: number, failing: Failing[] = []) => ({
  step,
  part: null,
  passed,
  failed,
  failing,
});

interface Listed {
  attendees: {
    name: string;
    results: { step: number; passed: number; failed: number; failing: unknown[] }[];
  }[];
}

describe('room', { concurrency: true }, () => {
  test('a join with the right code gets a token of this room, good until the end of the day', async () => {
    const { room, post } = await openRoom();
    const answer = await post('/api/join', { code: room.code.toLowerCase(), name: 'Ada' });
    assert.equal(answer.status, 201, `The code works in any case: ${show(answer)}`);
    const { header, payload } = decode((answer.json as { token: string }).token);
    assert.equal(header.alg, 'HS256', "The token is signed with the room's HMAC key");
    assert.equal(payload.aud, room.audience, 'The token is for this room and no other');
    assert.equal(typeof payload.sub, 'string', 'The token names the attendee');
    assert.equal(
      payload.exp,
      Math.floor(endOfDay(new Date()).getTime() / 1000),
      'The token expires at the end of the day',
    );
  });

  test('wrong codes: 401 at first, 429 by the 10th in a row; right codes never count', async () => {
    const { room, post } = await openRoom();
    const wrong = () => post('/api/join', { code: 'WRONG9', name: 'Mallory' });
    for (let i = 1; i <= 5; i++) assert.equal((await wrong()).status, 401, `wrong code ${i}`);
    // A right code between them: the count starts again.
    const right = await post('/api/join', { code: room.code, name: 'Ada' });
    assert.equal(right.status, 201, show(right));
    const statuses: number[] = [];
    for (let i = 1; i <= 10; i++) statuses.push((await wrong()).status);
    assert.deepEqual(
      statuses.slice(0, 9),
      Array(9).fill(401),
      'Nine wrong codes in a row are each answered 401',
    );
    const tenth = await wrong();
    assert.equal(statuses[9], 429, 'The 10th wrong code in a row is refused with 429');
    assert.equal(tenth.status, 429);
    assert.ok(Number(tenth.headers.get('Retry-After')) > 0, '429 says when to try again');
    const blocked = await post('/api/join', { code: room.code, name: 'Mallory' });
    assert.equal(
      blocked.status,
      429,
      'While refused, even the right code is refused: guessing gains nothing',
    );
  });

  // npm run bench:room has them post 5 each, and times it; here, what is served is the point.
  test('200 joins and their posts from one address are all served (a room behind one NAT)', async () => {
    const { room, post, join, attendees } = await openRoom();
    const tokens = await Promise.all(Array.from({ length: 200 }, (_, i) => join(`Attendee ${i}`)));
    const statuses = new Map<number, number>();
    await Promise.all(
      tokens.map(async (token, i) => {
        for (let n = 0; n < 2; n++) {
          const answer = await post('/api/results', report(i % 11, 3 + n, 2 - n), token);
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        }
      }),
    );
    assert.deepEqual(
      [...statuses],
      [[204, 400]],
      'Every post of every attendee is taken, however many share an address',
    );
    const listed = (await attendees()).json as Listed;
    assert.equal(listed.attendees.length, 200, 'The presenter sees all 200');
    assert.ok(
      listed.attendees.every((a) => a.results.length === 1 && a.results[0]!.passed === 4),
      "Each attendee's latest post for a step is the one kept",
    );
    assert.equal(room.attendees().length, 200);
  });

  test('a flood from one token is slowed, and only that token', async () => {
    const { post, join } = await openRoom({ limits: { posts: 5, postsWithin: 60 } });
    const [flooder, other] = [await join('Flood'), await join('Quiet')];
    for (let i = 0; i < 5; i++)
      assert.equal((await post('/api/results', report(1, 1, 0), flooder)).status, 204);
    const refused = await post('/api/results', report(1, 1, 0), flooder);
    assert.equal(refused.status, 429, `The 6th post within the limit is refused: ${show(refused)}`);
    const answer = await post('/api/results', report(1, 1, 0), other);
    assert.equal(answer.status, 204, 'Another attendee at the same address still posts');
  });

  test('results: 401 for a missing, forged, altered, expired or unsigned token; 413 past 64 KB', async () => {
    const { room, post, join } = await openRoom();
    const token = await join('Ada');
    const claims = decode(token).payload;
    const past = Math.floor(Date.now() / 1000) - 60;
    const bad: [string, string | undefined][] = [
      ['no token', undefined],
      [
        'a token signed with another key',
        hmacToken({ alg: 'HS256', typ: 'JWT' }, claims, randomBytes(32)),
      ],
      ['an altered payload', withPayload(token, { ...claims, sub: 'someone-else' })],
      ['alg none', unsigned(claims)],
      ['alg None', unsigned(claims, 'None')],
      [
        'an expired token',
        jwt.sign({ ...claims, iat: past - 60, exp: past }, room.key, { algorithm: 'HS256' }),
      ],
      [
        'a token for another audience',
        jwt.sign({ ...claims, aud: 'another room' }, room.key, { algorithm: 'HS256' }),
      ],
      ['a token whose parts are not JSON', 'bm90IGpzb24.bm90IGpzb24.c2ln'],
      ['not a token', 'hello'],
    ];
    for (const [what, forged] of bad) {
      const answer = await post('/api/results', report(1, 1, 0), forged);
      assert.equal(answer.status, 401, `${what}: 401, ${show(answer)}`);
    }
    const big = JSON.stringify({
      ...report(1, 1, 0),
      failing: [{ name: 'x'.repeat(70_000), hint: null }],
    });
    const tooLarge = await post('/api/results', undefined, token, big);
    assert.equal(tooLarge.status, 413, `A body over 64 KB: 413, ${show(tooLarge)}`);
    const notJson = await post('/api/results', undefined, token, '{"step":');
    assert.equal(notJson.status, 400, `A body that is not JSON: 400, ${show(notJson)}`);
    const extra = await post('/api/results', { ...report(1, 1, 0), code: 'const x = 1' }, token);
    assert.equal(extra.status, 400, `A field the room does not know is refused: ${show(extra)}`);
    const noStep = await post('/api/results', report(1.5, 1, 0), token);
    assert.equal(noStep.status, 400, `A step that is no step number: 400, ${show(noStep)}`);
    const good = await post('/api/results', report(1, 6, 0), token);
    assert.equal(good.status, 204, `The attendee's own token: taken, ${show(good)}`);
  });

  test('the presenter API: every attendee with the name as typed and the latest result per step', async () => {
    const { room, post, join, attendees } = await openRoom();
    const names = [`<img src=x onerror=alert(1)>`, `"Quotes" & 'apostrophes' <b>`, 'N'.repeat(40)];
    const tokens = await Promise.all(names.map(join));
    await post(
      '/api/results',
      report(2, 3, 6, [{ name: 'GET /login > answers 401', hint: 3 }]),
      tokens[0],
    );
    await post('/api/results', [report(2, 9, 0), report(3, 1, 2)], tokens[1]);
    const answer = await attendees();
    assert.equal(answer.status, 200, show(answer));
    const listed = (answer.json as Listed).attendees;
    assert.deepEqual(
      listed.map((a) => a.name).sort(),
      [...names].sort(),
      'Each name exactly as typed',
    );
    const first = listed.find((a) => a.name === names[0])!;
    assert.deepEqual(
      first.results.map(({ step, passed, failed, failing }) => ({ step, passed, failed, failing })),
      [{ step: 2, passed: 3, failed: 6, failing: [{ name: 'GET /login > answers 401', hint: 3 }] }],
      'Results sit inside the attendee, with the step and numeric counts',
    );
    assert.equal(listed.find((a) => a.name === names[1])!.results.length, 2, 'One result per step');
    const keyed = await attendees(`key=${room.secret}`);
    assert.equal(keyed.status, 200, 'The fragment of the printed address, key=..., works as it is');
    const none = await request(`${answer.url}`);
    assert.equal(none.status, 401, `Without the presenter's key: 401, ${show(none)}`);
    const wrongKey = await attendees('not-the-key-at-all');
    assert.equal(wrongKey.status, 401, `With a wrong key: 401, ${show(wrongKey)}`);
    const attendeeToken = await attendees(tokens[0]);
    assert.equal(
      attendeeToken.status,
      403,
      `With an attendee's token: 403, ${show(attendeeToken)}`,
    );
  });

  test('the room remembers: started again from its file, it has the same code, key and attendees', async () => {
    const dir = path.join(scratch, 'remembered');
    const first = await openRoom({ dir });
    const token = await first.join('Ada');
    await first.post('/api/results', report(4, 5, 2), token);
    await first.running.close();
    const again = await openRoom({ dir });
    assert.equal(again.room.code, first.room.code, 'The same code: nobody joins again');
    const answer = await again.post('/api/results', report(4, 7, 0), token);
    assert.equal(answer.status, 204, `A token of before is still good: ${show(answer)}`);
    const listed = ((await again.attendees()).json as Listed).attendees;
    assert.deepEqual(
      listed.map((a) => [a.name, a.results[0]?.passed]),
      [['Ada', 7]],
      'The attendee and the new result are there',
    );
    writeFileSync(roomFile(dir), '{"version":1,"attendees":"lost"');
    assert.throws(
      () => Room.open(roomFile(dir)),
      'A room file that cannot be read stops the room, rather than start empty unasked',
    );
  });

  describe('npm run check of a joined copy', () => {
    // Step 01's code checked against step 02: some tests fail, with hints.
    const workspace = path.join(scratch, 'workspace');
    const marker = `room-marker-${randomBytes(6).toString('hex')}`;
    const sent: { method?: string; url?: string; headers: IncomingHttpHeaders; body: string }[] =
      [];
    let live: Awaited<ReturnType<typeof openRoom>>;
    let proxy: Server;
    const liveDir = path.join(scratch, 'joined-live');
    const downDir = path.join(scratch, 'joined-down');
    let runs: { code: number; stdout: string }[];

    before(async () => {
      startFrom(findStep(1), workspace);
      appendFileSync(
        path.join(workspace, 'app.ts'),
        `\n// ${marker}\nexport const mine = '${marker}';\n`,
      );
      live = await openRoom();
      // Between the check and the room: what goes over the wire, byte for byte.
      proxy = createServer(async (req, res) => {
        let body = '';
        for await (const chunk of req) body += chunk;
        sent.push({ method: req.method, url: req.url, headers: req.headers, body });
        const answer = await fetch(live.url + req.url, {
          method: req.method,
          headers: {
            'Content-Type': 'application/json',
            Authorization: req.headers.authorization ?? '',
          },
          body,
        });
        res.writeHead(answer.status).end(await answer.text());
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      const token = await live.join('Ada');
      const joined = (url: string): Joined => ({
        url,
        token,
        name: 'Ada',
        expires: endOfDay(new Date()).toISOString(),
      });
      writeJson(
        joinedFile(liveDir),
        joined(`http://127.0.0.1:${(proxy.address() as { port: number }).port}/`),
      );
      writeJson(joinedFile(downDir), joined(`http://127.0.0.1:${await freePort()}/`));
      const check = (dir: string) => {
        // Time to spare: this room answers from the test's own process, busy with every other test.
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          ROOM_DIR: dir,
          NO_COLOR: '1',
          ROOM_DEADLINE_MS: '10000',
        };
        delete env.NODE_TEST_CONTEXT;
        return run(process.execPath, checkArgs(['2', '--dir', workspace]), { cwd: root, env });
      };
      runs = await Promise.all([check(liveDir), check(downDir)]);
    });
    after(() => proxy?.close());

    test('reports its step, counts and failing tests to the room', async () => {
      assert.equal(runs[0]!.code, 1, `Step 01's code does not pass step 02: ${runs[0]!.stdout}`);
      const listed = ((await live.attendees()).json as Listed).attendees;
      const result = listed[0]?.results[0];
      assert.ok(result, `The room has Ada's result: ${JSON.stringify(listed)}`);
      assert.equal(result.step, 2, 'For step 2');
      assert.ok(
        result.failed > 0 && result.failed + result.passed >= 5,
        'With the counts of the check',
      );
      assert.ok(result.failing.length > 0, 'And the failing groups, for the page to show');
    });

    test('sends plain JSON of step, part, counts, test names and hint numbers, nothing of the code', () => {
      assert.equal(sent.length, 1, 'One post per check');
      const [{ method, url, headers, body }] = sent as [(typeof sent)[0]];
      assert.equal(`${method} ${url}`, 'POST /api/results');
      assert.equal(headers['content-type'], 'application/json');
      assert.deepEqual(
        Object.keys(headers).sort(),
        ['authorization', 'connection', 'content-length', 'content-type', 'host'],
        'No header says anything of the machine',
      );
      const value = JSON.parse(body) as { failing: Record<string, unknown>[] };
      assert.deepEqual(Object.keys(value), ['step', 'part', 'passed', 'failed', 'failing']);
      for (const group of value.failing) assert.deepEqual(Object.keys(group), ['name', 'hint']);
      assert.ok(
        value.failing.some((g) => typeof g.hint === 'number'),
        'Hints go by number',
      );
      for (const secret of [marker, workspace, root, hostname(), 'app.ts'])
        assert.ok(
          !body.includes(secret),
          `The report must not hold ${JSON.stringify(secret)}: ${body}`,
        );
    });

    test('with the room down, the check says and exits the same', () => {
      assert.equal(runs[1]!.code, runs[0]!.code, 'The same exit status');
      assert.equal(runs[1]!.stdout, runs[0]!.stdout, 'The same report, word for word');
    });
  });

  // A bound, not a measure: the report gives up within a quarter of a second; a
  // report that waited for the room would hang here until the timeout. The
  // timeout is generous: in a full run this file shares its process with
  // others, whose work can hold up these few steps by seconds (8 s measured,
  // and more than 10 s once on Node 24).
  test(
    'a room that never answers: the report gives up by itself, and never throws',
    { timeout: 60_000 },
    async () => {
      const sockets: Socket[] = [];
      // It reads (and drops) what comes, and so sees the other end hang up; it never answers.
      const silent = createTcpServer((socket) => sockets.push(socket.resume()));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const file = joinedFile(path.join(scratch, 'joined-silent'));
        writeJson(file, {
          url: `http://127.0.0.1:${(silent.address() as { port: number }).port}/`,
          token: 'x',
          name: 'Ada',
          expires: endOfDay(new Date()).toISOString(),
        });
        // It resolves rather than wait for an answer that never comes...
        await reportToRoom([roomReport(1, undefined, 6, 0, [])], file, 250);
        // ...and hangs up: no connection is left to keep a check's process alive.
        await Promise.all(
          sockets.map((socket) =>
            socket.closed ? undefined : new Promise((resolve) => socket.once('close', resolve)),
          ),
        );
        assert.equal(
          await reportToRoom([report(1, 1, 0)], path.join(scratch, 'none.json')),
          undefined,
          'Not joined: nothing is sent',
        );
      } finally {
        for (const socket of sockets) socket.destroy();
        silent.close();
      }
    },
  );

  test(
    'npm run room prints the join command and the page, join and leave work, SIGTERM stops it',
    { timeout: 60_000 },
    async () => {
      const dir = path.join(scratch, 'cli');
      const port = await freePort();
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        ROOM_DIR: dir,
        NO_COLOR: '1',
        PORT: String(port),
      };
      delete env.NODE_TEST_CONTEXT;
      const roomProcess = spawn(process.execPath, ['--import', 'tsx', 'tools/room.ts'], {
        cwd: root,
        env,
      });
      let printed = '';
      roomProcess.stdout.on('data', (chunk: Buffer) => (printed += chunk));
      roomProcess.stderr.on('data', (chunk: Buffer) => (printed += chunk));
      const exited = new Promise<number | null>((resolve) => roomProcess.on('exit', resolve));
      try {
        await new Promise<void>((resolve, reject) => {
          roomProcess.stdout.on('data', () => /^Your page.*\n/m.test(printed) && resolve());
          roomProcess.once('exit', () => reject(new Error(`npm run room stopped: ${printed}`)));
        });
        const [, url, code] = /npm run join -- (http:\/\/\S+) (\S+)/.exec(printed) ?? [];
        assert.ok(
          url && code && code.length >= 6,
          `The join command, with a code of 6 or more: ${printed}`,
        );
        assert.equal(new URL(url).port, String(port), "The join address has the room's port");
        const key = /http:\/\/localhost:\d+\/#key=([\w-]{8,})/.exec(printed)?.[1];
        assert.ok(key, `The presenter's page, with the key in its fragment: ${printed}`);
        const tool = (name: string, ...args: string[]) =>
          run(process.execPath, ['--import', 'tsx', `tools/${name}.ts`, ...args], {
            cwd: root,
            env,
          });
        const local = `http://127.0.0.1:${port}`;
        const [wrong, right] = await Promise.all([
          tool('join', local, 'NOPE42', '--name', 'Ada'),
          tool('join', local, code, '--name', 'Ada <3'),
        ]);
        assert.notEqual(wrong.code, 0, 'A wrong code exits non-zero');
        assert.equal(
          wrong.output.trim().split('\n').length,
          1,
          `with exactly one line: ${wrong.output}`,
        );
        assert.equal(right.code, 0, right.output);
        assert.equal(
          readJson<Joined>(joinedFile(dir))?.name,
          'Ada <3',
          'The token is kept in .room/',
        );
        const listed = await request(`${local}/api/attendees`, {
          headers: { Authorization: `Bearer ${key}` },
        });
        assert.deepEqual(
          (listed.json as Listed).attendees.map((a) => a.name),
          ['Ada <3'],
          show(listed),
        );
        const left = await tool('leave');
        assert.equal(left.code, 0, left.output);
        assert.equal(readJson(joinedFile(dir)), undefined, 'npm run leave forgets the room');
      } finally {
        roomProcess.kill('SIGTERM');
      }
      assert.equal(await exited, 0, 'SIGTERM stops the room cleanly');
    },
  );

  const chromium = findChromium();
  describe("the presenter's page in a real browser", { skip: browserSkip(chromium) }, () => {
    let browser: Browser;
    before(async () => {
      assert.ok(chromium, 'Under CI=true the browser test must run: install Chromium');
      browser = await launchChromium(chromium!);
    });
    after(() => browser?.close());

    test('three attendees by step, names as text, updated live without a reload', async () => {
      const { room, url, post, join } = await openRoom();
      const names = ['Ada Lovelace', '<img src=x onerror=alert(1)>', 'Grace "Amazing" Hopper'];
      const [ada, img, grace] = await Promise.all(names.map(join));
      const shared = { name: 'POST /login > answers a token signed with HS256', hint: 2 };
      await post('/api/results', [report(2, 9, 0), report(3, 4, 3, [shared])], ada);
      await post('/api/results', report(3, 0, 7, [shared]), img);
      await post('/api/results', report(3, 7, 0), grace);
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      page.setDefaultTimeout(10_000);
      try {
        await page.goto(`${url}/#key=${room.secret}`);
        await waitForText(page, 'pace', /1 of 3 done with step 3/);
        const rows = await page.evaluate<string[]>(
          `[...document.querySelectorAll('#attendees td.name')].map((td) => td.textContent)`,
        );
        assert.deepEqual(rows, names, 'Every attendee, the name whole and as text');
        assert.equal(
          await page.evaluate<number>(`document.querySelectorAll('#attendees img').length`),
          0,
          'A name that is HTML is shown, not run',
        );
        const colours = await page.evaluate<string[]>(
          `[...document.querySelectorAll('#attendees tr')].map((tr) => tr.children[4].className)`,
        );
        assert.deepEqual(
          colours.map((c) => /done|some|none/.exec(c)?.[0]),
          ['some', 'none', 'done'],
          'Step 3: amber for some tests passing, red for none, green for all',
        );
        const hint = await page.locator('#shared').textContent();
        assert.match(
          hint ?? '',
          /2 of 3.*answers a token signed with HS256/s,
          'The failing test most share',
        );
        assert.match(hint ?? '', /npm run hint 3 2/, 'with its hint');
        // Without a reload: the page hears of the new result.
        await post('/api/results', report(3, 7, 0), img);
        await waitForText(page, 'pace', /2 of 3 done with step 3/);
        const wrongKey = await browser.newPage({ viewport: { width: 800, height: 600 } });
        await wrongKey.goto(`${url}/#key=not-the-key`);
        await waitForText(wrongKey, 'status', /not the room's/);
        await wrongKey.close();
      } finally {
        await page.close();
      }
    });
  });
});
