// The decks: an opening, one per step, a closing; code copied from the steps
// and never edited by hand; notes and timings on every slide; every deck
// renders offline, and every slide fits 1280x720 as drawn in a browser.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { summaryLines, SUMMARY_LIMITS } from '../tools/attack.ts';
import { attack } from '../tools/attack/lab.ts';
import { findChromium } from '../tools/chromium.ts';
import {
  ADDRESS_SLOT,
  addressHtml,
  assemblePlan,
  type Deck,
  decks,
  guideFile,
  guideTable,
  markLines,
  marpCli,
  minutesOf,
  nextDeck,
  notesOf,
  planRows,
  plannedDecks,
  render,
  slideMinutes,
  splitSlides,
  webAddress,
} from '../tools/slides.ts';
import { root, stepDir } from '../tools/steps.ts';
import { markdownFiles, syncText } from '../tools/sync.ts';
import { type Browser, launchChromium } from './helpers/browser.ts';
import { keptResults } from '../tools/cache.ts';
import { describe as describeProblem, measureDecks } from './helpers/slide-fit.ts';
import { exportedApp, importStep, listen } from './helpers/step.ts';

const read = (file: string) => readFileSync(file, 'utf8');
const deckName = (deck: Deck) => `slides/${deck.name}.md`;

