// The fit check of the decks: every slide of every rendered deck measured in
// a headless Chromium at 1280x720, as drawn. Marp draws each slide as an SVG
// scaled to the window; sizes here are given on the 1280x720 slide, after
// every transform (a scale Marp applies shows up as a smaller size).
//
// A slide fails when
//  - an element or a line of text ends below, right of, above or left of it,
//    or in its bottom or right margin (the bottom one holds the page number);
//  - a code block or a table is cut off inside its own box;
//  - a line of code wraps: a code block draws more lines than its source has
//    (the continuation starts at column 0 and loses its indentation);
//  - code is drawn under 20 px, other text under 24 px;
//  - a label of an SVG diagram is drawn under 18 px;
//  - a screenshot (PNG) is drawn at under 75% of its size.
//
// A slide is measured once: one the same as a slide measured before (Plan A's
// are the decks' own, but for their number) takes its result. The tests keep
// results by content in node_modules/.cache: a slide is drawn again only when
// its HTML, its page, the browser, the fonts or this file changed.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { run } from '../../tools/child.ts';
import { chromiumLaunch } from '../../tools/chromium.ts';
import { root } from '../../tools/steps.ts';
import type { Browser, Page } from './browser.ts';
import { cacheKey, keeping, keptResults } from '../../tools/cache.ts';

export const LIMITS = { code: 20, text: 24, label: 18, imageScale: 0.75 };

export interface Problem {
  /** The deck's file name, 05-final-app.md. */
  deck: string;
  /** 1 for the first slide. */
  slide: number;
  /** The element: its tag and the start of its text, <pre> "npm run step 5...". */
  element: string;
  /** What is wrong, with the size: "ends 164 px below the slide". */
  what: string;
}

export const describe = (p: Problem) => `${p.deck} slide ${p.slide}: ${p.element} ${p.what}`;

export interface DeckSize {
  deck: string;
  slides: number;
  /** The smallest code block text as drawn, in px, and where; undefined for a deck without one. */
  smallestCode?: { px: number; slide: number };
  /** The same for `inline code` in text and tables. */
  smallestInlineCode?: { px: number; slide: number };
}

