// One formatter for all code: Prettier, configured in .prettierrc.json (step
// code at 80 columns, so that slide code never wraps; the rest at 100).
// A file already found formatted, unchanged since, with the same Prettier and
// the same configuration, is not checked again (tools/cache.ts).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { root } from '../tools/steps.ts';
import { cacheKey, keptResults } from '../tools/cache.ts';

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
    // Everything the answer depends on: Prettier's version and configuration.
    const setup = ['node_modules/prettier/package.json', '.prettierrc.json', '.prettierignore']
      .map((file) => readFileSync(path.join(root, file), 'utf8'))
      .join('\0');
    const formatted = keptResults<true>('format');
    const unformatted: string[] = [];
    for (const file of files) {
      const source = readFileSync(file, 'utf8');
      const key = cacheKey(setup, path.relative(root, file), source);
      if (formatted.get(key)) {
        formatted.set(key, true);
        continue;
      }
      const prettier = await import('prettier');
      const options = await prettier.resolveConfig(file);
      if (await prettier.check(source, { ...options, filepath: file })) formatted.set(key, true);
      else unformatted.push(path.relative(root, file));
    }
    formatted.save();
    assert.deepEqual(
      unformatted,
      [],
      `Not formatted: run npx prettier --write ${unformatted.join(' ')}`,
    );
  });
});
