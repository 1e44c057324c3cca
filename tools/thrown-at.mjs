// Where in the code under test an error was thrown: the first line of its
// stack outside Node's own modules, the installed packages and the
// workshop's tests and tools, as a learner reads it ("workspace/config.ts:48").
// Plain JavaScript: the test reporter loads it before tsx can compile TypeScript.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const notUnderTest = ['test', 'tools'].map((dir) => path.join(root, dir) + path.sep);

export function thrownAt(err) {
  for (const line of String(err?.stack ?? '')
    .split('\n')
    .slice(1)) {
    const frame = /(file:\/\/\S+?|(?:[A-Za-z]:)?[\\/][^\s()]+?\.(?:ts|mjs|js)):(\d+):\d+/.exec(
      line,
    );
    if (!frame) continue;
    const file = frame[1].startsWith('file:') ? fileURLToPath(frame[1]) : frame[1];
    if (file.split(/[\\/]/).includes('node_modules')) continue;
    if (notUnderTest.some((dir) => file.startsWith(dir))) continue;
    return `${path.relative(process.cwd(), file).replaceAll('\\', '/')}:${frame[2]}`;
  }
  return undefined;
}