// Runs in the page: a string, so that neither DOM types nor a bundler are needed.
const MEASURE = `(async (limits, count, only) => {
  // The slides: each an <svg> of its own (one whose <section> is cut in
  // layers for a background image holds several).
  const svgs = [...document.querySelectorAll('svg[data-marpit-svg]')].filter((svg) => !svg.parentElement.closest('svg[data-marpit-svg]'));
  if (svgs.length !== count) return { count: svgs.length, slides: [] };
  // The bespoke template skips the layout of every slide but the one shown
  // (content-visibility: hidden); lay out the slides to measure at once, as
  // each is drawn when shown, rather than one forced layout per measurement.
  // The others are not drawn at all.
  for (const index of only) svgs[index].style.setProperty('content-visibility', 'visible', 'important');
  await document.fonts.ready;
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  const results = [];
  const round = (n) => Math.round(n * 10) / 10;
  const describeEl = (el) => {
    const text = (el.textContent || el.getAttribute('alt') || '').replace(/\\s+/g, ' ').trim();
    return '<' + el.tagName.toLowerCase() + '>' + (text ? ' "' + (text.length > 40 ? text.slice(0, 40) + '...' : text) + '"' : '');
  };
  const clipping = new Map();
  const clips = (el) => {
    if (!clipping.has(el)) {
      const s = getComputedStyle(el);
      clipping.set(el, s.overflowX !== 'visible' || s.overflowY !== 'visible');
    }
    return clipping.get(el);
  };
  for (const index of only) {
    const slide = index + 1;
    const problems = [];
    const sizes = { smallestCode: undefined, smallestInlineCode: undefined };
    results.push({ problems, sizes });
    for (const section of svgs[index].querySelectorAll(':scope > foreignObject > section')) {
      const box = section.getBoundingClientRect();
      const scale = box.width / 1280;
      // Content ends where the padding begins: the bottom padding holds the page number.
      const style = getComputedStyle(section);
      const content = {
        right: box.right - parseFloat(style.paddingRight) * scale,
        bottom: box.bottom - parseFloat(style.paddingBottom) * scale,
      };
      const add = (el, what) => problems.push({ element: typeof el === 'string' ? el : describeEl(el), what });
      // Inside an element that clips (a code block, a table), that element is measured, not its content.
      const inside = new Map();
      const clipped = (el) => {
        const parent = el.parentElement;
        if (!parent || parent === section) return false;
        if (!inside.has(parent)) inside.set(parent, clips(parent) || clipped(parent));
        return inside.get(parent);
      };
      const outside = (r) => {
        const out = [];
        if (r.bottom > box.bottom + 1) out.push('ends ' + round((r.bottom - box.bottom) / scale) + ' px below the slide');
        else if (r.bottom > content.bottom + 4 * scale) out.push('ends ' + round((r.bottom - content.bottom) / scale) + ' px into the bottom margin, over the page number');
        if (r.right > box.right + 1) out.push('ends ' + round((r.right - box.right) / scale) + ' px right of the slide');
        else if (r.right > content.right + 4 * scale) out.push('ends ' + round((r.right - content.right) / scale) + ' px into the right margin');
        if (r.top < box.top - 1) out.push('starts ' + round((box.top - r.top) / scale) + ' px above the slide');
        if (r.left < box.left - 1) out.push('starts ' + round((box.left - r.left) / scale) + ' px left of the slide');
        return out;
      };
      // One problem of each kind per element: where it is, how large it is drawn.
      // Inside an element already outside the slide, its content is not named again.
      const placed = new Set();
      const sized = new Set();
      const withinPlaced = (el) => {
        for (let p = el; p && p !== section; p = p.parentElement) if (placed.has(p)) return true;
        return false;
      };
      for (const el of section.querySelectorAll('*')) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) continue;
        if (!clipped(el) && !withinPlaced(el)) for (const what of outside(r)) if (!placed.has(el)) { placed.add(el); add(el, what); }
        if (clips(el) && el.closest('section') === section) {
          if (el.scrollWidth > el.clientWidth + 1) add(el, 'is cut off at the right: ' + (el.scrollWidth - el.clientWidth) + ' px of it do not show');
          if (el.scrollHeight > el.clientHeight + 1) add(el, 'is cut off at the bottom: ' + (el.scrollHeight - el.clientHeight) + ' px of it do not show');
        }
      }
      // Text: where every line of it is drawn, and how large.
      const walker = document.createTreeWalker(section, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!node.textContent.trim()) continue;
        const el = node.parentElement;
        const range = document.createRange();
        range.selectNodeContents(node);
        const rects = [...range.getClientRects()].filter((r) => r.width > 0 && r.height > 0);
        if (rects.length === 0) continue;
        if (!clipped(el) && !withinPlaced(el)) {
          for (const r of rects) for (const what of outside(r)) if (!placed.has(el)) { placed.add(el); add(el, what); }
        }
        // Drawn size: the computed size times every transform between the element and the slide.
        // offsetWidth is rounded to whole pixels: a scale within 2% of 1 is 1.
        const measured = el.offsetWidth > 0 ? el.getBoundingClientRect().width / el.offsetWidth : 1;
        const elementScale = Math.abs(measured - 1) < 0.02 ? 1 : measured;
        const px = round(parseFloat(getComputedStyle(el).fontSize) * elementScale / scale);
        const block = el.closest('pre, marp-pre');
        const code = block || el.closest('code');
        if (code) {
          const key = block ? 'smallestCode' : 'smallestInlineCode';
          if (sizes[key] === undefined || px < sizes[key]) sizes[key] = px;
          if (px < limits.code && !sized.has(code)) { sized.add(code); add(code, 'has code drawn at ' + px + ' px, under ' + limits.code + ' px'); }
        } else if (px < limits.text && !sized.has(el)) {
          sized.add(el);
          add(el, 'has text drawn at ' + px + ' px, under ' + limits.text + ' px');
        }
      }
      // Code blocks: every source line drawn on one line. A line that wraps
      // goes on at column 0, without its indentation, and reads as another
      // statement. Each text node is split at its newlines; a source line
      // whose pieces are drawn at more than one height has wrapped.
      for (const pre of section.querySelectorAll('pre, marp-pre')) {
        if (pre.parentElement && pre.parentElement.closest('pre, marp-pre')) continue;
        const code = pre.querySelector('code') || pre;
        const tops = [[]];
        const codeWalker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
        for (let node = codeWalker.nextNode(); node; node = codeWalker.nextNode()) {
          const parts = node.textContent.split('\\n');
          let offset = 0;
          for (const [i, part] of parts.entries()) {
            if (i > 0) tops.push([]);
            if (part.trim()) {
              const range = document.createRange();
              range.setStart(node, offset);
              range.setEnd(node, offset + part.length);
              for (const r of range.getClientRects()) if (r.width > 0 && r.height > 0) tops.at(-1).push(r);
            }
            offset += part.length + 1;
          }
        }
        const sourceLines = code.textContent.replace(/\\n$/, '').split('\\n');
        const wrapped = [];
        for (const [i, rects] of tops.entries()) {
          if (rects.length < 2) continue;
          const sorted = rects.map((r) => ({ top: r.top, height: r.height })).sort((a, b) => a.top - b.top);
          // Pieces of one line differ in height by a pixel or two (spans of the
          // highlighter); a new drawn line starts at least half a line lower.
          if (sorted.some((r, j) => j > 0 && r.top - sorted[j - 1].top > sorted[j - 1].height / 2)) wrapped.push(sourceLines[i] || '');
        }
        if (wrapped.length) {
          const longest = Math.max(...wrapped.map((line) => line.length));
          add(pre, 'has ' + wrapped.length + (wrapped.length === 1 ? ' line that wraps' : ' lines that wrap') + ' (the longest is ' + longest + ' characters)');
        }
      }
      // Images: the labels of an SVG diagram, the pixels of a screenshot.
      for (const img of section.querySelectorAll('img')) {
        const r = img.getBoundingClientRect();
        const src = img.getAttribute('src') || '';
        const name = img.getAttribute('alt') || src.slice(0, 30);
        const svg = /^data:image\\/svg\\+xml;base64,(.*)$/.exec(src);
        if (svg) {
          const doc = new DOMParser().parseFromString(atob(svg[1]), 'image/svg+xml');
          const root = doc.documentElement;
          const viewBox = (root.getAttribute('viewBox') || '').split(/[ ,]+/).map(Number);
          const width = viewBox.length === 4 ? viewBox[2] : parseFloat(root.getAttribute('width'));
          const drawn = r.width / width / scale;
          const sizeOf = (node) => {
            for (let n = node; n && n.getAttribute; n = n.parentNode) {
              const style = /font-size:\\s*([\\d.]+)/.exec(n.getAttribute('style') || '');
              if (style) return parseFloat(style[1]);
              if (n.getAttribute('font-size')) return parseFloat(n.getAttribute('font-size'));
            }
            return 16;
          };
          for (const text of doc.querySelectorAll('text, tspan')) {
            if (!text.textContent.trim() || text.querySelector('tspan')) continue;
            const px = round(sizeOf(text) * drawn);
            if (px < limits.label) { add('<img> "' + name.slice(0, 30) + '"', 'has the label "' + text.textContent.trim().slice(0, 30) + '" drawn at ' + px + ' px, under ' + limits.label + ' px'); break; }
          }
        } else if (img.naturalWidth > 0) {
          const drawn = r.width / img.naturalWidth / scale;
          if (drawn < limits.imageScale) add('<img> "' + name.slice(0, 30) + '"', 'is drawn at ' + Math.round(drawn * 100) + '% of its ' + img.naturalWidth + 'x' + img.naturalHeight + ' pixels, under ' + Math.round(limits.imageScale * 100) + '%: its text is too small to read');
        }
      }
    }
  }
  return { count, slides: results };
})`;

