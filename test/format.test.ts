// One formatter for all code: Prettier, configured in .prettierrc.json (step
// code at 80 columns, so that slide code never wraps; the rest at 100).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as prettier from 'prettier';
import { root } from '../tools/steps.ts';

const FOLDERS = ['steps', 'tools', 'test', 'bench', 'types'];
const CODE = /\.(ts|mjs|cjs|js|json)$/;

function codeFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : codeFiles(full);
    return CODE.test(entry.name) ? [full] : [];
  });
}

describe('format', () => {
  test('every code file is as Prettier writes it', async () => {
    const files = FOLDERS.flatMap((folder) => codeFiles(path.join(root, folder)));
    assert.ok(files.length > 100, `the code files were found (${files.length})`);
    const unformatted: string[] = [];
    for (const file of files) {
      const options = await prettier.resolveConfig(file);
      const source = readFileSync(file, 'utf8');
      if (!(await prettier.check(source, { ...options, filepath: file })))
        unformatted.push(path.relative(root, file));
    }
    assert.deepEqual(
      unformatted,
      [],
      `Not formatted: run npx prettier --write ${unformatted.join(' ')}`,
    );
  });
});