/** The code blocks of a deck's Markdown: their info string and how many lines each holds. */
function codeBlocks(markdown: string): { info: string; lines: number }[] {
  return [...markdown.replace(/\r\n/g, '\n').matchAll(/^(```+)(.*)\n([\s\S]*?)^\1[ \t]*$/gm)].map(
    ([, , info, body]) => ({
      info: info!.trim(),
      lines: body!.replace(/\n$/, '').split('\n').length,
    }),
  );
}

/** The limits of the 45-minute talk's one deck: 5 of its 45 minutes are left to the presenter. */
const PLAN_A = { slides: 30, minutes: 40, codeLines: 14 };
const WORKSHOP_URL = 'https://github.com/example/jwt-koa-workshop';

describe('slides and docs', { concurrency: true }, () => {
  test('an opening, a deck per finished step, a closing: each on the shared theme, with its minutes', () => {
    for (const name of ['opening', 'closing'])
      assert.ok(
        decks.some((d) => d.name === name),
        `slides/${name}.md is missing`,
      );
    for (const deck of plannedDecks.filter(
      (d) => d.step && existsSync(path.join(stepDir(d.step), 'README.md')),
    )) {
      assert.ok(
        existsSync(deck.file),
        `Step ${deck.step!.slug} is finished (it has a README.md), so it needs ${deckName(deck)}`,
      );
    }
    for (const deck of decks) {
      const text = read(deck.file);
      assert.match(
        text,
        /^---\r?\n(?:.*\r?\n)*?marp: true\r?\n/,
        `${deckName(deck)} starts with front matter saying marp: true`,
      );
      assert.match(
        text,
        /^---\r?\n(?:.*\r?\n)*?theme: workshop\r?\n/,
        `${deckName(deck)} uses the shared theme: theme: workshop in its front matter`,
      );
      assert.ok(
        minutesOf(text),
        `${deckName(deck)} says how long it takes: minutes: N in its front matter`,
      );
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
        assert.ok(
          notes.split(/\s+/).length >= 15,
          `${deckName(deck)} slide ${i + 1} needs speaker notes: what to say, the demo, the usual question (<!-- ... --> after the content)`,
        );
        assert.ok(
          minutes[i] !== undefined,
          `${deckName(deck)} slide ${i + 1}: its notes end with how long it takes, such as (1.5 min)`,
        );
      });
      const total = minutesOf(text);
      const title = /\(deck: (\d+(?:\.\d+)?) min\)/.exec(notesOf(slides[0]!).join('\n'))?.[1];
      assert.equal(
        Number(title),
        total,
        `${deckName(deck)}: the first slide's notes say (deck: ${total} min), as its front matter does`,
      );
      const sum = minutes.reduce<number>((a, m) => a + (m ?? 0), 0);
      assert.equal(
        sum,
        total,
        `${deckName(deck)}: its slides' timings add up to ${sum} min, its front matter says minutes: ${total}`,
      );
    }
  });

  test('every deck ends with a link to the next one', () => {
    for (const deck of decks) {
      const next = nextDeck(deck);
      if (!next) continue;
      const last = splitSlides(read(deck.file)).at(-1)!;
      assert.match(
        last,
        new RegExp(`^Next: \\[[^\\]]+\\]\\(${next.name}\\.md\\)`, 'm'),
        `${deckName(deck)} ends with "Next: [${next.title}](${next.name}.md)"`,
      );
    }
  });

  test("the presenter's guide gives each deck its minutes, and two plans that add up", () => {
    const guide = read(guideFile);
    const byName = new Map(decks.map((d) => [d.name, read(d.file)]));
    const listed = new Map(
      guideTable(guide, 'The decks').map(([cell, minutes]) => [
        /\[([\w-]+)\]/.exec(cell!)?.[1],
        Number(minutes),
      ]),
    );
    for (const [name, text] of byName) {
      assert.equal(
        listed.get(name),
        minutesOf(text),
        `slides/README.md lists ${name} with ${minutesOf(text)} minutes, as its front matter says`,
      );
    }
    for (const [letter, length] of [
      ['A', 45],
      ['B', 180],
    ] as const) {
      const heading = `Plan ${letter}`;
      let sum = 0;
      let onSlides = 0;
      let total: number | undefined;
      for (const row of planRows(letter, guide)) {
        if (row.minutes === undefined) continue; // a part's heading row
        if (row.total) {
          total = row.minutes;
          continue;
        }
        sum += row.minutes;
        if (!row.deck) continue; // coding, a break, the buffer
        const text = byName.get(row.deck);
        assert.ok(text, `${heading}: "${row.deck}" is not a deck`);
        const perSlide = slideMinutes(text);
        for (const n of row.slides)
          assert.ok(n >= 1 && n <= perSlide.length, `${heading}: ${row.deck} has no slide ${n}`);
        const expected = row.slides.reduce((a, n) => a + (perSlide[n - 1] ?? 0), 0);
        assert.equal(
          row.minutes,
          expected,
          `${heading}: ${row.deck} slides ${row.slides.join(', ')} take ${expected} min by their notes, the plan says ${row.minutes}`,
        );
        onSlides += expected;
      }
      assert.equal(sum, length, `${heading}: its rows add up to ${sum} min, not ${length}`);
      assert.equal(total, length, `${heading}: its Total row says ${length}`);
      if (letter === 'A')
        assert.ok(
          onSlides <= PLAN_A.minutes,
          `Plan A: its slides take ${onSlides} min by their notes; at most ${PLAN_A.minutes}, so that ${length - PLAN_A.minutes} of the talk's ${length} minutes are left for questions and a demo that runs long`,
        );
    }
  });

  test('every code block that names a step file matches that file (npm run sync)', () => {
    for (const file of markdownFiles()) {
      const current = read(file);
      const { text, errors } = syncText(current, file);
      assert.deepEqual(errors, [], 'Every file and region a Markdown file names exists');
      assert.equal(
        text,
        current,
        `${path.relative(root, file)} is out of date with the code: run npm run sync`,
      );
    }
  });

  test('a hand-edited snippet, a missing region or a missing file is caught', () => {
    const file = path.join(root, 'slides', '04-token-required.md');
    const synced = read(file);
    const edited = synced.replace("algorithms: ['HS256']", "algorithms: ['HS256', 'none']");
    assert.notEqual(edited, synced, 'The deck shows the algorithm list');
    assert.equal(
      syncText(edited, file).text,
      synced,
      "Sync puts the step's real code back over a hand edit, so the check fails on it",
    );
    const missing = syncText('```ts steps/04-token-required/app.ts#no-such-region\n```\n', file);
    assert.match(missing.errors.join('\n'), /no region "no-such-region"/);
    const gone = syncText('```ts steps/99-nothing/app.ts#x\n```\n', file);
    assert.match(gone.errors.join('\n'), /does not exist/);
  });

  test('the token decoded on slide 00 is the one step 00 makes', async () => {
    const anatomy = (await importStep(0)) as {
      signByHand(claims: object, key: string): string;
      payload: object;
    };
    const token = anatomy.signByHand(anatomy.payload, 'secret');
    const deck = read(path.join(root, 'slides', '00-jwt-anatomy.md')).replace(/\r\n/g, '\n');
    // Too long for one line of a code box: the slide breaks it after each dot.
    const broken = token.split('.').join('.\n');
    assert.ok(
      deck.includes(broken),
      `Deck 00 must show the token step 00 prints, broken after each dot:\n${broken}`,
    );
    for (const part of token.split('.'))
      assert.ok(deck.includes(part), `Deck 00 decodes each part: ${part}`);
  });

  test('every npm command the docs show exists', () => {
    const scripts = Object.keys(JSON.parse(read(path.join(root, 'package.json'))).scripts);
    for (const file of markdownFiles()) {
      // npm's own flags come first: npm run -s token.
      for (const [, name] of read(file).matchAll(
        /npm run (?:-{1,2}[\w-]+ )*(\w[\w-]*(?::[\w-]+)*)/g,
      )) {
        assert.ok(
          scripts.includes(name!),
          `${path.relative(root, file)} shows npm run ${name}, which package.json does not have`,
        );
      }
    }
  });

  test('every image a deck shows exists', () => {
    for (const { file } of decks) {
      const text = read(file);
      for (const [, src] of [
        ...text.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g),
        ...text.matchAll(/<img [^>]*src="([^"]+)"/g),
      ]) {
        assert.ok(
          existsSync(path.join(root, 'slides', src!)),
          `${path.basename(file)} shows ${src}, which does not exist`,
        );
      }
    }
  });

  test('Plan A is one deck: at most 30 slides, 40 minutes of notes and 14 lines a code block', () => {
    const plan = assemblePlan('A');
    const slides = splitSlides(plan.markdown);
    assert.equal(slides.length, plan.slides, 'The plan counts the slides it assembled');
    assert.ok(
      plan.slides <= PLAN_A.slides,
      `Plan A has ${plan.slides} slides: at most ${PLAN_A.slides} (take rows out of its table in slides/README.md)`,
    );
    const minutes = slideMinutes(plan.markdown);
    const sum = minutes.reduce<number>((a, m) => a + (m ?? 0), 0);
    assert.equal(sum, plan.minutes, "Plan A's minutes are its slides' notes, added up");
    assert.ok(
      plan.minutes <= PLAN_A.minutes,
      `Plan A's notes take ${plan.minutes} min: at most ${PLAN_A.minutes}, the talk's 45 less a buffer`,
    );
    assert.equal(minutesOf(plan.markdown), plan.minutes, "Plan A's front matter gives its minutes");
    assert.match(
      notesOf(slides[0]!).join('\n'),
      new RegExp(`\\(deck: ${plan.minutes} min\\)`),
      "Plan A's first slide gives the deck's minutes, not the opening's",
    );
    slides.forEach((slide, i) => {
      assert.match(
        notesOf(slide).join('\n'),
        /From [\w-]+\.md, slide \d+\./,
        `Plan A slide ${i + 1}: its notes say which deck and slide it comes from`,
      );
      assert.doesNotMatch(
        slide,
        /^Next: \[/m,
        `Plan A slide ${i + 1}: no link to the next deck in the middle of the talk`,
      );
    });
    const blocks = codeBlocks(plan.markdown);
    const long = blocks.filter((b) => b.lines > PLAN_A.codeLines);
    assert.deepEqual(
      long,
      [],
      `Plan A's code blocks hold at most ${PLAN_A.codeLines} lines (show a smaller region)`,
    );
    // The talk's own demo and code, and what to take home.
    assert.ok(
      blocks.some((b) => b.info === 'python'),
      "Plan A shows the talk's Flask code beside ours",
    );
    for (const line of [
      'curl -u alice:pyconid http://localhost:3000/login',
      'curl "http://localhost:3000/protected?token=$TOKEN"',
      '# 40 seconds later, the same call: 403 Token is invalid!',
    ])
      assert.ok(plan.markdown.includes(line), `Plan A runs the talk's demo live: ${line}`);
    assert.match(plan.markdown, /^## Take away/m, 'Plan A has the take-away slide');
    assert.match(
      plan.markdown,
      /@mdsbzalam\*\*:\s+\[slides\.com\/mdsbzalam\/pyconid18\]\(https:\/\/slides\.com\/mdsbzalam\/pyconid18\)/,
      "Plan A credits the talk's author with a link to the original deck",
    );
    assert.ok(
      slides[0]!.includes(ADDRESS_SLOT) && slides.at(-1)!.includes(ADDRESS_SLOT),
      "Plan A's first and last slides show the workshop's address",
    );
    // Every code block copied from a step has its line that matters marked.
    for (const [i, slide] of slides.entries()) {
      const fences = codeBlocks(slide).filter((b) => /^\w+ steps\//.test(b.info));
      const marks = slide.match(/<div class="mark(?: [^"]*)?" data-mark="/g) ?? [];
      assert.ok(
        marks.length >= fences.length,
        `Plan A slide ${i + 1}: each block of step code is marked (<div class="mark" data-mark="...">)`,
      );
    }
  });

  test("a plan's limits are checked as written: a long code block, a slide too many", () => {
    const fifteen = Array.from({ length: 15 }, (_, i) => `line ${i}`).join('\n');
    assert.deepEqual(
      codeBlocks(`# x\n\n\`\`\`ts steps/a.ts#b\n${fifteen}\n\`\`\`\n\n\`\`\`python\nok\n\`\`\`\n`),
      [
        { info: 'ts steps/a.ts#b', lines: 15 },
        { info: 'python', lines: 1 },
      ],
      'A 15-line block is counted as 15 lines',
    );
    const guide = read(guideFile).replace(
      /^(\| [^|]+ \| 00-jwt-anatomy \| )4, 5, 11-13( \|)/m,
      (_, before: string, after: string) => `${before}1-14${after}`,
    );
    assert.notEqual(guide, read(guideFile), "The test finds Plan A's row of deck 00");
    const bigger = assemblePlan('A', guide);
    assert.equal(
      bigger.slides,
      assemblePlan('A').slides + 9,
      "The plan's deck follows its table in the guide: nine slides more",
    );
    assert.ok(bigger.slides > PLAN_A.slides, 'and the 30-slide limit catches it');
    assert.throws(
      () => assemblePlan('A', guide.replace(/00-jwt-anatomy \| 1-14/, '00-jwt-anatomy | 1-99')),
      /00-jwt-anatomy has no slide 15/,
    );
    assert.throws(() => assemblePlan('Z'), /no "## Plan Z" section/);
  });

  test('the line that matters is marked; a mark that no line holds is an error naming the deck', () => {
    const html =
      '<div class="mark" data-mark="algorithms: [&#x27;HS256&#x27;]">\n<pre><code class="language-ts">' +
      'jwt.<span class="hljs-title">verify</span>(token, key, {\n' +
      '  <span class="hljs-attr">algorithms</span>: [<span class="hljs-string">&#x27;HS256&#x27;</span>],\n' +
      '});\n</code></pre>\n</div>';
    const marked = markLines(html, 'deck.md');
    const lines = marked.split('\n');
    assert.ok(
      lines[2]!.startsWith(
        '  <span class="hljs-attr"><mark>algorithms</mark></span><mark>: [</mark>',
      ),
      `The indent stays unmarked, the text is marked: ${lines[2]}`,
    );
    assert.equal(
      lines[2]!.match(/<mark>/g)?.length,
      4,
      "Each run of text of the line is marked, between the highlighter's own tags",
    );
    assert.doesNotMatch(lines[1]! + lines[3]!, /<mark>/, 'Only that line');
    assert.throws(
      () =>
        markLines(html.replace('algorithms: [&#x27;HS256&#x27;]', 'algorithms: none'), 'deck.md'),
      /deck\.md: no line of the code .* holds "algorithms: none"/,
    );
  });

  test("the workshop's address comes from WORKSHOP_URL or the git remote, never with credentials", async () => {
    for (const [remote, web] of [
      [
        'git@github.com:someone/jwt-koa-workshop.git',
        'https://github.com/someone/jwt-koa-workshop',
      ],
      [
        'https://github.com/someone/jwt-koa-workshop.git',
        'https://github.com/someone/jwt-koa-workshop',
      ],
      ['https://someone:ghp_secret@github.com/someone/w.git', 'https://github.com/someone/w'],
      ['ssh://git@gitlab.example.org:2222/team/w.git', 'https://gitlab.example.org/team/w'],
      ['/srv/git/w.git', undefined],
    ] as const)
      assert.equal(webAddress(remote), web, `The remote ${remote} is shown as ${web}`);
    const none = await addressHtml(undefined);
    assert.match(none, /WORKSHOP_URL=/, 'Without an address, the slide says how to set it');
    assert.doesNotMatch(none, /<img/);
    const some = await addressHtml(WORKSHOP_URL);
    assert.ok(some.includes(`>${WORKSHOP_URL}</a>`), 'The address as text');
    const qr = /src="data:image\/svg\+xml;base64,([^"]+)"/.exec(some)?.[1];
    assert.ok(qr, 'and as an inline QR code, made offline');
    assert.match(Buffer.from(qr, 'base64').toString(), /^<svg[^>]*viewBox="0 0 \d+ \d+"/);
  });

  test("the attack lab's verdict on deck 05's backup slide is what npm run attack -- 5 --summary prints", async () => {
    const running = await listen(exportedApp(await importStep(5), 5));
    let lines: string[];
    try {
      lines = summaryLines(await attack({ apiUrl: running.url }), 'step 05', 'npm run attack 5');
    } finally {
      await running.close();
    }
    assert.ok(
      lines.length <= SUMMARY_LIMITS.lines &&
        lines.every((line) => line.length <= SUMMARY_LIMITS.columns),
      `The summary fits ${SUMMARY_LIMITS.lines} lines of ${SUMMARY_LIMITS.columns} columns:\n${lines.join('\n')}`,
    );
    assert.match(
      lines.join(' '),
      /one hole: its secret "indonesia", guessed offline/,
      'It names the guessed secret as the one hole',
    );
    const deck = read(path.join(root, 'slides', '05-final-app.md')).replace(/\r\n/g, '\n');
    const shown = /\$ npm run attack -- 5 --summary\n([\s\S]*?)\n```/.exec(deck)?.[1];
    assert.equal(
      shown,
      lines.join('\n'),
      'Deck 05 shows what the lab prints now: copy its --summary onto the backup slide',
    );
  });

  // Rendering and the browser: one render of every deck, one Chromium, shared.
  // Results are kept by content (tools/cache.ts): Marp's HTML of a
  // deck whose Markdown, theme, images, toolchain, Node and locale are
  // unchanged, and the fit check's result for a slide whose HTML, page,
  // browser, fonts and measuring code are unchanged (test/helpers/slide-fit.ts). A hit skips only Marp or
  // the browser: every assertion below runs on what it returns.
  const marpHtml = keptResults<string>('marp-html');
  const toolchain = existsSync(marpCli);
  const chromium = findChromium();
  const noToolchain = 'the slide toolchain is not installed (npm run slides installs it)';
  const skipRender = toolchain || process.env.CI ? false : noToolchain;
  const skipBrowser = process.env.CI
    ? false
    : !toolchain
      ? noToolchain
      : !chromium
        ? 'no Chrome or Chromium found (set CHROME_PATH)'
        : false;
  const work = mkdtempSync(path.join(tmpdir(), 'jwt-workshop-decks-'));
  let rendered: Promise<string[]> | undefined;
  let browser: Promise<Browser> | undefined;
  // Every deck, and Plan A as one deck of its own, with the workshop's address set.
  const planA = assemblePlan('A');
  const renderAll = () =>
    (rendered ??= render(path.join(work, 'all'), {
      plans: [planA],
      url: WORKSHOP_URL,
      cache: marpHtml,
    }));
  const deckNames = [...decks.map((d) => `${d.name}.md`), `${planA.name}.md`];
  const chrome = () => (browser ??= launchChromium(chromium!));
  after(async () => {
    marpHtml.save();
    await (await browser?.catch(() => undefined))?.close();
    rmSync(work, { recursive: true, force: true });
  });

  test(
    'every deck renders offline to self-contained HTML with all its slides (cached by content)',
    { skip: skipRender },
    async () => {
      assert.ok(toolchain, 'CI must install the slide toolchain: npm ci --prefix slides');
      const files = await renderAll();
      for (const [i, html] of files
        .slice(0, decks.length)
        .map((f) => read(f))
        .entries()) {
        const deck = decks[i]!;
        const slides = html.match(/<section id="\d+"/g)?.length ?? 0;
        assert.equal(
          slides,
          splitSlides(read(deck.file)).length,
          `${deckName(deck)} renders every slide`,
        );
        assert.doesNotMatch(html, /#(end)?region/, 'No region marker reaches a slide');
        assert.doesNotMatch(
          html,
          /src="diagrams\//,
          'Images are inlined: the HTML file stands alone',
        );
        assert.doesNotMatch(
          html,
          /href="[\w-]+\.md"/,
          `${deckName(deck)}: links between decks point at the rendered files`,
        );
      }
      const index = read(path.join(work, 'all', 'index.html'));
      for (const deck of decks)
        assert.ok(
          index.includes(`href="${deck.name}.html"`) &&
            index.includes(`${minutesOf(read(deck.file))} min`),
          `The index lists ${deck.name} with its minutes`,
        );
      assert.ok(
        index.includes('href="README.md"') && existsSync(path.join(work, 'all', 'README.md')),
        "The index links the presenter's guide",
      );
      // Plan A: one deck, with its Markdown beside it.
      const plan = read(files.at(-1)!);
      assert.equal(files.at(-1), path.join(work, 'all', 'plan-a.html'));
      assert.equal(
        read(path.join(work, 'all', 'plan-a.md')),
        planA.markdown,
        'plan-a.md is beside plan-a.html',
      );
      const sections = plan.split(/<section id="\d+"/).slice(1);
      assert.equal(sections.length, planA.slides, 'plan-a.html renders every slide of the plan');
      assert.ok(index.includes('href="plan-a.html"'), 'The index links Plan A');
      assert.doesNotMatch(plan, /href="[\w-]+\.md"/, 'Plan A links the rendered decks');
      for (const [which, section] of [
        ['first', sections[0]!],
        ['last', sections.at(-1)!],
      ] as const) {
        assert.ok(
          section.includes(`>${WORKSHOP_URL}</a>`) &&
            /<img alt="QR code of [^"]+" src="data:image\/svg\+xml;base64,/.test(section),
          `Plan A's ${which} slide shows the workshop's address, as text and as a QR code`,
        );
      }
      for (const name of ['opening', 'closing']) {
        const html = read(files[decks.findIndex((d) => d.name === name)]!);
        assert.ok(
          html.includes(`>${WORKSHOP_URL}</a>`),
          `slides/${name}.md shows the workshop's address`,
        );
        assert.ok(!html.includes(ADDRESS_SLOT), `slides/${name}.md: the address slot is filled in`);
      }
      assert.ok(
        (plan.match(/<mark>/g)?.length ?? 0) > 0,
        "Plan A's code marks the lines that matter",
      );
    },
  );

  test(
    'every slide fits 1280x720: nothing outside, no code line wraps, code 20 px and text 24 px as drawn (cached by content)',
    { skip: skipBrowser },
    async () => {
      assert.ok(
        toolchain && chromium,
        'CI must install the slide toolchain (npm ci --prefix slides) and a Chromium (or set CHROME_PATH)',
      );
      const files = await renderAll();
      // Plan A's slides are the decks' own: each is measured once, and named in both.
      const { problems } = await measureDecks(
        chrome,
        files.map((html, i) => ({ deck: deckNames[i]!, html })),
        { cache: { name: 'decks', chromium: chromium! } },
      );
      assert.deepEqual(
        problems.map(describeProblem),
        [],
        `Slides that do not fit (fix the slide, show a smaller region of the code, or break its long lines):\n${problems.map(describeProblem).join('\n')}`,
      );
    },
  );

  test(
    'the fit check names the deck, the slide, the element and the size of what does not fit (cached by content)',
    { skip: skipBrowser },
    async () => {
      assert.ok(
        toolchain && chromium,
        'CI must install the slide toolchain (npm ci --prefix slides) and a Chromium (or set CHROME_PATH)',
      );
      const dir = path.join(work, 'fixture');
      mkdirSync(path.join(dir, 'diagrams'), { recursive: true });
      writeFileSync(
        path.join(dir, 'diagrams', 'tiny.svg'),
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1000 200" width="1000" height="200"><text x="10" y="50" font-size="12">a tiny label</text></svg>',
      );
      const long = Array.from({ length: 40 }, (_, i) => `const line${i} = ${i};`).join('\n');
      // 100 characters with its indent: a code box holds 84 at 22 px, so the
      // rest goes on at column 0, as if it ran whatever the if says.
      const wraps =
        'if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!); // evict the oldest entry';
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
      const [html] = await render(path.join(dir, 'out'), {
        decks: [{ name: 'too-long', file: fixture, title: 'A fixture' }],
        cache: marpHtml,
      });
      // The same deck without its second slide: each of its slides is one
      // measured already, one place earlier (as Plan A's are the decks').
      const rendered = read(html!);
      const second =
        /<svg data-marpit-svg[\s\S]*?<\/svg>\s*(<svg data-marpit-svg[\s\S]*?<\/svg>)/.exec(
          rendered,
        )?.[1];
      assert.ok(second, 'The fixture renders its slides as <svg> elements, one after another');
      const shorter = path.join(dir, 'out', 'shorter.html');
      writeFileSync(shorter, rendered.replace(second, ''));
      const { problems: all, measured } = await measureDecks(
        chrome,
        [
          { deck: 'too-long.md', html: html! },
          { deck: 'shorter.md', html: shorter },
        ],
        { cache: { name: 'fixture', chromium: chromium! } },
      );
      const problems = all.filter((p) => p.deck === 'too-long.md');
      assert.deepEqual(
        all.filter((p) => p.deck === 'shorter.md'),
        problems
          .filter((p) => p.slide !== 2)
          .map((p) => ({ ...p, deck: 'shorter.md', slide: p.slide > 2 ? p.slide - 1 : p.slide })),
        'A slide measured once is named in every deck that shows it, at its place there',
      );
      assert.ok(
        measured <= 6,
        `A slide already measured is not measured again: ${measured} slides measured, the fixture has 6`,
      );
      const messages = problems.map(describeProblem);
      const find = (pattern: RegExp) => messages.find((m) => pattern.test(m));
      assert.ok(
        find(
          /^too-long\.md slide 2: <pre> "const line0 = 0; .*" ends \d+(\.\d+)? px below the slide$/,
        ),
        `The long code block is named, with how far it runs over:\n${messages.join('\n')}`,
      );
      assert.ok(
        find(/^too-long\.md slide 3: <p> "Sixteen pixels.*" has text drawn at 16 px, under 24 px$/),
        `Small text is named with its size:\n${messages.join('\n')}`,
      );
      assert.ok(
        find(
          /^too-long\.md slide 4: <pre> "const shrunk = true;" has code drawn at 11 px, under 20 px$/,
        ),
        `A transform that shrinks code is measured as drawn:\n${messages.join('\n')}`,
      );
      assert.ok(
        find(
          /^too-long\.md slide 5: <img> "tiny" has the label "a tiny label" drawn at \d+(\.\d+)? px, under 18 px$/,
        ),
        `A diagram's small label is named:\n${messages.join('\n')}`,
      );
      assert.ok(
        find(
          /^too-long\.md slide 6: <pre> "if \(ready\) \{ .*" has 1 line that wraps \(the longest is 100 characters\)$/,
        ),
        `A code line that wraps is named, with its length:\n${messages.join('\n')}`,
      );
      assert.ok(
        !messages.some((m) => /wrap/.test(m) && !/ slide 6: /.test(m)),
        `Code that is only long (slide 2) or shrunk (slide 4) does not wrap:\n${messages.join('\n')}`,
      );
      assert.ok(
        !messages.some((m) => / slide 1: /.test(m)),
        `The title slide fits:\n${messages.join('\n')}`,
      );
    },
  );
});
