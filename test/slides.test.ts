// The decks: an opening, one per step, a closing; code copied from the steps
// and never edited by hand; notes and timings on every slide; every deck
// renders offline, and every slide fits 1280x720 as drawn in a browser.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { findChromium } from '../tools/chromium.ts';
import { type Deck, decks, guideFile, marpCli, minutesOf, nextDeck, notesOf, plannedDecks, render, splitSlides } from '../tools/slides.ts';
import { root, stepDir } from '../tools/steps.ts';
import { markdownFiles, syncText } from '../tools/sync.ts';
import { type Browser, launchChromium } from './helpers/browser.ts';
import { describe as describeProblem, measureDecks } from './helpers/slide-fit.ts';
import { importStep } from './helpers/step.ts';

const read = (file: string) => readFileSync(file, 'utf8');
const deckName = (deck: Deck) => `slides/${deck.name}.md`;

/** The minutes each slide's notes give, "(1.5 min)"; undefined for a slide without. */
function slideMinutes(markdown: string): (number | undefined)[] {
  return splitSlides(markdown).map((slide) => {
    const times = [...notesOf(slide).join('\n').matchAll(/\((\d+(?:\.\d+)?) min\)/g)].map((m) => Number(m[1]));
    return times.length ? times.reduce((a, b) => a + b, 0) : undefined;
  });
}

/** "1-5", "2, 4, 11" or "3, 6-8": slide numbers. */
function slideNumbers(spec: string): number[] {
  return spec.split(',').flatMap((part) => {
    const [from, to = from] = part.trim().split('-').map(Number);
    return Array.from({ length: to! - from! + 1 }, (_, i) => from! + i);
  });
}