/** What the page found on one slide: its problems, and its smallest code as drawn. */
interface SlideResult {
  problems: Omit<Problem, 'deck' | 'slide'>[];
  sizes: { smallestCode?: number; smallestInlineCode?: number };
}

/**
 * A rendered deck cut into its slides: each slide's <svg>, and the rest of
 * the page. Slides are found as the page finds them, and the page is asked
 * to agree on their count.
 */
function cut(html: string): { slides: string[]; frame: string } {
  const slides: string[] = [];
  let frame = '';
  let from = 0;
  for (let start = html.indexOf('<svg data-marpit-svg', from); start >= 0;) {
    const tags = /<svg\b|<\/svg>/g;
    tags.lastIndex = start;
    let depth = 0;
    let end = html.length;
    for (let tag = tags.exec(html); tag; tag = tags.exec(html)) {
      depth += tag[0] === '</svg>' ? -1 : 1;
      if (depth === 0) {
        end = tag.index + tag[0].length;
        break;
      }
    }
    frame += html.slice(from, start);
    slides.push(html.slice(start, end));
    from = end;
    start = html.indexOf('<svg data-marpit-svg', from);
  }
  return { slides, frame: frame + html.slice(from) };
}

/**
 * Whether a slide's place in its deck can change how it is drawn. Marp scopes
 * a theme's rules to one slide, so only the slide's number can reach in: its
 * id and its page number, drawn by section::after outside the flow. A CSS
 * counter, a rule on those numbers' values, or a page number in the flow
 * would make the place count: then a slide is the same only in the same deck.
 */
