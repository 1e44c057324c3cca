// The decks: one per step, code copied from the steps and never edited by
// hand, and every deck renders offline.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { countSlides, decks, marpCli, render } from '../tools/slides.ts';
import { root } from '../tools/steps.ts';
import { markdownFiles, syncText } from '../tools/sync.ts';
import { importStep } from './helpers/step.ts';

const read = (file: string) => readFileSync(file, 'utf8');

describe('slides and docs', { concurrency: true }, () => {
  test('every step has a Marp deck with speaker notes', () => {
    for (const { step, file } of decks) {
      assert.ok(existsSync(file), `Step ${step.slug} needs slides/${step.slug}.md`);
      const text = read(file);
      assert.match(text, /^---\r?\n(?:.*\r?\n)*?marp: true\r?\n/, `slides/${step.slug}.md starts with front matter saying marp: true`);
      const notes = [...text.matchAll(/<!--([\s\S]*?)-->/g)].filter((m) => !/^\s*_?\w+:/.test(m[1]!));
      assert.ok(notes.length >= 1, `slides/${step.slug}.md has speaker notes (<!-- ... --> comments)`);
      assert.ok(countSlides(text) >= 4, `slides/${step.slug}.md has more than a title`);
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
    const deck = read(path.join(root, 'slides', '00-jwt-anatomy.md'));
    assert.ok(deck.includes(token), `Deck 00 must show the token step 00 prints: ${token}`);
    for (const part of token.split('.')) assert.ok(deck.includes(part), `Deck 00 decodes each part: ${part}`);
  });

  test('every npm command the docs show exists', () => {
    const scripts = Object.keys(JSON.parse(read(path.join(root, 'package.json'))).scripts);
    for (const file of markdownFiles()) {
      for (const [, name] of read(file).matchAll(/npm run ([\w-]+(?::[\w-]+)*)/g)) {
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

  const toolchain = existsSync(marpCli);
  const skip = toolchain ? false : process.env.CI ? false : 'the slide toolchain is not installed (npm run slides installs it)';
  test('every deck renders offline to self-contained HTML with all its slides', { skip }, async () => {
    assert.ok(toolchain, 'CI must install the slide toolchain: npm ci --prefix slides');
    const out = mkdtempSync(path.join(tmpdir(), 'jwt-workshop-decks-'));
    try {
      const files = await render(out);
      for (const [i, html] of files.map((f) => read(f)).entries()) {
        const { step, file } = decks[i]!;
        const slides = html.match(/<section id="\d+"/g)?.length ?? 0;
        assert.equal(slides, countSlides(read(file)), `slides/${step.slug}.md renders every slide`);
        assert.doesNotMatch(html, /#(end)?region/, 'No region marker reaches a slide');
        assert.doesNotMatch(html, /src="diagrams\//, 'Images are inlined: the HTML file stands alone');
      }
      assert.ok(existsSync(path.join(out, 'index.html')), 'An index page lists the decks');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
