// Exercises: what to build for step N, handed out as the step it builds on
// with numbered TODO markers where the change goes. Each step from 01 on has
// an EXERCISE.md beside its code: the task, where the markers go, and hints.
// The exercise is derived from the base step's code at hand-out time, so the
// two cannot drift: a marker whose anchor line is gone fails npm test.
//
// EXERCISE.md, section by section:
//   # Step 04: tokenRequired          the title
//   (paragraphs)                       what to build, starting from where
//   ## Task                            the contract, as "- " bullets (also the "Your turn" slide)
//   ## Done when                       how to tell
//   ## Markers                         a ```text block: "<file>, before: <line>", "<file>, after: <line>",
//                                      "<file>, top:" or "<file>, new:", then the marker's lines;
//                                      or "<file>, from the step without <region>:": the step's own
//                                      file with that region's body left to the learner. A marker
//                                      line that starts with "> " is code: a stand-in that runs
//   ## Hints                           "### <n>. <title>", an optional "Tests: a; b" line naming
//                                      failing tests it helps with, then the hint
// A step in parts (step 06) tags a marker or a hint with "[part]" first.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  bold,
  cli,
  dim,
  fail,
  green,
  isMain,
  partArgument,
  stepArgument,
  userPath,
  yellow,
} from './cli.ts';
import { baseOf, rel, stepDir, type Step } from './steps.ts';
import {
  asInWorkspace,
  copyStep,
  defaultWorkspace,
  listFiles,
  readmeFor,
  replaceWorkspace,
  writeManifest,
} from './workspace.ts';

export interface Marker {
  file: string;
  where: 'before' | 'after' | 'top' | 'new' | 'from the step';
  /** The line (trimmed) the marker goes before or after; for 'from the step', the region left out. */
  anchor?: string;
  lines: string[];
  part?: string;
}

export interface Hint {
  number: number;
  title: string;
  /** Words of failing test names or messages this hint helps with. */
  tests: string[];
  text: string;
  part?: string;
}

export interface Exercise {
  title: string;
  intro: string;
  task: string[];
  doneWhen: string;
  markers: Marker[];
  hints: Hint[];
  /** The whole file, for the workspace's README. */
  text: string;
}

export const exerciseFile = (step: Step) => path.join(stepDir(step), 'EXERCISE.md');

export function loadExercise(step: Step): Exercise | undefined {
  const file = exerciseFile(step);
  return existsSync(file) ? parseExercise(readFileSync(file, 'utf8')) : undefined;
}

