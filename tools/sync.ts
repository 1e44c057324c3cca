// npm run sync: write generated parts of the Markdown from their one source.
//  - A code fence whose info string names a region, ```ts steps/03-token-issue/app.ts#login,
//    gets the code between `// #region login` and its `// #endregion` in that
//    file (the whole file without the #name). Slides and READMEs thus show
//    code the steps really run.
//  - In README.md, the part between <!-- steps:start --> and <!-- steps:end -->
//    is the table of steps, made from steps/steps.json.
//  - In a step's deck, a slide that starts with <!-- _class: your-turn -->
//    gets its body (up to its speaker notes) from the step's EXERCISE.md:
//    the task, and the commands to get it, check it and get a hint.
//  - A file a step inherits (steps.json "inherits") is copied unchanged from
//    the step it comes from: a step's own files are then exactly its lesson.
// npm run sync -- --check changes nothing and fails when a file is out of date.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli, fail, isMain } from './cli.ts';
import { loadExercise } from './exercise.ts';
import { baseOf, findStep, rel, root, stepDir, steps, type Step } from './steps.ts';
import { listFiles } from './workspace.ts';

/**
 * The lines of `name`'s region in `source`, dedented. Nested region markers
 * are dropped; a nested region named "hide" (or "hide-<name>", for this
 * region only) is shown as one `// …` line: code the slide leaves out, in
 * whole statements.
 */
export function region(source: string, name: string): string | undefined {
  const lines = source.split(/\r?\n/);
  const marker = /^(\s*)\/\/\s*#(region|endregion)\b\s*(\S*)/;
  const start = lines.findIndex((line) => {
    const m = marker.exec(line);
    return m?.[2] === 'region' && m[3] === name;
  });
  if (start < 0) return undefined;
  const body: string[] = [];
  let depth = 1;
  let hiding = 0;
  for (const line of lines.slice(start + 1)) {
    const m = marker.exec(line);
    if (m) {
      const opens = m[2] === 'region';
      depth += opens ? 1 : -1;
      if (depth === 0) break;
      if (hiding > 0) hiding += opens ? 1 : -1;
      else if (opens && (m[3] === 'hide' || m[3] === `hide-${name}`)) {
        hiding = 1;
        body.push(`${m[1]}// …`);
      }
      continue;
    }
    if (hiding === 0) body.push(line);
  }
  if (depth !== 0) return undefined;
  while (body.length && body[0]!.trim() === '') body.shift();
  while (body.length && body.at(-1)!.trim() === '') body.pop();
  const indents = body.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length);
  const indent = Math.min(...indents);
  return body.map((l) => l.slice(Number.isFinite(indent) ? indent : 0)).join('\n');
}

/**
 * Whether the brackets of `code` balance, strings and comments aside: a
 * region must hold whole statements, never half a block.
 */
export function balanced(code: string): boolean {
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const stack: string[] = [];
  for (let i = 0; i < code.length; i++) {
    const ch = code[i]!;
    if (ch === '/' && code[i + 1] === '/') i = code.indexOf('\n', i) >>> 0;
    else if (ch === '/' && code[i + 1] === '*') i = code.indexOf('*/', i) >>> 0;
    else if (ch === "'" || ch === '"' || ch === '`') {
      // To the closing quote; a template's ${...} holds balanced code.
      for (i++; i < code.length && code[i] !== ch; i++) if (code[i] === '\\') i++;
    } else if ('([{'.includes(ch)) stack.push(ch);
    else if (ch in pairs && stack.pop() !== pairs[ch]) return false;
  }
  return stack.length === 0;
}

