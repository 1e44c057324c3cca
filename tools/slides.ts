// npm run slides: render every deck to one self-contained HTML file under
// slides/dist/, with an index page. npm run slides:pdf: PDFs too, with a
// system Chromium. The slide toolchain (Marp CLI) has its own package.json in
// slides/ and is installed on first use, so the workshop's install stays small.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from './child.ts';
import { findChromium } from './chromium.ts';
import { cli, fail, isMain } from './cli.ts';
import { root, steps } from './steps.ts';

export const slidesDir = path.join(root, 'slides');
export const marpCli = path.join(slidesDir, 'node_modules', '@marp-team', 'marp-cli', 'marp-cli.js');
export const decks = steps.map((step) => ({ step, file: path.join(slidesDir, `${step.slug}.md`) }));

/** Slides in a Marp deck: the parts between `---` lines, outside code fences and front matter. */
export function countSlides(markdown: string): number {
  const lines = markdown.replace(/^---\r?\n[\s\S]*?\r?\n---\r?\n/, '').split(/\r?\n/);
  let fence: string | undefined;
  let count = 1;
  for (const line of lines) {
    const open = /^(```+|~~~+)/.exec(line);
    if (open) fence = fence === undefined ? open[1] : line.startsWith(fence) ? undefined : fence;
    else if (fence === undefined && line.trim() === '---') count += 1;
  }
  return count;
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
export function inlineImages(html: string): string {
  return html.replace(/src="(diagrams\/[\w.-]+\.(svg|png))"/g, (whole, file: string, ext: string) => {
    const full = path.join(slidesDir, file);
    if (!existsSync(full)) return whole;
    const mime = ext === 'svg' ? 'image/svg+xml' : 'image/png';
    return `src="data:${mime};base64,${readFileSync(full).toString('base64')}"`;
  });
}

/** Render the decks into `out`: HTML always, PDF when a browser path is given. Returns the HTML files. */
export async function render(out: string, options: { pdf?: string } = {}): Promise<string[]> {
  // Marp renders a whole folder: stage the decks (and their images) on their own.
  const stage = mkdtempSync(path.join(tmpdir(), 'jwt-workshop-slides-'));
  try {
    for (const { file } of decks) cpSync(file, path.join(stage, path.basename(file)));
    if (existsSync(path.join(slidesDir, 'diagrams'))) cpSync(path.join(slidesDir, 'diagrams'), path.join(stage, 'diagrams'), { recursive: true });
    mkdirSync(out, { recursive: true });
    const marp = async (extra: string[]) => {
      const { code, output } = await run(process.execPath, [marpCli, '--html', '--no-stdin', '-I', stage, '-o', out, ...extra]);
      if (code !== 0) throw new Error(`Marp failed:\n${output}`);
    };
    await marp([]);
    if (options.pdf) await marp(['--pdf', '--allow-local-files', '--browser-path', options.pdf]);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  const files = decks.map(({ file }) => path.join(out, path.basename(file).replace(/\.md$/, '.html')));
  for (const file of files) writeFileSync(file, inlineImages(readFileSync(file, 'utf8')));
  rmSync(path.join(out, 'diagrams'), { recursive: true, force: true });
  const links = decks.map(({ step }) => `<li><a href="${step.slug}.html">${step.slug.slice(0, 2)}. ${step.title}</a>${options.pdf ? ` (<a href="${step.slug}.pdf">PDF</a>)` : ''}</li>`);
  writeFileSync(
    path.join(out, 'index.html'),
    `<!doctype html><html lang="en"><meta charset="utf-8"><title>JSON Web Tokens with Koa: the decks</title>
<style>body{font:18px/1.5 system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em}</style>
<h1>JSON Web Tokens with Koa</h1><p>One deck per step. Press F for full screen, P for the presenter view.</p><ol start="0">${links.join('')}</ol></html>\n`,
  );
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
    if (!browser) fail('No Chromium found for PDFs: install Chrome or Chromium (Debian/Ubuntu: apt-get install chromium), or set CHROME_PATH to one.');
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