/** Sections by their "## " heading; the text before the first one under "". */
function sections(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let name = '';
  let body: string[] = [];
  let fence = false;
  for (const line of text.split(/\r?\n/)) {
    if (/^```/.test(line)) fence = !fence;
    const heading = fence ? null : /^## (.+)$/.exec(line);
    if (heading) {
      out.set(name, body.join('\n').trim());
      name = heading[1]!.trim();
      body = [];
    } else body.push(line);
  }
  out.set(name, body.join('\n').trim());
  return out;
}

const PART = /^\[([\w-]+)\]\s*/;

export function parseMarkers(block: string): Marker[] {
  const markers: Marker[] = [];
  let current: Marker | undefined;
  for (const raw of block.split(/\r?\n/)) {
    const line = raw.trimEnd();
    const part = PART.exec(line)?.[1];
    const head =
      /^(?:\[[\w-]+\]\s*)?([\w./-]+\.(?:ts|js|mjs|html|css|json)), (before|after|top|new):\s*(.*)$/.exec(
        line,
      );
    const fromStep =
      /^(?:\[[\w-]+\]\s*)?([\w./-]+\.(?:ts|js|mjs|html|css|json)), from the step(?: without ([\w-]+))?:\s*$/.exec(
        line,
      );
    if (head) {
      current = {
        file: head[1]!,
        where: head[2] as Marker['where'],
        anchor: head[3]?.trim() || undefined,
        lines: [],
        part,
      };
      markers.push(current);
    } else if (fromStep) {
      current = {
        file: fromStep[1]!,
        where: 'from the step',
        anchor: fromStep[2],
        lines: [],
        part,
      };
      markers.push(current);
    } else if (line.trim() === '') {
      current = undefined;
    } else if (current) {
      current.lines.push(line);
    } else {
      throw new Error(`A marker line before any "<file>, before: <line>" heading: ${line}`);
    }
  }
  return markers;
}

export function parseHints(text: string): Hint[] {
  const hints: Hint[] = [];
  for (const chunk of text.split(/^### /m).slice(1)) {
    const [first, ...rest] = chunk.split(/\r?\n/);
    const head = /^(\d+)\.\s*(?:\[([\w-]+)\]\s*)?(.+)$/.exec(first!.trim());
    if (!head) throw new Error(`A hint heading must be "### <n>. <title>": ${first}`);
    const tests: string[] = [];
    const body = rest.filter((line) => {
      const m = /^Tests:\s*(.+)$/.exec(line.trim());
      if (m)
        tests.push(
          ...m[1]!
            .split(';')
            .map((t) => t.trim().toLowerCase())
            .filter(Boolean),
        );
      return !m;
    });
    hints.push({
      number: Number(head[1]),
      part: head[2],
      title: head[3]!.trim(),
      tests,
      text: body.join('\n').trim(),
    });
  }
  return hints;
}

export function parseExercise(text: string): Exercise {
  const parts = sections(text);
  const top = parts.get('') ?? '';
  const title = /^# (.+)$/m.exec(top)?.[1]?.trim() ?? '';
  const intro = top.replace(/^# .+$/m, '').trim();
  const task = (parts.get('Task') ?? '')
    .split(/\r?\n/)
    .filter((l) => l.startsWith('- '))
    .map((l) => l.slice(2).trim());
  const block = /```text\r?\n([\s\S]*?)\r?\n```/.exec(parts.get('Markers') ?? '')?.[1] ?? '';
  return {
    title,
    intro,
    task,
    doneWhen: parts.get('Done when') ?? '',
    markers: parseMarkers(block),
    hints: parseHints(parts.get('Hints') ?? ''),
    text,
  };
}

/**
 * A marker's lines as comments in the file's language, at an indentation.
 * A line that starts with "> " is code, written as it is: a stand-in that
 * keeps the file running until the learner replaces it.
 */
function comment(file: string, lines: string[], indent = ''): string[] {
  const code = lines.filter((l) => l.startsWith('> ')).map((l) => `${indent}${l.slice(2)}`);
  const text = lines.filter((l) => !l.startsWith('> '));
  if (text.length === 0) return code;
  if (/\.html$/.test(file))
    return [`${indent}<!--`, ...text.map((l) => `${indent}  ${l}`), `${indent}-->`, ...code];
  if (/\.css$/.test(file))
    return [`${indent}/*`, ...text.map((l) => `${indent}   ${l}`), `${indent}*/`, ...code];
  return [...text.map((l) => `${indent}// ${l}`), ...code];
}

/**
 * Put the markers into the files of the base step: `files` maps a file name
 * to its text (changed in place); a new file is added. Throws, naming the
 * marker, when an anchor line is not there: the step changed under it.
 */
export function applyMarkers(
  files: Map<string, string>,
  markers: Marker[],
  stepFile: (file: string) => string | undefined = () => undefined,
): void {
  const taken = new Set<string>();
  for (const marker of markers) {
    if (marker.where === 'from the step') {
      // The first marker takes the step's file; the next ones leave out more of it.
      const source = taken.has(marker.file) ? files.get(marker.file) : stepFile(marker.file);
      taken.add(marker.file);
      if (source === undefined)
        throw new Error(`A marker takes ${marker.file} from the step, which has no such file`);
      files.set(marker.file, withoutRegion(source, marker));
      continue;
    }
    if (marker.where === 'new') {
      const before = files.get(marker.file);
      const body = comment(marker.file, marker.lines).join('\n');
      files.set(marker.file, before === undefined ? `${body}\n` : `${body}\n${before}`);
      continue;
    }
    const text = files.get(marker.file);
    if (text === undefined)
      throw new Error(
        `A marker goes in ${marker.file}, which the base step does not have (use "${marker.file}, new:")`,
      );
    const lines = text.split('\n');
    if (marker.where === 'top') {
      // After the file's opening comment, if it has one.
      let at = 0;
      while (at < lines.length && lines[at]!.startsWith('//')) at++;
      lines.splice(at, 0, ...comment(marker.file, marker.lines));
    } else {
      const at = lines.findIndex((line) => line.trim() === marker.anchor);
      if (at < 0)
        throw new Error(
          `The marker for ${marker.file} goes ${marker.where} the line "${marker.anchor}", which is not there any more`,
        );
      const indent = /^\s*/.exec(lines[at]!)![0];
      lines.splice(
        marker.where === 'before' ? at : at + 1,
        0,
        ...comment(marker.file, marker.lines, indent),
      );
    }
    files.set(marker.file, lines.join('\n'));
  }
}

/**
 * A file of the step with one region's body replaced by the marker's lines:
 * the rest of the file is given, the lesson is left to the learner. (The
 * other region markers go when the workspace is written.)
 */
function withoutRegion(source: string, marker: Marker): string {
  const lines = source.replace(/\r\n/g, '\n').split('\n');
  const out: string[] = [];
  let skipping = 0;
  let found = marker.anchor === undefined;
  for (const line of lines) {
    const m = /^(\s*)\/\/\s*#(region|endregion)\b\s*([\w-]*)/.exec(line);
    if (m && skipping > 0) {
      skipping += m[2] === 'region' ? 1 : -1;
      continue;
    }
    if (m && m[2] === 'region' && m[3] === marker.anchor) {
      skipping = 1;
      found = true;
      out.push(...comment(marker.file, marker.lines, m[1]));
      continue;
    }
    if (skipping === 0) out.push(line);
  }
  if (!found)
    throw new Error(
      `The marker for ${marker.file} leaves out the region "${marker.anchor}", which the step's file does not have`,
    );
  if (marker.anchor === undefined && marker.lines.length > 0)
    return [...comment(marker.file, marker.lines), ...out].join('\n');
  return out.join('\n');
}

/** The exercise as the learner reads it: without its markers and hints sections. */
function taskText(text: string, step: Step): string {
  const kept = text
    .replace(/\r\n/g, '\n')
    .split(/^(?=## )/m)
    .filter((section) => !/^## (Markers|Hints)\b/.test(section));
  return `${kept.join('').trimEnd()}\n\n## Stuck?\n\n\`npm run hint ${step.number}\` gives one hint at a time, each a nudge before the answer.\n`;
}

/** A file of the step's own code, as written (region markers and all); undefined when it has none. */
function stepFile(step: Step, file: string): string | undefined {
  const full = path.join(stepDir(step), file);
  return existsSync(full) ? readFileSync(full, 'utf8').replace(/\r\n/g, '\n') : undefined;
}

/** Replace the workspace with the exercise for step `target`: its base step, with the TODO markers. */
export function handOut(target: Step, dir: string): string[] {
  const base = baseOf(target);
  const exercise = loadExercise(target);
  if (!base || !exercise)
    throw new Error(
      `Step ${target.number} has no exercise: npm run start-from ${target.number} copies the finished step instead.`,
    );
  copyStep(base, dir);
  // A script is no code to build on (step 00): the exercise starts empty.
  if (base.script) for (const file of listFiles(dir)) rmSync(path.join(dir, file));
  const files = new Map(
    listFiles(dir).map((f) => [f, readFileSync(path.join(dir, f), 'utf8').replace(/\r\n/g, '\n')]),
  );
  const before = new Map(files);
  const fromStep = (file: string) => stepFile(target, file);
  applyMarkers(files, exercise.markers, fromStep);
  for (const [file, text] of files) {
    // A file of the base that the step no longer has (step 09's app.ts in
    // step 10) is not part of the task: leave it out, or diff shows it forever.
    if (before.get(file) === text && file !== 'README.md' && fromStep(file) === undefined) {
      rmSync(path.join(dir, file));
      const folder = path.dirname(path.join(dir, file));
      if (folder !== dir && readdirSync(folder).length === 0) rmSync(folder, { recursive: true });
      continue;
    }
    if (before.get(file) === text) continue;
    files.set(file, asInWorkspace(file, text));
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), files.get(file)!);
  }
  // The task replaces the base step's README: it says what to do now. The
  // markers are in the code, and the hints come one at a time.
  writeFileSync(
    path.join(dir, 'README.md'),
    readmeFor(taskText(exercise.text, target), stepDir(target), dir, target),
  );
  return writeManifest(dir, { step: base.number, target: target.number });
}

/** The parts of a step with a lesson of their own: EXERCISE.md has markers that cut it out. */
export function lessonParts(step: Step): NonNullable<Step['parts']> {
  const markers = loadExercise(step)?.markers ?? [];
  return (step.parts ?? []).filter((p) => markers.some((m) => m.part === p.id));
}

/**
 * Step `target` itself with one part's lesson cut out: only the markers of
 * `part` applied, every other file as in the step. Its check shows that the
 * part's tests see that lesson missing, and that the other parts' tests do
 * not trip over it (test/checkpoints.test.ts). Throws when the part has no
 * markers of its own.
 */
export function handOutPart(target: Step, part: string, dir: string): string[] {
  const markers = loadExercise(target)?.markers.filter((m) => m.part === part) ?? [];
  if (markers.length === 0)
    throw new Error(`Step ${target.number}'s EXERCISE.md has no marker for part "${part}"`);
  const fromStep = (file: string) => stepFile(target, file);
  copyStep(target, dir);
  const files = new Map<string, string>();
  for (const { file } of markers) {
    const text = fromStep(file);
    if (text !== undefined) files.set(file, text);
  }
  applyMarkers(files, markers, fromStep);
  for (const [file, text] of files) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), asInWorkspace(file, text));
  }
  return writeManifest(dir, {
    step: baseOf(target)?.number ?? target.number,
    target: target.number,
  });
}

