// Import each test file named on the command line, one after the other, in
// this one process: node:test runs the tests they register. See runTests().
import path from 'node:path';
import { pathToFileURL } from 'node:url';

for (const file of process.argv.slice(2)) {
  await import(pathToFileURL(path.resolve(file)).href);
}
