// npm run diff <n>: what step n adds to the step it builds on.
// npm run diff -- <n> --dir workspace: what your workspace still lacks against step n.
// A unified diff of the code (tests, lockfiles and Markdown left out), coloured.
// By default only code counts: comments, region markers, blank lines and
// indentation are left out, so a learner's own comments are no difference.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cli, cyan, dim, fail, green, isMain, red, stepArgument, userPath } from './cli.ts';
import { baseOf, rel, stepDir } from './steps.ts';
import { listFiles } from './workspace.ts';

type Op = { kind: ' ' | '-' | '+'; line: string };

/** The edit script from a to b, by longest common subsequence: small files, so O(n*m) is fine. */
export function lineDiff(
  a: string[],
  b: string[],
  key: (line: string) => string = (line) => line,
): Op[] {
  const n = a.length;
  const m = b.length;
  const ka = a.map(key);
  const kb = b.map(key);
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--)
      lcs[i]![j] =
        ka[i] === kb[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && ka[i] === kb[j]) {
      ops.push({ kind: ' ', line: b[j]! });
      i++;
      j++;
    } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!))
      ops.push({ kind: '-', line: a[i++]! });
    else ops.push({ kind: '+', line: b[j++]! });
  }
  return ops;
}

/** A unified diff (as git and patch read it) with `context` lines around each change. */
export function unifiedDiff(
  before: string,
  after: string,
  from: string,
  to: string,
  context = 3,
  key?: (line: string) => string,
): string {
  const split = (text: string) =>
    text === '' ? [] : text.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n');
  const ops = lineDiff(split(before), split(after), key);
  const changes = ops.map((op, k) => (op.kind === ' ' ? -1 : k)).filter((k) => k >= 0);
  if (changes.length === 0) return '';
  const out = [`--- ${from}`, `+++ ${to}`];
  let k = 0;
  while (k < changes.length) {
    let start = Math.max(0, changes[k]! - context);
    let end = Math.min(ops.length, changes[k]! + context + 1);
    while (k + 1 < changes.length && changes[k + 1]! - context <= end)
      end = Math.min(ops.length, changes[++k]! + context + 1);
    k++;
    const lineA = ops.slice(0, start).filter((o) => o.kind !== '+').length;
    const lineB = ops.slice(0, start).filter((o) => o.kind !== '-').length;
    const hunk = ops.slice(start, end);
    const countA = hunk.filter((o) => o.kind !== '+').length;
    const countB = hunk.filter((o) => o.kind !== '-').length;
    out.push(
      `@@ -${countA ? lineA + 1 : lineA},${countA} +${countB ? lineB + 1 : lineB},${countB} @@`,
    );
    for (const op of hunk) out.push(`${op.kind}${op.line}`);
    start = end;
  }
  return `${out.join('\n')}\n`;
}

/** Code files only: what a learner writes. */
const isCode = (file: string) =>
  /\.(ts|mjs|js|html|css|json)$/.test(file) &&
  !/\.test\.ts$/.test(file) &&
  !/(^|\/)package-lock\.json$/.test(file) &&
  !file.startsWith('.');

/**
 * The code of a file without what is not code: comment lines, comments at
 * the end of a line, region markers and blank lines.
 */
export function codeOnly(text: string, file: string): string {
  let body = text.replace(/\r\n/g, '\n');
  if (/\.html$/.test(file)) body = body.replace(/<!--[\s\S]*?-->/g, '');
  else body = body.replace(/\/\*[\s\S]*?\*\//g, '');
  return (
    body
      .split('\n')
      // A // after code, outside quotes (an even number of each before it).
      .map((line) =>
        line
          .replace(/^((?:[^'"`/]|'[^']*'|"[^"]*"|`[^`]*`|\/(?![/*]))*?)\s*\/\/.*$/, '$1')
          .trimEnd(),
      )
      .filter((line) => line.trim() !== '')
      .join('\n')
  );
}

/**
 * The diff that turns folder `from` into folder `to`; code only unless `all`.
 * With `newFiles` 'named', a file `to` adds is one line that names it: the
 * file is the lesson, read whole, and the diff stays about what changed.
 */
export function diffDirs(
  from: string,
  to: string,
  labels: [string, string],
  all = true,
  newFiles: 'whole' | 'named' = 'whole',
): string {
  const files = [...new Set([...listFiles(from), ...listFiles(to)])].filter(isCode).sort();
  const read = (dir: string, file: string) =>
    existsSync(path.join(dir, file)) ? readFileSync(path.join(dir, file), 'utf8') : undefined;
  return files
    .map((file) => {
      let [before, after] = [read(from, file), read(to, file)];
      if (!all)
        [before, after] = [
          before === undefined ? undefined : codeOnly(before, file),
          after === undefined ? undefined : codeOnly(after, file),
        ];
      // A file that is added or deleted is compared with /dev/null, as git does.
      const [a, b] = [
        before === undefined ? '/dev/null' : `${labels[0]}/${file}`,
        after === undefined ? '/dev/null' : `${labels[1]}/${file}`,
      ];
      if (before === undefined && newFiles === 'named' && after !== undefined) {
        const lines = after.split('\n').length;
        return `+++ ${b}: new, ${lines} lines${all ? '' : ' of code'}\n`;
      }
      return unifiedDiff(
        before ?? '',
        after ?? '',
        a,
        b,
        3,
        all ? undefined : (line) => line.trim(),
      );
    })
    .join('');
}

export function colour(diff: string): string {
  return diff
    .split('\n')
    .map((line) =>
      line.startsWith('+++') || line.startsWith('---')
        ? dim(line)
        : line.startsWith('@@')
          ? cyan(line)
          : line.startsWith('+')
            ? green(line)
            : line.startsWith('-')
              ? red(line)
              : line,
    )
    .join('\n');
}

if (isMain(import.meta.url)) {
  const usage = `
Usage: npm run diff <n>                      what step n adds to the step it builds on
       npm run diff -- <n> --dir workspace   what your workspace still lacks against step n
Options:
  --dir <folder>  compare this folder with step n instead of the step it builds on
  --all           comments, blank lines, indentation and new files whole (a diff that patch can apply)`;
  const { values, positionals } = cli(
    usage,
    { dir: { type: 'string' }, all: { type: 'boolean' } },
    { max: 1, looksLike: (p) => /^\d+$/.test(p) },
  );
  const step = stepArgument(positionals, usage);
  let from: string;
  let label: string;
  if (values.dir !== undefined) {
    from = userPath(values.dir);
    label = rel(from) || '.';
  } else {
    const base = baseOf(step);
    if (!base)
      fail(`Step ${step.number} is the first: there is nothing before it to compare with.`);
    from = stepDir(base);
    label = rel(from);
  }
  // Against the step it builds on, a new file is named, not printed: it
  // is read whole. Against a workspace, everything it lacks is shown.
  const diff = diffDirs(
    from,
    stepDir(step),
    [label, rel(stepDir(step))],
    Boolean(values.all),
    values.dir === undefined && !values.all ? 'named' : 'whole',
  );
  if (diff === '')
    console.log(green(`No code difference left: ${label} has all of step ${step.number}'s code.`));
  else {
    process.stdout.write(`${colour(diff)}\n`);
    if (!values.all)
      console.log(
        dim(
          'Code only: comments, blank lines and indentation left out; new files named, ' +
            'not printed (--all shows everything).',
        ),
      );
  }
}
