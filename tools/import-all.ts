// Import each test file named on the command line into this one process,
// inside one suite whose children run side by side: node:test runs the tests
// they register. Each file's own suite decides how its tests run. See runTests().
import path from 'node:path';
import { describe } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ALL_FILES } from './run-tests.ts';

describe(ALL_FILES, { concurrency: true }, async () => {
  for (const file of process.argv.slice(2)) {
    await import(pathToFileURL(path.resolve(file)).href);
  }
});