function placeCounts(frame: string): boolean {
  const css = [...frame.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style>/g)].map((m) => m[1]).join('\n');
  if (
    /counter|\[\s*(?:id|data-marpit-pagination(?:-total)?)\s*[~|^$*]?=|#\\3\d|attr\(\s*id\b/.test(
      css,
    )
  )
    return true;
  return [...css.matchAll(/([^{}]*)\{([^{}]*)\}/g)].some(
    ([, selector, body]) =>
      (/attr\(\s*data-marpit-pagination/.test(body!) && !/section::?after\s*$/.test(selector!)) ||
      (/section::?after\s*$/.test(selector!) &&
        /(?:^|;)\s*position\s*:\s*(?!absolute|fixed)/.test(body!)),
  );
}

/**
 * One key per slide of a rendered deck: two slides with the same key are
 * drawn the same, whichever deck they are in. A key covers the slide's own
 * HTML, the page around it (its CSS and scripts; not its title or speaker
 * notes, which are not drawn), whether it is the slide shown first, and the
 * numbers of its place unless the place cannot count.
 */
function slideKeys(html: string, measuring: string): string[] {
  const { slides, frame } = cut(html);
  const page = cacheKey(
    frame
      .replace(/<title>[^<]*<\/title>|<meta property="og:title" content="[^"]*">/g, '')
      .replace(/<div class="bespoke-marp-note"[^>]*>[\s\S]*?<\/div>/g, ''),
  );
  const place = placeCounts(frame);
  return slides.map((slide, i) =>
    cacheKey(
      measuring,
      page,
      i === 0 ? 'shown first' : '',
      place
        ? `${i} ${html}`
        : slide.replace(
            /(<foreignObject\b[^>]*>\s*<section\b)([^>]*)>/g,
            (_, tag: string, attrs: string) =>
              `${tag}${attrs.replace(/ (id|data-marpit-pagination(?:-total)?)="\d+"/g, ' $1=""')}>`,
          ),
    ),
  );
}

/**
 * What the measurement depends on besides the page: this file (the checks,
 * the limits, the window), the browser (its version, its flags, the library
 * that drives it) and the fonts it draws with (every font file and version,
 * and fontconfig's rules). Named only on Linux, where fontconfig can say
 * which fonts there are, and not under CI; elsewhere undefined and nothing is kept.
 */
const environments = new Map<string, Promise<string | undefined>>();
function measuringEnvironment(chromium: string): Promise<string | undefined> {
  if (!environments.has(chromium)) environments.set(chromium, namedEnvironment(chromium));
  return environments.get(chromium)!;
}

