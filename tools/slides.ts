// npm run slides: render every deck to one self-contained HTML file under
// slides/dist/, with an index page listing the decks and their minutes.
// npm run slides:pdf: PDFs too, with a system Chromium. The slide toolchain
// (Marp CLI) has its own package.json in slides/ and is installed on first
// use, so the workshop's install stays small.
//
// The decks, in the order they are given: opening.md, one deck per step of
// steps/steps.json (NN-slug.md), closing.md. A step whose deck is not written
// yet is left out until its file arrives. Every deck uses the one theme in
// slides/theme.css, and says how long it takes in its front matter
// (`minutes: 12`, which Marp ignores).
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from './child.ts';
import { findChromium, noBrowser } from './chromium.ts';
import { cli, fail, isMain } from './cli.ts';
import { root, steps, type Step } from './steps.ts';

export const slidesDir = path.join(root, 'slides');
export const marpCli = path.join(slidesDir, 'node_modules', '@marp-team', 'marp-cli', 'marp-cli.js');
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

const deck = (name: string, title: string, step?: Step): Deck => ({ name, file: path.join(slidesDir, `${name}.md`), title, step });

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
  const value = /^minutes:\s*(\d+(?:\.\d+)?)\s*$/m.exec(FRONT_MATTER.exec(markdown)?.[1] ?? '')?.[1];
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

export function countSlides(markdown: string): number {
  return splitSlides(markdown).length;
}

// Marp's directives: a comment holding only these is not a speaker note.
const DIRECTIVES = /^_?(theme|paginate|header|footer|class|backgroundColor|backgroundImage|backgroundPosition|backgroundRepeat|backgroundSize|color|size|headingDivider|style|lang|math|title|description|author|image|keywords|url|marp|transition|fit)\s*:/;

/** The speaker notes of one slide: its HTML comments that are not Marp directives. */
export function notesOf(slide: string): string[] {
  const notes: string[] = [];
  for (const [, body] of slide.matchAll(/<!--([\s\S]*?)-->/g)) {
    const text = body!.trim();
    if (text === 'fit' || text.split(/\r?\n/).every((line) => DIRECTIVES.test(line.trim()))) continue;
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
    ? spawnSync(process.execPath, [npm, 'ci', '--no-audit', '--no-fund'], { cwd: slidesDir, stdio: 'inherit' })
    : spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: slidesDir, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0 || !existsSync(marpCli)) fail('Could not install the slide toolchain: run npm ci in slides/ and try again.');
}

/** Images the decks use, inlined as data: URIs so each HTML file stands alone. */
export function inlineImages(html: string, from = slidesDir): string {
  return html.replace(/src="(diagrams\/[\w.-]+\.(svg|png))"/g, (whole, file: string, ext: string) => {
    const full = path.join(from, file);
    if (!existsSync(full)) return whole;
    const mime = ext === 'svg' ? 'image/svg+xml' : 'image/png';
    return `src="data:${mime};base64,${readFileSync(full).toString('base64')}"`;
  });
}

/** Links from deck to deck point at the rendered files: 01-hello-server.md becomes 01-hello-server.html. */
export function linkDecks(html: string, list: Deck[] = plannedDecks): string {
  const names = new Set(list.map((d) => d.name));
  return html.replace(/href="([\w-]+)\.md(#[\w-]*)?"/g, (whole, name: string, hash = '') => (names.has(name) ? `href="${name}.html${hash}"` : whole));
}

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The index page: every deck with its minutes, and the presenter's guide. */
export function indexPage(list: Deck[], options: { pdf?: boolean; guide?: boolean } = {}): string {
  let total = 0;
  const rows = list.map((d) => {
    const minutes = minutesOf(readFileSync(d.file, 'utf8'));
    total += minutes ?? 0;
    const pdf = options.pdf ? ` (<a href="${d.name}.pdf">PDF</a>)` : '';
    return `<tr><td><a href="${d.name}.html">${escapeHtml(d.title)}</a>${pdf}</td><td>${minutes ?? '?'} min</td></tr>`;
  });
  const guide = options.guide ? '<p>Presenting? Read the <a href="README.md">presenter\'s guide</a> first: the 45-minute talk, the 3-hour workshop, and the demo set-up.</p>' : '';
  return `<!doctype html><html lang="en"><meta charset="utf-8"><title>JSON Web Tokens with Koa: the decks</title>
<style>body{font:18px/1.5 system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em}table{border-collapse:collapse}td{padding:.25em 1em .25em 0}td+td{text-align:right}tfoot td{font-weight:600;border-top:1px solid #ccc}</style>
<h1>JSON Web Tokens with Koa</h1><p>One deck per step, with an opening and a closing. Press F for full screen, P for the presenter view with the speaker notes.</p>${guide}
<table><tbody>${rows.join('')}</tbody><tfoot><tr><td>All decks</td><td>${total} min</td></tr></tfoot></table></html>\n`;
}

