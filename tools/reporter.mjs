// A node:test reporter that writes one JSON line per finished test, so that
// tools can count results and show a learner each failure's message, and
// where it happened, without parsing human output. Suites are left out: only tests count.
// Plain JavaScript: node loads reporters before tsx can compile TypeScript.
// The shape of a line is TestResult in run-tests.ts.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { thrownAt } from './thrown-at.mjs';

/** A value as a learner would write it, cut short when long. */
function show(value, width = 80) {
  let text;
  if (value === undefined) text = 'undefined';
  else if (Buffer.isBuffer(value)) {
    // Bytes: as text when they are text (a secret), else as base64url.
    const utf8 = value.toString('utf8');
    text = /^[\x20-\x7e]*$/.test(utf8)
      ? `Buffer ${JSON.stringify(utf8)}`
      : `Buffer ${value.toString('base64url')} (base64url)`;
  } else if (typeof value === 'bigint') text = `${value}n`;
  else if (value instanceof RegExp) text = String(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > width ? `${text.slice(0, width - 3)}...` : text;
}

const isObject = (value) => value !== null && typeof value === 'object';

/** The first few places where two values differ, as "key: expected ..., got ...". */
function differences(expected, actual, where = '', out = []) {
  if (out.length >= 3) return out;
  if (isObject(expected) && isObject(actual) && Array.isArray(expected) === Array.isArray(actual)) {
    for (const key of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
      const at = Array.isArray(expected) ? `${where}[${key}]` : where ? `${where}.${key}` : key;
      if (!(key in actual)) out.push(`${at}: missing, expected ${show(expected[key], 40)}`);
      else if (!(key in expected)) out.push(`${at}: not expected, got ${show(actual[key], 40)}`);
      else differences(expected[key], actual[key], at, out);
      if (out.length >= 3) break;
    }
    return out;
  }
  if (!Object.is(expected, actual))
    out.push(`${where || 'value'}: expected ${show(expected, 40)}, got ${show(actual, 40)}`);
  return out;
}

/** What was wanted and what came, for an assertion error. */
function wantedAndGot(err) {
  const { operator, expected, actual } = err;
  switch (operator) {
    case 'strictEqual':
    case 'equal':
    case '==':
      if (operator === '==' && expected === true) return undefined; // assert.ok: see below
      // check shows this on a line of its own: room for a header's whole value.
      return `expected ${show(expected, 120)}, got ${show(actual, 120)}`;
    case 'notStrictEqual':
    case 'notEqual':
    case 'notDeepStrictEqual':
    case 'notDeepEqual':
      return `expected anything but ${show(expected)}`;
    case 'deepStrictEqual':
    case 'deepEqual': {
      const whole = `expected ${show(expected, 60)}, got ${show(actual, 60)}`;
      if (!isObject(expected) || !isObject(actual) || whole.length <= 100) return whole;
      return differences(expected, actual).join('; ');
    }
    case 'match':
      return `expected ${show(actual)} to match ${expected}`;
    case 'doesNotMatch':
      return `expected ${show(actual)} not to match ${expected}`;
    default:
      return undefined;
  }
}

/**
 * The failure in a learner's words: { message, detail, thrown } where detail
 * is "expected X, got Y" and thrown where the code under test threw it.
 */
function describe(error) {
  let err = error;
  // node:test wraps a failure in ERR_TEST_FAILURE; the assertion is its cause.
  // A library's cause may be no error at all (openid-client gives the HTTP
  // response): stop there, and say its status.
  while (err && typeof err.cause === 'object' && err.cause && typeof err.cause.message === 'string')
    err = err.cause;
  const text = String(err?.message ?? error);
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  let first = lines[0] ?? '';
  if (err?.code !== 'ERR_ASSERTION') {
    // Not an assertion: an error in the code under test, named as such. A
    // compile error says "Transform failed with 1 error:" first and where
    // on the next line: that line is the one to read.
    const located = lines.find((line) => /\.(?:ts|mjs|js):\d+:\d+/.test(line));
    const where =
      located && first.endsWith(':') ? /^(.+?\.(?:ts|mjs|js)):(\d+:\d+.*)$/.exec(located) : null;
    if (where)
      first = `${path.relative(process.cwd(), where[1]).replaceAll('\\', '/')}:${where[2]}`;
    const name =
      err?.name && err.name !== 'Error' && !first.startsWith(err.name) ? `${err.name}: ` : '';
    const status = typeof err?.cause?.status === 'number' ? ` (HTTP ${err.cause.status})` : '';
    // Where the learner's code threw it: a message such as "chars is not
    // defined" says what, not where.
    return { message: `${name}${first}${status}`, thrown: thrownAt(err) };
  }
  // assert.throws() that saw nothing thrown: say that in words, after the test's own.
  const missing = /^Missing expected (exception|rejection)(?: \([^)]*\))?[.:]?\s*(.*)$/.exec(first);
  if (missing)
    return {
      message: missing[2]
        ? `${missing[2]} (nothing was ${missing[1] === 'exception' ? 'thrown' : 'rejected'})`
        : `expected an error, and nothing was ${missing[1] === 'exception' ? 'thrown' : 'rejected'}`,
    };
  const detail = wantedAndGot(err);
  if (err.generatedMessage) {
    if (detail) return { message: detail, detail };
    // assert.ok(x). Node quotes the expression from the source, but through
    // tsx's compiled code it may quote the wrong line: say only what came.
    if (err.operator === '==') return { message: `expected a true value, got ${show(err.actual)}` };
    return { message: first };
  }
  // A message of the test's own: add what came, unless it says already.
  return { message: detail && !/\bgot\b/.test(first) ? `${first} (${detail})` : first, detail };
}