/**
 * How closely a hint speaks to a failing test: the length of the longest of
 * its words found in the test's name or message, so that "algorithm not
 * pinned" wins over "got 200" when both are there; 0 when none is.
 */
export function fit(hint: Hint, failure: { name: string; message?: string }): number {
  const text = `${failure.name} ${failure.message ?? ''}`.toLowerCase();
  return Math.max(0, ...hint.tests.filter((t) => text.includes(t)).map((t) => t.length));
}

if (isMain(import.meta.url)) {
  const usage = `
Usage: npm run exercise <n>               the exercise for step n in workspace/: the step it builds on, with TODO markers
       npm run exercise -- <n> --force    even over a workspace with your changes (a backup is kept)
Options:
  --force        replace without asking; your changes go to a backup folder
  --to <folder>  another folder than workspace/
  --part <part>  accepted for step 06, whose exercise holds every part: check and hint take --part`;
  const { values, positionals } = cli(
    usage,
    { force: { type: 'boolean' }, to: { type: 'string' }, part: { type: 'string' } },
    { max: 1, looksLike: (p) => /^\d+$/.test(p) },
  );
  const step = stepArgument(positionals, usage);
  const exercise = loadExercise(step);
  if (!exercise)
    fail(
      `Step ${step.number} has no exercise (it is the first, or a demo): npm run step ${step.number} runs it.`,
    );
  // One workspace holds every part: --part belongs to check and hint.
  const part = partArgument(step, values.part);
  if (part !== undefined)
    console.log(
      yellow(
        `The exercise holds all ${step.parts!.length} parts; --part is for check and hint: npm run check -- ${step.number} --dir ${values.to ?? 'workspace'} --part ${part}`,
      ),
    );
  const dir = values.to ? userPath(values.to) : defaultWorkspace;
  const where = rel(dir);
  const files = await replaceWorkspace(
    dir,
    Boolean(values.force),
    `the exercise for step ${step.number}`,
    () => handOut(step, dir),
  );
  const todos = exercise.markers
    .filter((m) => m.lines.some((l) => /^TODO\b/.test(l)))
    .map((m) => m.file);
  console.log(
    green(
      `${where}/ holds the exercise for step ${step.number}, ${step.title}: ${files.join(', ')}`,
    ),
  );
  console.log(`\n${bold(exercise.title)}\n${exercise.task.map((t) => `  - ${t}`).join('\n')}\n`);
  console.log(
    `The TODO markers are in ${[...new Set(todos)].join(', ')}; ${where}/README.md has the whole task.`,
  );
  console.log(
    dim(`Run it:    npm run dev             (restarts on save)
Check it:  npm run check -- ${step.number} --dir ${where}   (add --watch to check on every save)
Stuck?     npm run hint ${step.number}            (one hint at a time)`),
  );
}