export interface RenderOptions {
  /** A Chromium for PDFs too. */
  pdf?: string;
  /** The decks to render: every deck there is unless given (a test renders its own). */
  decks?: Deck[];
}

/** Render the decks into `out`: HTML always, PDF when a browser path is given. Returns the HTML files, in the decks' order. */
export async function render(out: string, options: RenderOptions = {}): Promise<string[]> {
  const list = options.decks ?? decks;
  // Marp renders a whole folder: stage the decks, the theme and the images on their own.
  const stage = mkdtempSync(path.join(tmpdir(), 'jwt-workshop-slides-'));
  try {
    for (const { file } of list) cpSync(file, path.join(stage, path.basename(file)));
    const diagrams = path.join(path.dirname(list[0]?.file ?? slidesDir), 'diagrams');
    if (existsSync(diagrams)) cpSync(diagrams, path.join(stage, 'diagrams'), { recursive: true });
    mkdirSync(out, { recursive: true });
    const marp = async (extra: string[]) => {
      const args = [marpCli, '--html', '--no-stdin', '--no-config-file', '-I', stage, '-o', out, '--theme-set', themeFile, ...extra];
      const { code, output } = await run(process.execPath, args);
      if (code !== 0) throw new Error(`Marp failed:\n${output}`);
    };
    await marp([]);
    if (options.pdf) await marp(['--pdf', '--allow-local-files', '--browser-path', options.pdf]);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  rmSync(path.join(out, 'diagrams'), { recursive: true, force: true });
  const files = list.map(({ file }) => path.join(out, path.basename(file).replace(/\.md$/, '.html')));
  for (const file of files) writeFileSync(file, linkDecks(inlineImages(readFileSync(file, 'utf8'), path.dirname(list[0]!.file)), [...plannedDecks, ...list]));
  if (!options.decks) {
    const guide = existsSync(guideFile);
    if (guide) copyFileSync(guideFile, path.join(out, 'README.md'));
    writeFileSync(path.join(out, 'index.html'), indexPage(list, { pdf: Boolean(options.pdf), guide }));
  }
  return files;
}

if (isMain(import.meta.url)) {
  const usage = `
Usage: npm run slides        render every deck to slides/dist/*.html (offline)
       npm run slides:pdf    and to PDF, with Chromium (CHROME_PATH, or /usr/bin/chromium)
Options:
  --pdf  also render PDFs`;
  const { values } = cli(usage, { pdf: { type: 'boolean' } }, { max: 0 });
  let browser: string | undefined;
  if (values.pdf) {
    browser = findChromium();
    if (!browser) fail(`PDFs need a browser. ${noBrowser()}`);
  }
  ensureToolchain();
  const out = path.join(slidesDir, 'dist');
  try {
    await render(out, { pdf: browser });
  } catch (err) {
    fail((err as Error).message);
  }
  console.log(`Rendered ${decks.length} decks${browser ? ' (HTML and PDF)' : ''}: open ${path.relative(process.cwd(), path.join(out, 'index.html'))}`);
}
