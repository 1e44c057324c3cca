// The attendee's side of the room: join it, leave it, and, once joined, send
// each check's result. Light on purpose (node:http and a file): npm run check
// loads it every time. The report is plain JSON, sent in a quarter of a
// second or not at all, and it never changes what the check says.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { dim } from '../cli.ts';
import { testName } from '../run-tests.ts';
import { joinedFile, readJson, removeFile, writeJson } from './files.ts';
import type { Failing, Report } from './report.ts';

export interface Joined {
  /** The room's address, as given to npm run join. */
  url: string;
  token: string;
  name: string;
  /** When the token expires: the end of the day it was issued. */
  expires: string;
}

/** How long a check waits for the room, at most: a room that is down or silent costs no more. */
export const REPORT_DEADLINE_MS = 250;

/** The room's address as a base for its API: http or https, without query or fragment. */
export function roomBase(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(
      `${JSON.stringify(text)} is not an address: give the room's, like http://192.168.1.20:3100`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`The room's address starts with http:// (not ${url.protocol}).`);
  url.hash = '';
  url.search = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One POST of JSON, given up after `ms`: rejects on any failure to get an answer. */
async function post(
  url: URL,
  body: unknown,
  token: string | undefined,
  ms: number,
): Promise<Answer> {
  const request = url.protocol === 'https:' ? (await import('node:https')).request : httpRequest;
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      // No keep-alive: the check's process ends as soon as the answer is in.
      agent: false,
      headers: {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(data),
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${ms} ms`)), ms);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
      });
      res.on('error', reject);
    });
    req.end(data);
  });
}

const errorOf = (answer: Answer) => {
  try {
    return (JSON.parse(answer.body) as { error?: string }).error ?? `HTTP ${answer.status}`;
  } catch {
    return `HTTP ${answer.status}`;
  }
};

export function readJoined(file = joinedFile()): Joined | undefined {
  try {
    const joined = readJson<Joined>(file);
    return typeof joined?.url === 'string' && typeof joined.token === 'string' ? joined : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Join the room at `url` with its code; the token is kept in `file`. Joining
 * again sends the token of before, so the room renames rather than adds.
 * Throws an error of one line a learner can act on.
 */
export async function join(
  url: string,
  code: string,
  name: string,
  file = joinedFile(),
): Promise<Joined> {
  const base = roomBase(url);
  const before = readJoined(file);
  let answer: Answer;
  try {
    answer = await post(
      new URL('api/join', base),
      { code, name, ...(before ? { token: before.token } : {}) },
      undefined,
      5000,
    );
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new Error(
      `No room answered at ${base.origin} (${why}): check the address on the screen and that you are on the room's network.`,
    );
  }
  if (answer.status === 401 || answer.status === 403)
    throw new Error(
      `Wrong room code ${JSON.stringify(code)}: use the code on the presenter's screen.`,
    );
  if (answer.status === 429)
    throw new Error(
      `Too many wrong codes from this network: wait ${answer.headers['retry-after'] ?? 60} s, then try again.`,
    );
  if (answer.status !== 200 && answer.status !== 201)
    throw new Error(`The room refused: ${errorOf(answer)}`);
  const { token, expires } = JSON.parse(answer.body) as { token: string; expires: string };
  const joined: Joined = { url: base.href, token, name, expires };
  writeJson(file, joined);
  return joined;
}

/** Forget the room (and tell it, if it answers within a second). */
export async function leave(file = joinedFile()): Promise<Joined | undefined> {
  const joined = readJoined(file);
  if (joined)
    await post(new URL('api/leave', joined.url), {}, joined.token, 1000).catch(() => undefined);
  removeFile(file);
  return joined;
}

/** A check's grouped failures, as check.ts makes them; only what the room is sent is read. */
interface Mistake {
  tests: { name: string; suites: string[] }[];
  hints: { number: number }[];
}

/**
 * What one step's check tells the room: its counts, and each group of
 * failures as the name of its first test and the number of its hint. The
 * group's message is left out: it may quote the learner's code or output.
 */
export function roomReport(
  step: number,
  part: string | undefined,
  passed: number,
  failed: number,
  mistakes: Mistake[],
): Report {
  const failing: Failing[] = mistakes.map((m) => ({
    name: testName(m.tests[0]!),
    hint: m.hints[0]?.number ?? null,
  }));
  return { step, part: part ?? null, passed, failed, failing };
}

/**
 * Send a check's reports to the room this copy joined, if any. Resolves
 * within REPORT_DEADLINE_MS whatever the room does, and never rejects.
 * `undefined`: a check of the reference steps, which is nobody's progress.
 */
export async function reportToRoom(
  reports: Report[] | undefined,
  file = joinedFile(),
  // ROOM_DEADLINE_MS: for the tests, whose room shares a busy process with every other test.
  deadline = Number(process.env.ROOM_DEADLINE_MS) || REPORT_DEADLINE_MS,
): Promise<void> {
  const joined = readJoined(file);
  if (!joined || reports?.length === 0) return;
  if (reports === undefined) {
    // Said once everything else is printed.
    process.once('beforeExit', () =>
      console.error(
        dim('(The room gets checks of your own code only: npm run check -- <n> --dir workspace.)'),
      ),
    );
    return;
  }
  try {
    const answer = await post(
      new URL('api/results', joined.url),
      reports.length === 1 ? reports[0] : reports,
      joined.token,
      deadline,
    );
    if (answer.status === 401)
      console.error(
        dim(`(The room at ${joined.url} no longer takes this copy's results: npm run join again.)`),
      );
  } catch {
    // Down, slow or unreachable: the check is what matters; the next one tries again.
  }
}