/** The rows of the first table under a "## " heading of the guide that starts with `heading`. */
function guideTable(guide: string, heading: string): string[][] {
  const section = guide.split(/^## /m).find((s) => s.startsWith(heading));
  assert.ok(section, `slides/README.md has a "## ${heading}" section`);
  return section
    .split(/\r?\n/)
    .filter((line) => line.startsWith('|') && !/^\|[-| ]+\|$/.test(line))
    .slice(1)
    .map((line) => line.slice(1, -1).split('|').map((cell) => cell.trim()));
}

describe('slides and docs', { concurrency: true }, () => {
  test('an opening, a deck per finished step, a closing: each on the shared theme, with its minutes', () => {
    for (const name of ['opening', 'closing']) assert.ok(decks.some((d) => d.name === name), `slides/${name}.md is missing`);
    for (const deck of plannedDecks.filter((d) => d.step && existsSync(path.join(stepDir(d.step), 'README.md')))) {
      assert.ok(existsSync(deck.file), `Step ${deck.step!.slug} is finished (it has a README.md), so it needs ${deckName(deck)}`);
    }
    for (const deck of decks) {
      const text = read(deck.file);
      assert.match(text, /^---\r?\n(?:.*\r?\n)*?marp: true\r?\n/, `${deckName(deck)} starts with front matter saying marp: true`);
      assert.match(text, /^---\r?\n(?:.*\r?\n)*?theme: workshop\r?\n/, `${deckName(deck)} uses the shared theme: theme: workshop in its front matter`);
      assert.ok(minutesOf(text), `${deckName(deck)} says how long it takes: minutes: N in its front matter`);
      assert.ok(splitSlides(text).length >= 4, `${deckName(deck)} has more than a title`);
    }
  });

  test('every slide but the first has speaker notes with a timing, and the timings add up to the deck', () => {
    for (const deck of decks) {
      const text = read(deck.file);
      const slides = splitSlides(text);
      const minutes = slideMinutes(text);
      slides.forEach((slide, i) => {
        if (i === 0) return;
        const notes = notesOf(slide).join(' ');
        assert.ok(notes.split(/\s+/).length >= 15, `${deckName(deck)} slide ${i + 1} needs speaker notes: what to say, the demo, the usual question (<!-- ... --> after the content)`);
        assert.ok(minutes[i] !== undefined, `${deckName(deck)} slide ${i + 1}: its notes end with how long it takes, such as (1.5 min)`);
      });
      const total = minutesOf(text);
      const title = /\(deck: (\d+(?:\.\d+)?) min\)/.exec(notesOf(slides[0]!).join('\n'))?.[1];
      assert.equal(Number(title), total, `${deckName(deck)}: the first slide's notes say (deck: ${total} min), as its front matter does`);
      const sum = minutes.reduce<number>((a, m) => a + (m ?? 0), 0);
      assert.equal(sum, total, `${deckName(deck)}: its slides' timings add up to ${sum} min, its front matter says minutes: ${total}`);
    }
  });

  test('every deck ends with a link to the next one', () => {
    for (const deck of decks) {
      const next = nextDeck(deck);
      if (!next) continue;
      const last = splitSlides(read(deck.file)).at(-1)!;
      assert.match(last, new RegExp(`^Next: \\[[^\\]]+\\]\\(${next.name}\\.md\\)`, 'm'), `${deckName(deck)} ends with "Next: [${next.title}](${next.name}.md)"`);
    }
  });

  test('the presenter\'s guide gives each deck its minutes, and two plans that add up', () => {
    const guide = read(guideFile);
    const byName = new Map(decks.map((d) => [d.name, read(d.file)]));
    const listed = new Map(guideTable(guide, 'The decks').map(([cell, minutes]) => [/\[([\w-]+)\]/.exec(cell!)?.[1], Number(minutes)]));
    for (const [name, text] of byName) {
      assert.equal(listed.get(name), minutesOf(text), `slides/README.md lists ${name} with ${minutesOf(text)} minutes, as its front matter says`);
    }
    for (const [heading, length] of [['Plan A', 45], ['Plan B', 180]] as const) {
      let sum = 0;
      let total: number | undefined;
      for (const [part, deck, slides, minutes] of guideTable(guide, heading)) {
        if (!minutes) continue; // a part's heading row
        if (/\*\*Total\*\*/.test(part!)) {
          total = Number(minutes.replace(/\*/g, ''));
          continue;
        }
        sum += Number(minutes);
        if (!deck) continue; // coding or a break
        const text = byName.get(deck);
        assert.ok(text, `${heading}: "${deck}" is not a deck`);
        const perSlide = slideMinutes(text);
        const chosen = slideNumbers(slides!);
        for (const n of chosen) assert.ok(n >= 1 && n <= perSlide.length, `${heading}: ${deck} has no slide ${n}`);
        const expected = chosen.reduce((a, n) => a + (perSlide[n - 1] ?? 0), 0);
        assert.equal(Number(minutes), expected, `${heading}: ${deck} slides ${slides} take ${expected} min by their notes, the plan says ${minutes}`);
      }
      assert.equal(sum, length, `${heading}: its rows add up to ${sum} min, not ${length}`);
      assert.equal(total, length, `${heading}: its Total row says ${length}`);
    }
  });

  test('every code block that names a step file matches that file (npm run sync)', () => {
    for (const file of markdownFiles()) {
      const current = read(file);
      const { text, errors } = syncText(current, file);
      assert.deepEqual(errors, [], 'Every file and region a Markdown file names exists');
      assert.equal(text, current, `${path.relative(root, file)} is out of date with the code: run npm run sync`);
    }
  });

  test('a hand-edited snippet, a missing region or a missing file is caught', () => {
    const file = path.join(root, 'slides', '04-token-required.md');
    const synced = read(file);
    const edited = synced.replace("algorithms: ['HS256']", "algorithms: ['HS256', 'none']");
    assert.notEqual(edited, synced, 'The deck shows the algorithm list');
    assert.equal(syncText(edited, file).text, synced, 'Sync puts the step\'s real code back over a hand edit, so the check fails on it');
    const missing = syncText('```ts steps/04-token-required/app.ts#no-such-region\n```\n', file);
    assert.match(missing.errors.join('\n'), /no region "no-such-region"/);
    const gone = syncText('```ts steps/99-nothing/app.ts#x\n```\n', file);
    assert.match(gone.errors.join('\n'), /does not exist/);
  });

  test('the token decoded on slide 00 is the one step 00 makes', async () => {
    const anatomy = (await importStep(0)) as { signByHand(claims: object, key: string): string; payload: object };
    const token = anatomy.signByHand(anatomy.payload, 'secret');
    const deck = read(path.join(root, 'slides', '00-jwt-anatomy.md')).replace(/\r\n/g, '\n');
    // Too long for one line of a code box: the slide breaks it after each dot.
    const broken = token.split('.').join('.\n');
    assert.ok(deck.includes(broken), `Deck 00 must show the token step 00 prints, broken after each dot:\n${broken}`);
    for (const part of token.split('.')) assert.ok(deck.includes(part), `Deck 00 decodes each part: ${part}`);
  });

  test('every npm command the docs show exists', () => {
    const scripts = Object.keys(JSON.parse(read(path.join(root, 'package.json'))).scripts);
    for (const file of markdownFiles()) {
      // npm's own flags come first: npm run -s token.
      for (const [, name] of read(file).matchAll(/npm run (?:-{1,2}[\w-]+ )*(\w[\w-]*(?::[\w-]+)*)/g)) {
        assert.ok(scripts.includes(name!), `${path.relative(root, file)} shows npm run ${name}, which package.json does not have`);
      }
    }
  });

  test('every image a deck shows exists', () => {
    for (const { file } of decks) {
      for (const [, src] of read(file).matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)) {
        assert.ok(existsSync(path.join(root, 'slides', src!)), `${path.basename(file)} shows ${src}, which does not exist`);
      }
    }
  });

  // Rendering and the browser: one render of every deck, one Chromium, shared.
  const toolchain = existsSync(marpCli);
  const chromium = findChromium();
  const noToolchain = 'the slide toolchain is not installed (npm run slides installs it)';
  const skipRender = toolchain || process.env.CI ? false : noToolchain;
  const skipBrowser = process.env.CI ? false : !toolchain ? noToolchain : !chromium ? 'no Chrome or Chromium found (set CHROME_PATH)' : false;
  const work = mkdtempSync(path.join(tmpdir(), 'jwt-workshop-decks-'));
  let rendered: Promise<string[]> | undefined;
  let browser: Promise<Browser> | undefined;
  const renderAll = () => (rendered ??= render(path.join(work, 'all')));
  const chrome = () => (browser ??= launchChromium(chromium!));
  after(async () => {
    await (await browser?.catch(() => undefined))?.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('every deck renders offline to self-contained HTML with all its slides', { skip: skipRender }, async () => {
    assert.ok(toolchain, 'CI must install the slide toolchain: npm ci --prefix slides');
    const files = await renderAll();
    for (const [i, html] of files.map((f) => read(f)).entries()) {
      const deck = decks[i]!;
      const slides = html.match(/<section id="\d+"/g)?.length ?? 0;
      assert.equal(slides, splitSlides(read(deck.file)).length, `${deckName(deck)} renders every slide`);
      assert.doesNotMatch(html, /#(end)?region/, 'No region marker reaches a slide');
      assert.doesNotMatch(html, /src="diagrams\//, 'Images are inlined: the HTML file stands alone');
      assert.doesNotMatch(html, /href="[\w-]+\.md"/, `${deckName(deck)}: links between decks point at the rendered files`);
    }
    const index = read(path.join(work, 'all', 'index.html'));
    for (const deck of decks) assert.ok(index.includes(`href="${deck.name}.html"`) && index.includes(`${minutesOf(read(deck.file))} min`), `The index lists ${deck.name} with its minutes`);
    assert.ok(index.includes('href="README.md"') && existsSync(path.join(work, 'all', 'README.md')), 'The index links the presenter\'s guide');
  });

  test('every slide fits 1280x720: nothing outside, no code line wraps, code 20 px and text 24 px as drawn', { skip: skipBrowser }, async () => {
    assert.ok(toolchain && chromium, 'CI must install the slide toolchain (npm ci --prefix slides) and a Chromium (or set CHROME_PATH)');
    const files = await renderAll();
    const { problems } = await measureDecks(await chrome(), files.map((html, i) => ({ deck: `${decks[i]!.name}.md`, html })));
    assert.deepEqual(problems.map(describeProblem), [], `Slides that do not fit (fix the slide, show a smaller region of the code, or break its long lines):\n${problems.map(describeProblem).join('\n')}`);
  });

  test('the fit check names the deck, the slide, the element and the size of what does not fit', { skip: skipBrowser }, async () => {
    assert.ok(toolchain && chromium, 'CI must install the slide toolchain (npm ci --prefix slides) and a Chromium (or set CHROME_PATH)');
    const dir = path.join(work, 'fixture');
    mkdirSync(path.join(dir, 'diagrams'), { recursive: true });
    writeFileSync(path.join(dir, 'diagrams', 'tiny.svg'), '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1000 200" width="1000" height="200"><text x="10" y="50" font-size="12">a tiny label</text></svg>');
    const long = Array.from({ length: 40 }, (_, i) => `const line${i} = ${i};`).join('\n');
    // 100 characters with its indent: a code box holds 84 at 22 px, so the
    // rest goes on at column 0, as if it ran whatever the if says.
    const wraps = "if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!); // evict the oldest entry";
    const fixture = path.join(dir, 'too-long.md');
    writeFileSync(
      fixture,
      [
        '---\nmarp: true\ntheme: workshop\n---\n\n# A fixture',
        `## Forty lines of code\n\n\`\`\`ts\n${long}\n\`\`\``,
        '## Small print\n\n<p style="font-size: 16px">Sixteen pixels is too small for the back of the room.</p>',
        '## Shrunk code\n\n<div style="transform: scale(0.5); transform-origin: top left">\n\n```ts\nconst shrunk = true;\n```\n\n</div>',
        '## A diagram\n\n![tiny](diagrams/tiny.svg)',
        `## A line that wraps\n\n\`\`\`ts\nif (ready) {\n  ${wraps}\n}\nconst fits = 'eighty characters fit on one line of the code box, at 22 px: yes';\n\`\`\``,
      ].join('\n\n---\n\n'),
    );
    const [html] = await render(path.join(dir, 'out'), { decks: [{ name: 'too-long', file: fixture, title: 'A fixture' }] });
    const { problems } = await measureDecks(await chrome(), [{ deck: 'too-long.md', html: html! }]);
    const messages = problems.map(describeProblem);
    const find = (pattern: RegExp) => messages.find((m) => pattern.test(m));
    assert.ok(find(/^too-long\.md slide 2: <pre> "const line0 = 0; .*" ends \d+(\.\d+)? px below the slide$/), `The long code block is named, with how far it runs over:\n${messages.join('\n')}`);
    assert.ok(find(/^too-long\.md slide 3: <p> "Sixteen pixels.*" has text drawn at 16 px, under 24 px$/), `Small text is named with its size:\n${messages.join('\n')}`);
    assert.ok(find(/^too-long\.md slide 4: <pre> "const shrunk = true;" has code drawn at 11 px, under 20 px$/), `A transform that shrinks code is measured as drawn:\n${messages.join('\n')}`);
    assert.ok(find(/^too-long\.md slide 5: <img> "tiny" has the label "a tiny label" drawn at \d+(\.\d+)? px, under 18 px$/), `A diagram's small label is named:\n${messages.join('\n')}`);
    assert.ok(find(/^too-long\.md slide 6: <pre> "if \(ready\) \{ .*" has 1 line that wraps \(the longest is 100 characters\)$/), `A code line that wraps is named, with its length:\n${messages.join('\n')}`);
    assert.ok(!messages.some((m) => /wrap/.test(m) && !/ slide 6: /.test(m)), `Code that is only long (slide 2) or shrunk (slide 4) does not wrap:\n${messages.join('\n')}`);
    assert.ok(!messages.some((m) => / slide 1: /.test(m)), `The title slide fits:\n${messages.join('\n')}`);
  });
});
