// npm run slides: render every deck to one self-contained HTML file under
// slides/dist/, with an index page listing the decks and their minutes, and
// Plan A of the presenter's guide as one deck of its own (plan-a.html, with
// its Markdown beside it). npm run slides -- --plan A renders only that.
// npm run slides:pdf: PDFs too, with a system Chromium. The slide toolchain
// (Marp CLI) has its own package.json in slides/ and is installed on first
// use, so the workshop's install stays small.
//
// The decks, in the order they are given: opening.md, one deck per step of
// steps/steps.json (NN-slug.md), closing.md. A step whose deck is not written
// yet is left out until its file arrives. Every deck uses the one theme in
// slides/theme.css, and says how long it takes in its front matter
// (`minutes: 12`, which Marp ignores).
//
// Three things Marp does not do, done here at render time:
//  - <div class="workshop-address"></div> becomes the workshop's address and
//    its QR code (WORKSHOP_URL, else the checkout's git remote);
//  - <div class="mark" data-mark="text"> around a code block marks the line
//    of the code that holds the text: the line that matters;
//  - images are inlined and links between decks point at the HTML files.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from './child.ts';
import { findChromium, noBrowser } from './chromium.ts';
import { cli, fail, isMain } from './cli.ts';
import { qrSvg } from './qr.ts';
import { root, steps, type Step } from './steps.ts';

export const slidesDir = path.join(root, 'slides');
export const marpCli = path.join(
  slidesDir,
  'node_modules',
  '@marp-team',
  'marp-cli',
  'marp-cli.js',
);
export const themeFile = path.join(slidesDir, 'theme.css');
export const guideFile = path.join(slidesDir, 'README.md');

export interface Deck {
  /** The file name without .md: opening, 00-jwt-anatomy, closing. */
  name: string;
  file: string;
  /** What the index page and the "Next:" links call it. */
  title: string;
  /** The step the deck teaches; none for the opening and the closing. */
  step?: Step;
}

const deck = (name: string, title: string, step?: Step): Deck => ({
  name,
  file: path.join(slidesDir, `${name}.md`),
  title,
  step,
});

/** Every deck the workshop has a place for, in order, written or not. */
export const plannedDecks: Deck[] = [
  deck('opening', 'Opening: JSON Web Tokens with Koa'),
  ...steps.map((step) => deck(step.slug, `Step ${step.slug.slice(0, 2)}: ${step.title}`, step)),
  deck('closing', 'Closing: what we built, what comes next'),
];

/** The decks there are: a step whose deck is still being written is left out. */
export const decks: Deck[] = plannedDecks.filter((d) => existsSync(d.file));

/** The deck after this one in `list`, or undefined for the last. */
export function nextDeck(current: Deck, list: Deck[] = decks): Deck | undefined {
  return list[list.findIndex((d) => d.name === current.name) + 1];
}

const FRONT_MATTER = /^---\r?\n([\s\S]*?)\r?\n---\r?\n/;

/** The deck's length in minutes, from `minutes:` in its front matter. */
export function minutesOf(markdown: string): number | undefined {
  const value = /^minutes:\s*(\d+(?:\.\d+)?)\s*$/m.exec(
    FRONT_MATTER.exec(markdown)?.[1] ?? '',
  )?.[1];
  return value === undefined ? undefined : Number(value);
}