/** A path as the learner reads it: from the workshop's folder, with forward slashes. */
const shown = (file) => path.relative(process.cwd(), file).replaceAll('\\', '/');
/** A file as node:test names it (a file: URL for a module) as a path. */
const fromUrl = (file) => (file.startsWith('file:') ? fileURLToPath(file) : file);

/**
 * Where a failure happened: the line of the test's own file (a helper's,
 * when the test comes from one) that the error's stack passes through, or
 * the file alone.
 */
function location(file, error) {
  if (typeof file !== 'string' || file === '') return undefined;
  const own = fromUrl(file);
  // The error and its causes, a few deep (a cause may be no error at all).
  for (
    let err = error, depth = 0;
    err && typeof err === 'object' && depth < 5;
    err = err.cause, depth++
  ) {
    for (const line of String(err.stack ?? '').split('\n')) {
      const frame = /(?:\(|\bat )((?:file:\/\/)?[^()]+?):(\d+):\d+\)?$/.exec(line.trim());
      if (!frame) continue;
      const where = fromUrl(frame[1]);
      if (where === own) return `${shown(own)}:${frame[2]}`;
    }
  }
  return shown(own);
}

/**
 * One result per finished test, from node:test's event stream; with
 * `timings`, also one {file, path, ms, ok} per test file's suite: its name,
 * its file, its time and whether all of it passed.
 */
export async function* results(source, timings = false) {
  const open = [];
  // Tests cancelled because their suite's before() hook failed: they are
  // reported with the hook's message, which says what is really wrong.
  let cancelled = [];
  for await (const event of source) {
    if (event.type === 'test:start') open[event.data.nesting] = event.data.name;
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { data } = event;
    if (data.details?.type === 'suite') {
      // Each file's suite sits inside the one suite of the whole run.
      if (timings && data.nesting === 1)
        yield {
          file: data.name,
          path: typeof data.file === 'string' ? shown(fromUrl(data.file)) : undefined,
          ms: Math.round(data.details.duration_ms ?? 0),
          ok: event.type === 'test:pass',
        };
      if (event.type === 'test:fail') {
        // A nested suite cancelled with its parent says nothing: wait for
        // the suite whose hook failed, which says what is wrong.
        if (data.details.error?.failureType === 'cancelledByParent') continue;
        const why = describe(data.details.error);
        for (const result of cancelled) yield { ...result, ...why };
        cancelled = [];
      }
      continue;
    }
    const result = {
      name: data.name,
      suites: open.slice(0, data.nesting),
      ok: event.type === 'test:pass',
      skipped: Boolean(data.skip),
    };
    if (!result.ok)
      Object.assign(result, describe(data.details?.error), {
        at: location(data.file, data.details?.error),
      });
    if (data.details?.error?.failureType === 'cancelledByParent') cancelled.push(result);
    else yield result;
  }
  yield* cancelled;
}

export default async function* jsonLines(source) {
  for await (const result of results(source, true)) yield `${JSON.stringify(result)}\n`;
}
