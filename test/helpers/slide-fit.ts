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
import { pathToFileURL } from 'node:url';
import type { Browser } from './browser.ts';

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
const MEASURE = `(async (limits) => {
  // The bespoke template skips the layout of every slide but the one shown
  // (content-visibility: hidden); lay them all out at once, as each is drawn
  // when shown, rather than one forced layout per measurement.
  const style = document.createElement('style');
  style.textContent = 'svg.bespoke-marp-slide { content-visibility: visible !important; }';
  document.head.append(style);
  await document.fonts.ready;
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  const problems = [];
  const sizes = { slides: 0, smallestCode: undefined, smallestInlineCode: undefined };
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
  const slides = [...document.querySelectorAll('svg[data-marpit-svg] > foreignObject > section')];
  sizes.slides = slides.length;
  for (const [index, section] of slides.entries()) {
    const slide = index + 1;
    const box = section.getBoundingClientRect();
    const scale = box.width / 1280;
    // Content ends where the padding begins: the bottom padding holds the page number.
    const style = getComputedStyle(section);
    const content = {
      right: box.right - parseFloat(style.paddingRight) * scale,
      bottom: box.bottom - parseFloat(style.paddingBottom) * scale,
    };
    const add = (el, what) => problems.push({ slide, element: typeof el === 'string' ? el : describeEl(el), what });
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
        if (!sizes[key] || px < sizes[key].px) sizes[key] = { px, slide };
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
  return { problems, sizes };
})`;

interface Measured {
  problems: Omit<Problem, 'deck'>[];
  sizes: Omit<DeckSize, 'deck'>;
}

/** Open each rendered deck in one page at 1280x720 and measure every slide. */
export async function measureDecks(
  browser: Browser,
  files: { deck: string; html: string }[],
): Promise<{ problems: Problem[]; sizes: DeckSize[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  const problems: Problem[] = [];
  const sizes: DeckSize[] = [];
  try {
    for (const { deck, html } of files) {
      await page.goto(pathToFileURL(html).href);
      const measured = await page.evaluate<Measured>(`${MEASURE}(${JSON.stringify(LIMITS)})`);
      problems.push(...measured.problems.map((p) => ({ deck, ...p })));
      sizes.push({ deck, ...measured.sizes });
    }
  } finally {
    await page.close();
  }
  return { problems, sizes };
}
