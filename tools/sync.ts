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
// npm run sync -- --check changes nothing and fails when a file is out of date.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli, fail, isMain } from './cli.ts';
import { loadExercise } from './exercise.ts';
import { baseOf, rel, root, stepDir, steps, type Step } from './steps.ts';
import { listFiles } from './workspace.ts';

/** The lines of `name`'s region in `source`, nested region markers dropped, dedented. */
export function region(source: string, name: string): string | undefined {
  const lines = source.split(/\r?\n/);
  const marker = /^\s*\/\/\s*#(region|endregion)\b\s*(\S*)/;
  const start = lines.findIndex((line) => marker.exec(line)?.[1] === 'region' && marker.exec(line)?.[2] === name);
  if (start < 0) return undefined;
  const body: string[] = [];
  let depth = 1;
  for (const line of lines.slice(start + 1)) {
    const m = marker.exec(line);
    if (m) {
      depth += m[1] === 'region' ? 1 : -1;
      if (depth === 0) break;
      continue;
    }
    body.push(line);
  }
  if (depth !== 0) return undefined;
  while (body.length && body[0]!.trim() === '') body.shift();
  while (body.length && body.at(-1)!.trim() === '') body.pop();
  const indent = Math.min(...body.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  return body.map((l) => l.slice(Number.isFinite(indent) ? indent : 0)).join('\n');
}

/** A whole source file as it should appear in Markdown: without its region markers. */
function wholeFile(source: string): string {
  return source
    .split(/\r?\n/)
    .filter((line) => !/^\s*\/\/\s*#(end)?region\b/.test(line))
    .join('\n')
    .trim();
}

const FENCE = /^(```+)(\w+) ([\w./-]+\.(?:ts|mjs|js|html|css|json))(?:#([\w-]+))?[ \t]*\n[\s\S]*?^\1[ \t]*$/gm;

export function stepsTable(): string {
  const rows = steps.map((s) => {
    const build = loadExercise(s) ? `\`npm run exercise ${s.number}\`` : '';
    return `| ${s.number} | [${s.title}](steps/${s.slug}/) | ${s.adds} | \`npm run step ${s.number}\` | ${build} | [${s.slug}.md](slides/${s.slug}.md) |`;
  });
  return ['| # | Step | What it adds | Run it | Build it yourself | Slides |', '|---|---|---|---|---|---|', ...rows].join('\n');
}

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
    [`npm run exercise ${step.number}`, base.script ? 'app.ts with TODO markers' : `step ${String(base.number).padStart(2, '0')} with TODO markers`],
    ...(first ? ([[`${check} --part ${first.id}`, 'one part at a time'], [check, `all ${step.parts!.length} parts`]] as [string, string][]) : [[check, 'until it says done'] as [string, string]]),
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

const YOUR_TURN = /^(<!-- _class: your-turn -->[ \t]*\r?\n)([\s\S]*?)(?=^<!--|^---[ \t]*$|(?![\s\S]))/gm;

/** The text with every generated part brought up to date, and what could not be. */
export function syncText(original: string, file: string): { text: string; errors: string[] } {
  // A checkout with CRLF line ends (Windows, core.autocrlf) is read as LF
  // and written back as it came, so that drift is caught either way.
  const eol = original.includes('\r\n') ? '\r\n' : '\n';
  const text = original.replace(/\r\n/g, '\n');
  const errors: string[] = [];
  let out = text.replace(FENCE, (whole, fence: string, lang: string, source: string, name: string | undefined) => {
    const full = path.join(root, source);
    if (!existsSync(full)) {
      errors.push(`${rel(file)}: ${source} does not exist`);
      return whole;
    }
    const code = readFileSync(full, 'utf8');
    const snippet = name ? region(code, name) : wholeFile(code);
    if (snippet === undefined) {
      errors.push(`${rel(file)}: ${source} has no region "${name}" (// #region ${name} ... // #endregion)`);
      return whole;
    }
    return `${fence}${lang} ${source}${name ? `#${name}` : ''}\n${snippet}\n${fence}`;
  });
  const deckOf = steps.find((step) => path.resolve(file) === path.join(root, 'slides', `${step.slug}.md`));
  if (deckOf) {
    out = out.replace(YOUR_TURN, (whole, directive: string) => {
      const body = yourTurn(deckOf);
      if (body === undefined) {
        errors.push(`${rel(file)}: a "your-turn" slide, but step ${deckOf.number} has no EXERCISE.md`);
        return whole;
      }
      return `${directive}\n${body}\n\n`;
    });
  }
  if (path.basename(file) === 'README.md' && path.dirname(file) === root) {
    out = out.replace(/<!-- steps:start -->[\s\S]*?<!-- steps:end -->/, () => `<!-- steps:start -->\n${stepsTable()}\n<!-- steps:end -->`);
  }
  return { text: eol === '\n' ? out : out.replace(/\n/g, eol), errors };
}

/** The regions Markdown names, as "file#region", and those an exercise leaves to the learner. */
export function namedRegions(texts: string[]): Set<string> {
  const named = new Set<string>();
  for (const text of texts) for (const m of text.replace(/\r\n/g, '\n').matchAll(FENCE)) if (m[4]) named.add(`${m[3]}#${m[4]}`);
  for (const step of steps) {
    for (const marker of loadExercise(step)?.markers ?? []) {
      if (marker.where === 'from the step' && marker.anchor) named.add(`steps/${step.slug}/${marker.file}#${marker.anchor}`);
    }
  }
  return named;
}

/** Region markers in the steps' code that no Markdown names: noise in code a learner reads. */
export function unusedRegions(named: Set<string>): string[] {
  const unused: string[] = [];
  for (const step of steps) {
    for (const file of listFiles(stepDir(step)).filter((f) => /\.(ts|js|mjs|html|css)$/.test(f))) {
      const source = `steps/${step.slug}/${file}`;
      for (const m of readFileSync(path.join(stepDir(step), file), 'utf8').matchAll(/^\s*\/\/\s*#region\s+([\w-]+)/gm)) {
        if (!named.has(`${source}#${m[1]}`)) unused.push(`${source} has a region "${m[1]}" that no slide, README or exercise names: remove its // #region and // #endregion lines`);
      }
    }
  }
  return unused;
}

/** Every Markdown file that may hold generated parts. */
export function markdownFiles(): string[] {
  const files = [path.join(root, 'README.md')];
  for (const step of steps) files.push(path.join(stepDir(step), 'README.md'));
  const slides = path.join(root, 'slides');
  if (existsSync(slides)) {
    for (const name of readdirSync(slides)) if (name.endsWith('.md')) files.push(path.join(slides, name));
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
  const problems: string[] = [];
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