async function namedEnvironment(chromium: string): Promise<string | undefined> {
  if (process.platform !== 'linux' || !keeping) return undefined;
  const [version, fonts, config] = await Promise.all([
    run(chromium, ['--version']),
    run('fc-list', ['--format', '%{file}|%{index}|%{family}|%{style}|%{fontversion}\n']),
    run('fc-conflist', []),
  ]).catch(() => []);
  if (!version || !fonts || !config) return undefined;
  if ([version, fonts, config].some((r) => r.code !== 0) || !/\d+\.\d+/.test(version.stdout))
    return undefined;
  const files = fonts.stdout
    .split('\n')
    .filter(Boolean)
    .sort()
    .map((line) => {
      const stat = statSync(line.split('|')[0]!, { throwIfNoEntry: false });
      return `${line}|${stat?.size}|${stat?.mtimeMs}`;
    });
  const rules = [...config.stdout.matchAll(/^\+ (.+?): /gm)].map(([, file]) => {
    const text = existsSync(file!) ? readFileSync(file!, 'utf8') : '';
    return `${file}\n${text}`;
  });
  const driver = JSON.parse(
    readFileSync(path.join(root, 'node_modules', 'playwright-core', 'package.json'), 'utf8'),
  ) as { version: string };
  return cacheKey(
    readFileSync(fileURLToPath(import.meta.url)),
    chromium,
    version.stdout.trim(),
    JSON.stringify(chromiumLaunch),
    driver.version,
    files.join('\n'),
    rules.join('\n'),
  );
}

interface MeasureOptions {
  /**
   * Keep each slide's result by content under this name in
   * node_modules/.cache (test/helpers/cache.ts), with the browser to name.
   */
  cache?: { name: string; chromium: string };
}

/**
 * Measure every slide of each rendered deck at 1280x720, in one page. A slide
 * the same as one measured before (Plan A's slides are the decks' own) is
 * measured once: its result is the same, named for each deck and place. With
 * a cache, a slide whose key was measured in the last run is not drawn again;
 * the browser starts only when a slide is to be measured.
 */
export async function measureDecks(
  browser: () => Promise<Browser>,
  files: { deck: string; html: string }[],
  options: MeasureOptions = {},
): Promise<{ problems: Problem[]; sizes: DeckSize[]; measured: number }> {
  const env = options.cache && (await measuringEnvironment(options.cache.chromium));
  const kept =
    options.cache && env ? keptResults<SlideResult>(`slide-fit-${options.cache.name}`) : undefined;
  const results = new Map<string, SlideResult>();
  const problems: Problem[] = [];
  const sizes: DeckSize[] = [];
  let page: Page | undefined;
  let measured = 0;
  try {
    for (const { deck, html } of files) {
      const keys = slideKeys(readFileSync(html, 'utf8'), env ?? 'this run');
      for (const key of keys) {
        const result = kept?.get(key);
        if (result && !results.has(key)) results.set(key, result);
      }
      const only = keys.flatMap((key, i) => (results.has(key) || keys.indexOf(key) < i ? [] : [i]));
      if (only.length > 0) {
        page ??= await (await browser()).newPage({ viewport: { width: 1280, height: 720 } });
        await page.goto(pathToFileURL(html).href);
        const found = await page.evaluate<{ count: number; slides: SlideResult[] }>(
          `${MEASURE}(${JSON.stringify(LIMITS)}, ${keys.length}, ${JSON.stringify(only)})`,
        );
        if (found.count !== keys.length)
          throw new Error(`${deck}: the page has ${found.count} slides, its HTML ${keys.length}`);
        only.forEach((i, n) => results.set(keys[i]!, found.slides[n]!));
        measured += only.length;
      }
      const size: DeckSize = { deck, slides: keys.length };
      keys.forEach((key, i) => {
        const slide = i + 1;
        const result = results.get(key)!;
        problems.push(...result.problems.map((p) => ({ deck, slide, ...p })));
        for (const which of ['smallestCode', 'smallestInlineCode'] as const) {
          const px = result.sizes[which];
          if (px !== undefined && (!size[which] || px < size[which].px))
            size[which] = { px, slide };
        }
      });
      sizes.push(size);
    }
  } finally {
    await page?.close();
  }
  if (kept) {
    for (const [key, result] of results) kept.set(key, result);
    kept.save();
  }
  return { problems, sizes, measured };
}
