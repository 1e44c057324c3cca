// npm run sync: the files a step inherits are its base's, byte for byte, and
// the code a slide shows is whole statements, with "// …" where it leaves
// some out.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { stepDir, steps } from '../tools/steps.ts';
import { balanced, inheritedFiles, region, syncInherited } from '../tools/sync.ts';

describe('sync', () => {
  test('every file a step inherits is the same as its source, byte for byte', () => {
    const later = steps.filter((s) => s.number >= 7);
    assert.ok(
      later.every((s) => s.inherits?.length),
      'steps 07 to 10 each say in steps.json which files they inherit',
    );
    assert.deepEqual(syncInherited(true), [], 'npm run sync copies them');
    const nine = inheritedFiles().filter(({ copy }) => copy.includes('09-'));
    assert.ok(
      nine.some(({ copy }) => copy.endsWith('tokens.ts')),
      "step 09 inherits step 06's tokens.ts (through 08)",
    );
  });

  test('an inherited file that drifted is named, and sync copies it back', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jwt-sync-'));
    const source = path.join(dir, 'source.ts');
    const copy = path.join(dir, 'copy.ts');
    writeFileSync(source, 'export const limit = 5;\n');
    writeFileSync(copy, 'export const limit = 7;\n');
    const [problem] = syncInherited(true, [{ copy, source }]);
    assert.match(String(problem), /differs from .*source\.ts, which it inherits/);
    const said: string[] = [];
    assert.deepEqual(
      syncInherited(false, [{ copy, source }], (line) => said.push(line)),
      [],
    );
    assert.match(
      said.join('\n'),
      /updated .*copy\.ts from .*source\.ts/,
      'npm run sync says what it copied',
    );
    assert.equal(readFileSync(copy, 'utf8'), 'export const limit = 5;\n', 'copied back');
  });

  test('a region must hold whole statements: its brackets balance', () => {
    assert.equal(balanced('if (a) {\n  b();\n}'), true);
    assert.equal(balanced('try {\n  verify();'), false, 'a region cut inside a try');
    assert.equal(balanced("const s = '{';\n// a } in a comment\nf(`${x}`);"), true);
    const steps04 = readFileSync(path.join(stepDir(steps[4]!), 'token-required.ts'), 'utf8');
    assert.equal(balanced(region(steps04, 'token-check')!), true);
  });

  test('"// #region hide" shows as one // … line, for every region or a named one', () => {
    const code = [
      '// #region outer',
      'function f() {',
      '  // #region hide-outer',
      '  secret();',
      '  // #endregion',
      '  // #region hide',
      '  more();',
      '  // #endregion',
      '}',
      '// #endregion',
    ].join('\n');
    assert.equal(region(code, 'outer'), 'function f() {\n  // …\n  // …\n}');
  });
});