/** The slides of a Marp deck: the parts between `---` lines, outside code fences and front matter. */
export function splitSlides(markdown: string): string[] {
  const lines = markdown.replace(FRONT_MATTER, '').split(/\r?\n/);
  const slides: string[][] = [[]];
  let fence: string | undefined;
  for (const line of lines) {
    const open = /^(```+|~~~+)/.exec(line);
    if (open) fence = fence === undefined ? open[1] : line.startsWith(fence) ? undefined : fence;
    if (fence === undefined && !open && line.trim() === '---') slides.push([]);
    else slides.at(-1)!.push(line);
  }
  return slides.map((s) => s.join('\n'));
}

// Marp's directives: a comment holding only these is not a speaker note.
const DIRECTIVES =
  /^_?(theme|paginate|header|footer|class|backgroundColor|backgroundImage|backgroundPosition|backgroundRepeat|backgroundSize|color|size|headingDivider|style|lang|math|title|description|author|image|keywords|url|marp|transition|fit)\s*:/;

/** The speaker notes of one slide: its HTML comments that are not Marp directives. */
export function notesOf(slide: string): string[] {
  const notes: string[] = [];
  for (const [, body] of slide.matchAll(/<!--([\s\S]*?)-->/g)) {
    const text = body!.trim();
    if (text === 'fit' || text.split(/\r?\n/).every((line) => DIRECTIVES.test(line.trim())))
      continue;
    notes.push(text);
  }
  return notes;
}

/** Install the slide toolchain from slides/package-lock.json, once. */
export function ensureToolchain(): void {
  if (existsSync(marpCli)) return;
  console.log('Installing the slide toolchain (Marp CLI) into slides/node_modules, once...');
  // npm_execpath is npm's own script when run through npm: no shell needed on Windows.
  const npm = process.env.npm_execpath;
  const result = npm
    ? spawnSync(process.execPath, [npm, 'ci', '--no-audit', '--no-fund'], {
        cwd: slidesDir,
        stdio: 'inherit',
      })
    : spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
        cwd: slidesDir,
        stdio: 'inherit',
        shell: process.platform === 'win32',
      });
  if (result.status !== 0 || !existsSync(marpCli))
    fail('Could not install the slide toolchain: run npm ci in slides/ and try again.');
}

/** Images the decks use, inlined as data: URIs so each HTML file stands alone. */
export function inlineImages(html: string, from = slidesDir): string {
  return html.replace(
    /src="(diagrams\/[\w.-]+\.(svg|png))"/g,
    (whole, file: string, ext: string) => {
      const full = path.join(from, file);
      if (!existsSync(full)) return whole;
      const mime = ext === 'svg' ? 'image/svg+xml' : 'image/png';
      return `src="data:${mime};base64,${readFileSync(full).toString('base64')}"`;
    },
  );
}

/** Links from deck to deck point at the rendered files: 01-hello-server.md becomes 01-hello-server.html. */
export function linkDecks(html: string, list: Deck[] = plannedDecks): string {
  const names = new Set(list.map((d) => d.name));
  return html.replace(/href="([\w-]+)\.md(#[\w-]*)?"/g, (whole, name: string, hash = '') =>
    names.has(name) ? `href="${name}.html${hash}"` : whole,
  );
}

/** The minutes each slide's notes give, "(1.5 min)"; undefined for a slide without. */
export function slideMinutes(markdown: string): (number | undefined)[] {
  return splitSlides(markdown).map((slide) => {
    const times = [
      ...notesOf(slide)
        .join('\n')
        .matchAll(/\((\d+(?:\.\d+)?) min\)/g),
    ].map((m) => Number(m[1]));
    return times.length ? times.reduce((a, b) => a + b, 0) : undefined;
  });
}

/** "1-5", "2, 4, 11" or "3, 6-8": slide numbers. */
export function slideNumbers(spec: string): number[] {
  return spec.split(',').flatMap((part) => {
    const [from, to = from] = part.trim().split('-').map(Number);
    return Array.from({ length: to! - from! + 1 }, (_, i) => from! + i);
  });
}

/** The rows of the first table under the "## " heading of the guide that starts with `heading`, cells trimmed. */
export function guideTable(guide: string, heading: string): string[][] {
  const section = guide.split(/^## /m).find((s) => s.startsWith(heading));
  if (!section) throw new Error(`slides/README.md has no "## ${heading}" section`);
  const rows: string[][] = [];
  for (const line of section.split(/\r?\n/)) {
    if (!line.startsWith('|')) {
      if (rows.length) break; // the table has ended
      continue;
    }
    if (/^\|[-| :]+\|$/.test(line)) continue;
    rows.push(
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    );
  }
  return rows.slice(1);
}

export interface PlanRow {
  part: string;
  /** The deck its slides come from; none for coding, a break or the buffer. */
  deck?: string;
  slides: number[];
  minutes?: number;
  /** The Total row. */
  total?: boolean;
}

/** A plan of the guide ("A" for "## Plan A: ..."), row by row, as its table says. */
export function planRows(letter: string, guide = readFileSync(guideFile, 'utf8')): PlanRow[] {
  return guideTable(guide, `Plan ${letter}`).map(
    ([part = '', deck = '', slides = '', minutes = '']) => ({
      part,
      deck: deck || undefined,
      slides: deck && slides ? slideNumbers(slides) : [],
      minutes: minutes ? Number(minutes.replace(/\*/g, '')) : undefined,
      total: /\*\*Total\*\*/.test(part),
    }),
  );
}

export interface Plan {
  /** plan-a: the name of its files in slides/dist/. */
  name: string;
  /** The guide's heading: "Plan A: a 45-minute talk". */
  heading: string;
  title: string;
  markdown: string;
  /** How many slides, and the minutes their notes give. */
  slides: number;
  minutes: number;
}

// A deck's last line that links the next deck, or the first: in a plan the
// next slide is simply the next one.
const DECK_LINK = /^(?:Next|Back to the start): \[[^\]]*\]\([\w-]+\.md\)[ \t]*$/gm;

/**
 * One deck for a plan of the guide: the slides its table names, from the
 * decks themselves, in its order. Each slide's notes say where it comes
 * from; the first slide's give the plan's minutes.
 */
export function assemblePlan(letter: string, guide = readFileSync(guideFile, 'utf8')): Plan {
  const heading = /^## (Plan [A-Z]\b.*)$/m.exec(
    guide.split(/^(?=## )/m).find((s) => s.startsWith(`## Plan ${letter}`)) ?? '',
  )?.[1];
  if (!heading)
    throw new Error(`slides/README.md has no "## Plan ${letter}" section: its plans are A and B.`);
  const chosen: { text: string; minutes: number }[] = [];
  for (const row of planRows(letter, guide)) {
    if (!row.deck) continue;
    const deck = decks.find((d) => d.name === row.deck);
    if (!deck) throw new Error(`Plan ${letter}: "${row.deck}" is not a deck in slides/`);
    const markdown = readFileSync(deck.file, 'utf8');
    const slides = splitSlides(markdown);
    const minutes = slideMinutes(markdown);
    for (const n of row.slides) {
      const slide = slides[n - 1];
      if (slide === undefined)
        throw new Error(`Plan ${letter}: ${row.deck} has no slide ${n} (it has ${slides.length})`);
      const source = `From ${deck.name}.md, slide ${n}.`;
      let text = slide
        .replace(DECK_LINK, '')
        .replace(/^\(deck: [\d.]+ min\)\r?\n/m, '')
        .trim();
      const end = text.lastIndexOf('-->');
      text =
        end >= 0 && notesOf(text).length
          ? `${text.slice(0, end).trimEnd()}\n${source}\n${text.slice(end)}`
          : `${text}\n\n<!--\n${source}\n-->`;
      chosen.push({ text, minutes: minutes[n - 1] ?? 0 });
    }
  }
  const total = chosen.reduce((a, s) => a + s.minutes, 0);
  if (chosen[0]) {
    const first = chosen[0];
    const end = first.text.lastIndexOf('-->');
    first.text = `${first.text.slice(0, end).trimEnd()}\n(deck: ${total} min)\n${first.text.slice(end)}`;
  }
  const title = `JSON Web Tokens with Koa: ${heading.replace(/^Plan [A-Z]: /, '')}`;
  const front = [
    '---',
    `# Made by npm run slides from the "${heading}" table of slides/README.md:`,
    '# edit the decks or that table, not this file.',
    'marp: true',
    'theme: workshop',
    'lang: en',
    'paginate: true',
    `title: ${JSON.stringify(title)}`,
    `minutes: ${total}`,
    '---',
  ].join('\n');
  return {
    name: `plan-${letter.toLowerCase()}`,
    heading,
    title,
    markdown: `${front}\n\n${chosen.map((s) => s.text).join('\n\n---\n\n')}\n`,
    slides: chosen.length,
    minutes: total,
  };
}

// The workshop's address on the opening and closing slides.
export const ADDRESS_SLOT = '<div class="workshop-address"></div>';

/** A git remote as the address a browser opens: git@host:o/r.git -> https://host/o/r, never with credentials. */
export function webAddress(remote: string): string | undefined {
  const scp = /^[\w.-]+@([\w.-]+):(?!\/)(.+?)(?:\.git)?\/?$/.exec(remote.trim());
  if (scp) return `https://${scp[1]}/${scp[2]}`;
  let url: URL;
  try {
    url = new URL(remote.trim());
  } catch {
    return undefined;
  }
  const repo = url.pathname.replace(/\.git\/?$/, '').replace(/\/$/, '');
  if (url.protocol === 'https:' || url.protocol === 'http:')
    return `${url.protocol}//${url.host}${repo}`;
  if (url.protocol === 'ssh:' || url.protocol === 'git:') return `https://${url.hostname}${repo}`;
  return undefined;
}

/** WORKSHOP_URL, else the checkout's git remote (origin first), else undefined. */
export function workshopUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const set = env.WORKSHOP_URL?.trim();
  if (set) return set;
  const git = spawnSync('git', ['config', '--get-regexp', '^remote\\..*\\.url$'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (git.status !== 0 || typeof git.stdout !== 'string') return undefined;
  const remotes = git.stdout
    .split(/\r?\n/)
    .map((line) => /^remote\.(.+)\.url (.+)$/.exec(line))
    .filter((m) => m !== null);
  const remote = remotes.find((m) => m[1] === 'origin') ?? remotes[0];
  return remote && webAddress(remote[2]!);
}

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** What fills the address slot: the address and its QR code, or how to set it. */
export async function addressHtml(url: string | undefined): Promise<string> {
  if (!url)
    return '<div class="workshop-address"><p>The workshop\'s address goes here: <code>WORKSHOP_URL=https://... npm run slides</code></p></div>';
  const qr = Buffer.from(await qrSvg(url)).toString('base64');
  return `<div class="workshop-address"><img alt="QR code of ${escapeHtml(url)}" src="data:image/svg+xml;base64,${qr}"><p><a href="${escapeHtml(url)}">${escapeHtml(url)}</a></p></div>`;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const decodeHtml = (text: string) =>
  text.replace(/&(#x[\da-f]+|#\d+|\w+);/gi, (whole, name: string) =>
    name[0] === '#'
      ? String.fromCodePoint(Number(name[1] === 'x' ? `0${name.slice(1)}` : name.slice(1)))
      : (ENTITIES[name] ?? whole),
  );

/** One line of highlighted code with its text marked: each run of text between tags, the indent left out. */
function markLine(line: string): string {
  let started = false;
  return line.replace(/(<[^>]*>)|([^<]+)/g, (whole, tag?: string, text?: string) => {
    if (tag !== undefined || text === undefined) return whole;
    if (started) return `<mark>${text}</mark>`;
    if (text.trim() === '') return text;
    started = true;
    const indent = /^\s*/.exec(text)![0];
    return `${indent}<mark>${text.slice(indent.length)}</mark>`;
  });
}

/**
 * The line that matters: in <div class="mark" data-mark="text"> around a
 * code block, the line of the code holding the text is marked. A text that
 * no line holds (the step's code changed) is an error naming the deck.
 */
export function markLines(html: string, deck: string): string {
  return html.replace(
    /(<div class="mark" data-mark="([^"]*)">\s*<pre[^>]*>\s*<code[^>]*>)([\s\S]*?)(<\/code>)/g,
    (whole, head: string, mark: string, code: string, tail: string) => {
      const wanted = decodeHtml(mark);
      const lines = code.split('\n');
      const i = lines.findIndex((line) =>
        decodeHtml(line.replace(/<[^>]*>/g, '')).includes(wanted),
      );
      if (i < 0)
        throw new Error(
          `${deck}: no line of the code in <div class="mark" data-mark="${wanted}"> holds "${wanted}": mark a line the code has`,
        );
      lines[i] = markLine(lines[i]!);
      return `${head}${lines.join('\n')}${tail}`;
    },
  );
}

/** The index page: every deck with its minutes, the plans as one deck each, and the presenter's guide. */
export function indexPage(
  list: Deck[],
  options: { pdf?: boolean; guide?: boolean; plans?: Plan[] } = {},
): string {
  let total = 0;
  const rows = list.map((d) => {
    const minutes = minutesOf(readFileSync(d.file, 'utf8'));
    total += minutes ?? 0;
    const pdf = options.pdf ? ` (<a href="${d.name}.pdf">PDF</a>)` : '';
    return `<tr><td><a href="${d.name}.html">${escapeHtml(d.title)}</a>${pdf}</td><td>${minutes ?? '?'} min</td></tr>`;
  });
  const guide = options.guide
    ? '<p>Presenting? Read the <a href="README.md">presenter\'s guide</a> first: the 45-minute talk, the 3-hour workshop, and the demo set-up.</p>'
    : '';
  const plans = (options.plans ?? [])
    .map(
      (p) =>
        `<p>${escapeHtml(p.heading)}, as one deck: <a href="${p.name}.html">${p.name}.html</a> (${p.slides} slides, ${p.minutes} min of notes).</p>`,
    )
    .join('');
  return `<!doctype html><html lang="en"><meta charset="utf-8"><title>JSON Web Tokens with Koa: the decks</title>
<style>body{font:18px/1.5 system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em}table{border-collapse:collapse}td{padding:.25em 1em .25em 0}td+td{text-align:right}tfoot td{font-weight:600;border-top:1px solid #ccc}</style>
<h1>JSON Web Tokens with Koa</h1><p>One deck per step, with an opening and a closing. Press F for full screen, P for the presenter view with the speaker notes.</p>${guide}${plans}
<table><tbody>${rows.join('')}</tbody><tfoot><tr><td>All decks</td><td>${total} min</td></tr></tfoot></table></html>\n`;
}

export interface RenderOptions {
  /** A Chromium for PDFs too. */
  pdf?: string;
  /** The decks to render: every deck there is unless given (a test renders its own). */
  decks?: Deck[];
  /** Plans rendered as decks of their own, beside their Markdown (assemblePlan). */
  plans?: Plan[];
  /** The folder whose diagrams/ the decks show: the first deck's folder unless given. */
  assets?: string;
  /** The workshop's address for the opening and closing slides: workshopUrl() unless given. */
  url?: string;
  /**
   * Marp's HTML of each deck, kept by a key of all it depends on (the tests
   * keep it in node_modules/.cache): a deck is rendered again only when its
   * Markdown as staged, the theme, the images, the installed Marp toolchain
   * or Node changed. What follows Marp (images, marks, links, the index) runs
   * every time. Not with PDFs.
   */
  cache?: {
    get(key: string): string | undefined;
    set(key: string, html: string): void;
  };
}

// Marp's options, the same for every deck; the folders are added per run.
const MARP_HTML = ['--html', '--no-stdin', '--no-config-file'];
// npm's record of the installed slide toolchain: every package's version and integrity.
const toolchainLock = path.join(slidesDir, 'node_modules', '.package-lock.json');

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

// Where Marp takes a deck's default language from (<html lang>), in its order.
const LOCALE = ['LC_ALL', 'LC_MESSAGES', 'LANG', 'LANGUAGE'] as const;

/**
 * What Marp's HTML of any deck depends on besides its own Markdown: the
 * toolchain, Node, the options, the locale, the theme and the images.
 * Undefined when the toolchain cannot be named (not installed by npm) or the
 * locale is not in the environment (Marp then asks the system): nothing is kept.
 */
function marpInputs(diagrams: string): string | undefined {
  const locale = LOCALE.map((name) => process.env[name] ?? '');
  if (!existsSync(toolchainLock) || locale.every((value) => value === '')) return undefined;
  const parts = [
    process.version,
    ...locale,
    sha256(readFileSync(toolchainLock)),
    MARP_HTML.join(' '),
    sha256(readFileSync(themeFile)),
  ];
  if (existsSync(diagrams))
    for (const entry of readdirSync(diagrams, { recursive: true, withFileTypes: true }).sort(
      (a, b) => (path.join(a.parentPath, a.name) < path.join(b.parentPath, b.name) ? -1 : 1),
    ))
      if (entry.isFile()) {
        const file = path.join(entry.parentPath, entry.name);
        parts.push(path.relative(diagrams, file), sha256(readFileSync(file)));
      }
  return sha256(parts.join('\n'));
}

/** Render the decks and plans into `out`: HTML always, PDF when a browser path is given. Returns the HTML files, decks first, in order. */
export async function render(out: string, options: RenderOptions = {}): Promise<string[]> {
  const list = options.decks ?? decks;
  const plans = options.plans ?? [];
  const assets = options.assets ?? (list[0] ? path.dirname(list[0].file) : slidesDir);
  const sources = [
    ...list.map((d) => ({ name: d.name, markdown: readFileSync(d.file, 'utf8') })),
    ...plans.map((p) => ({ name: p.name, markdown: p.markdown })),
  ];
  const address = sources.some((s) => s.markdown.includes(ADDRESS_SLOT))
    ? await addressHtml('url' in options ? options.url : workshopUrl())
    : '';
  const staged = sources.map(({ name, markdown }) => ({
    name,
    markdown: markdown.split(ADDRESS_SLOT).join(address),
  }));
  const diagrams = path.join(assets, 'diagrams');
  // Each deck's key: the hash of all its HTML depends on. Its kept HTML is
  // read now, before Marp renders the rest.
  const inputs = options.cache && !options.pdf ? marpInputs(diagrams) : undefined;
  const keys = new Map(
    inputs === undefined
      ? []
      : staged.map(({ name, markdown }) => [name, sha256(`${inputs}\n${name}\n${markdown}`)]),
  );
  const hits = new Map<string, string>();
  for (const [name, key] of keys) {
    const html = options.cache!.get(key);
    if (html !== undefined) hits.set(name, html);
  }
  const toRender = staged.filter(({ name }) => !hits.has(name));
  const runMarp = inputs === undefined || toRender.length > 0;
  // Marp renders a whole folder: stage the decks, the theme and the images on their own.
  const stage = mkdtempSync(path.join(tmpdir(), 'jwt-workshop-slides-'));
  mkdirSync(out, { recursive: true });
  try {
    for (const { name, markdown } of toRender)
      writeFileSync(path.join(stage, `${name}.md`), markdown);
    for (const plan of plans) writeFileSync(path.join(out, `${plan.name}.md`), plan.markdown);
    if (runMarp && existsSync(diagrams))
      cpSync(diagrams, path.join(stage, 'diagrams'), { recursive: true });
    const marp = async (extra: string[]) => {
      const args = [
        marpCli,
        ...MARP_HTML,
        '-I',
        stage,
        '-o',
        out,
        '--theme-set',
        themeFile,
        ...extra,
      ];
      const { code, output } = await run(process.execPath, args);
      if (code !== 0) throw new Error(`Marp failed:\n${output}`);
    };
    if (runMarp) await marp([]);
    if (options.pdf) await marp(['--pdf', '--allow-local-files', '--browser-path', options.pdf]);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  for (const { name } of staged) {
    const key = keys.get(name);
    if (key === undefined) continue;
    const html = path.join(out, `${name}.html`);
    const hit = hits.get(name);
    if (hit !== undefined) writeFileSync(html, hit);
    options.cache!.set(key, hit ?? readFileSync(html, 'utf8'));
  }
  rmSync(path.join(out, 'diagrams'), { recursive: true, force: true });
  const files = sources.map(({ name }) => path.join(out, `${name}.html`));
  for (const [i, file] of files.entries())
    writeFileSync(
      file,
      linkDecks(
        markLines(inlineImages(readFileSync(file, 'utf8'), assets), `${sources[i]!.name}.md`),
        [...plannedDecks, ...list],
      ),
    );
  if (!options.decks) {
    const guide = existsSync(guideFile);
    if (guide) copyFileSync(guideFile, path.join(out, 'README.md'));
    writeFileSync(
      path.join(out, 'index.html'),
      indexPage(list, { pdf: Boolean(options.pdf), guide, plans }),
    );
  }
  return files;
}

if (isMain(import.meta.url)) {
  const usage = `
Usage: npm run slides                render every deck, and Plan A as one deck, to slides/dist/ (offline)
       npm run slides -- --plan A    only Plan A: slides/dist/plan-a.html, with plan-a.md beside it
       npm run slides:pdf            and to PDF, with Chromium (CHROME_PATH, or /usr/bin/chromium)
Options:
  --plan <letter>  one plan of slides/README.md (A: the 45-minute talk) as one deck
  --pdf            also render PDFs
Environment:
  WORKSHOP_URL     the workshop's address, shown with its QR code on the opening
                   and closing slides (default: this checkout's git remote)`;
  const { values } = cli(usage, { pdf: { type: 'boolean' }, plan: { type: 'string' } }, { max: 0 });
  let browser: string | undefined;
  if (values.pdf) {
    browser = findChromium();
    if (!browser) fail(`PDFs need a browser. ${noBrowser()}`);
  }
  let plan: Plan;
  try {
    plan = assemblePlan((values.plan ?? 'A').toUpperCase());
  } catch (err) {
    fail((err as Error).message);
  }
  ensureToolchain();
  const out = path.join(slidesDir, 'dist');
  const url = workshopUrl();
  try {
    await render(out, {
      pdf: browser,
      plans: [plan],
      url,
      ...(values.plan === undefined ? {} : { decks: [], assets: slidesDir }),
    });
  } catch (err) {
    fail((err as Error).message);
  }
  const where = (file: string) => path.relative(process.cwd(), path.join(out, file));
  console.log(
    url
      ? `Workshop address on the opening and closing slides: ${url}`
      : 'No workshop address: set WORKSHOP_URL (or a git remote) to show it, with its QR code.',
  );
  console.log(
    `${plan.heading}: ${plan.slides} slides, ${plan.minutes} min of notes: ${where(`${plan.name}.html`)} (and ${plan.name}.md)`,
  );
  if (values.plan === undefined)
    console.log(
      `Rendered ${decks.length} decks${browser ? ' (HTML and PDF)' : ''}: open ${where('index.html')}`,
    );
}