/** A whole source file as it should appear in Markdown: without its region markers. */
function wholeFile(source: string): string {
  return source
    .split(/\r?\n/)
    .filter((line) => !/^\s*\/\/\s*#(end)?region\b/.test(line))
    .join('\n')
    .trim();
}

const FENCE =
  /^(```+)(\w+) ([\w./-]+\.(?:ts|mjs|js|html|css|json))(?:#([\w-]+))?[ \t]*\n[\s\S]*?^\1[ \t]*$/gm;

export function stepsTable(): string {
  const rows = steps.map((s) => {
    const build = loadExercise(s) ? `\`npm run exercise ${s.number}\`` : '';
    return `| ${s.number} | [${s.title}](steps/${s.slug}/) | ${s.adds} | \`npm run step ${s.number}\` | ${build} | [${s.slug}.md](slides/${s.slug}.md) |`;
  });
  return [
    '| # | Step | What it adds | Run it | Build it yourself | Slides |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

const two = (n: number) => String(n).padStart(2, '0');

/** The body of a step's "Your turn" slide, from its exercise. */
export function yourTurn(step: Step): string | undefined {
  const exercise = loadExercise(step);
  const base = baseOf(step);
  if (!exercise || !base) return undefined;
  const title = exercise.title.replace(/^Step \d+:\s*/, '');
  const check = `npm run check -- ${step.number} --dir workspace`;
  // A step in parts is checked a part at a time, then whole.
  const first = step.parts?.[0];
  const lines: [string, string][] = [
    // A script step leaves nothing to build on: the exercise is a file of TODOs.
    [
      `npm run exercise ${step.number}`,
      base.script
        ? 'app.ts with TODO markers'
        : // Files taken from the step itself, with its lesson cut out (06, 09).
          exercise.markers.some((m) => m.where === 'from the step')
          ? `step ${two(step.number)}, lesson removed`
          : `step ${two(base.number)} with TODO markers`,
    ],
    ...(first
      ? ([
          [`${check} --part ${first.id}`, 'one part at a time'],
          [check, `all ${step.parts!.length} parts`],
        ] as [string, string][])
      : [[check, 'until it says done'] as [string, string]]),
    [`npm run hint ${step.number}`, 'one hint at a time'],
  ];
  const width = Math.max(...lines.map(([command]) => command.length)) + 2;
  return [
    `## Your turn: ${title}`,
    '',
    ...exercise.task.map((t) => `- ${t}`),
    '',
    '```sh',
    ...lines.map(([command, comment]) => `${command.padEnd(width)}# ${comment}`),
    '```',
  ].join('\n');
}

const YOUR_TURN =
  /^(<!-- _class: your-turn -->[ \t]*\r?\n)([\s\S]*?)(?=^<!--|^---[ \t]*$|(?![\s\S]))/gm;

/** The text with every generated part brought up to date, and what could not be. */
export function syncText(original: string, file: string): { text: string; errors: string[] } {
  // A checkout with CRLF line ends (Windows, core.autocrlf) is read as LF
  // and written back as it came, so that drift is caught either way.
  const eol = original.includes('\r\n') ? '\r\n' : '\n';
  const text = original.replace(/\r\n/g, '\n');
  const errors: string[] = [];
  let out = text.replace(
    FENCE,
    (whole, fence: string, lang: string, source: string, name: string | undefined) => {
      const full = path.join(root, source);
      if (!existsSync(full)) {
        errors.push(`${rel(file)}: ${source} does not exist`);
        return whole;
      }
      const code = readFileSync(full, 'utf8');
      const snippet = name ? region(code, name) : wholeFile(code);
      if (snippet === undefined) {
        errors.push(
          `${rel(file)}: ${source} has no region "${name}" (// #region ${name} ... // #endregion)`,
        );
        return whole;
      }
      if (name && /\.(ts|js|mjs)$/.test(source) && !balanced(snippet)) {
        errors.push(
          `${rel(file)}: ${source}#${name} cuts a statement: its brackets do not balance. ` +
            'Put the region around whole statements, and a "// #region hide" around what the slide leaves out',
        );
      }
      return `${fence}${lang} ${source}${name ? `#${name}` : ''}\n${snippet}\n${fence}`;
    },
  );
  const deckOf = steps.find(
    (step) => path.resolve(file) === path.join(root, 'slides', `${step.slug}.md`),
  );
  if (deckOf) {
    out = out.replace(YOUR_TURN, (whole, directive: string) => {
      const body = yourTurn(deckOf);
      if (body === undefined) {
        errors.push(
          `${rel(file)}: a "your-turn" slide, but step ${deckOf.number} has no EXERCISE.md`,
        );
        return whole;
      }
      return `${directive}\n${body}\n\n`;
    });
  }
  if (path.basename(file) === 'README.md' && path.dirname(file) === root) {
    out = out.replace(
      /<!-- steps:start -->[\s\S]*?<!-- steps:end -->/,
      () => `<!-- steps:start -->\n${stepsTable()}\n<!-- steps:end -->`,
    );
  }
  return { text: eol === '\n' ? out : out.replace(/\n/g, eol), errors };
}

/** The regions Markdown names, as "file#region", and those an exercise leaves to the learner. */
export function namedRegions(texts: string[]): Set<string> {
  const named = new Set<string>();
  for (const text of texts)
    for (const m of text.replace(/\r\n/g, '\n').matchAll(FENCE))
      if (m[4]) named.add(`${m[3]}#${m[4]}`);
  for (const step of steps) {
    for (const marker of loadExercise(step)?.markers ?? []) {
      if (marker.where === 'from the step' && marker.anchor)
        named.add(`steps/${step.slug}/${marker.file}#${marker.anchor}`);
    }
  }
  return named;
}

/** Region markers in the steps' code that no Markdown names: noise in code a learner reads. */
export function unusedRegions(named: Set<string>): string[] {
  const unused: string[] = [];
  // An inherited copy's regions are named where its source is.
  const copies = new Set(inheritedFiles().map(({ copy }) => copy));
  for (const step of steps) {
    for (const file of listFiles(stepDir(step)).filter((f) => /\.(ts|js|mjs|html|css)$/.test(f))) {
      if (copies.has(path.join(stepDir(step), file))) continue;
      const source = `steps/${step.slug}/${file}`;
      for (const m of readFileSync(path.join(stepDir(step), file), 'utf8').matchAll(
        /^\s*\/\/\s*#region\s+([\w-]+)/gm,
      )) {
        if (!m[1]!.startsWith('hide') && !named.has(`${source}#${m[1]}`))
          unused.push(
            `${source} has a region "${m[1]}" that no slide, README or exercise names: remove its // #region and // #endregion lines`,
          );
      }
    }
  }
  return unused;
}

/** Each file a step inherits, with the file it must equal. */
export function inheritedFiles(): { copy: string; source: string }[] {
  return steps.flatMap((step) =>
    (step.inherits ?? []).flatMap(({ from, files }) =>
      files.map((file) => ({
        copy: path.join(stepDir(step), file),
        source: path.join(stepDir(findStep(from)), file),
      })),
    ),
  );
}

/** Copy inherited files that differ from their source (or, checking, name them). */
export function syncInherited(
  check: boolean,
  files = inheritedFiles(),
  say: (line: string) => void = console.log,
): string[] {
  const problems: string[] = [];
  for (const { copy, source } of files) {
    if (!existsSync(source)) {
      problems.push(`${rel(copy)} is inherited from ${rel(source)}, which does not exist`);
      continue;
    }
    const want = readFileSync(source);
    if (existsSync(copy) && readFileSync(copy).equals(want)) continue;
    if (check) {
      problems.push(
        `${rel(copy)} differs from ${rel(source)}, which it inherits: change the source ` +
          "and run npm run sync, or make the file the step's own in steps.json",
      );
    } else {
      writeFileSync(copy, want);
      say(`updated ${rel(copy)} from ${rel(source)}`);
    }
  }
  return problems;
}

/** Every Markdown file that may hold generated parts. */
export function markdownFiles(): string[] {
  const files = [path.join(root, 'README.md')];
  for (const step of steps) files.push(path.join(stepDir(step), 'README.md'));
  const slides = path.join(root, 'slides');
  if (existsSync(slides)) {
    for (const name of readdirSync(slides))
      if (name.endsWith('.md')) files.push(path.join(slides, name));
  }
  for (const extra of ['bench/README.md']) files.push(path.join(root, extra));
  return files.filter((f) => existsSync(f));
}

if (isMain(import.meta.url)) {
  const usage = `
Usage: npm run sync                copy step code into slides and READMEs, rebuild the steps table
       npm run sync -- --check     change nothing; fail if anything is out of date
Options:
  --check  report what is out of date instead of writing it`;
  const { values } = cli(usage, { check: { type: 'boolean' } }, { max: 0 });
  // Inherited code first: the Markdown shows regions of it.
  const problems: string[] = syncInherited(values.check === true);
  const files = markdownFiles();
  problems.push(...unusedRegions(namedRegions(files.map((file) => readFileSync(file, 'utf8')))));
  for (const file of files) {
    const current = readFileSync(file, 'utf8');
    const { text, errors } = syncText(current, file);
    problems.push(...errors);
    if (text === current) continue;
    if (values.check) problems.push(`${rel(file)} is out of date: run npm run sync`);
    else {
      writeFileSync(file, text);
      console.log(`updated ${rel(file)}`);
    }
  }
  if (problems.length) fail(problems.join('\n'));
}
