// The reporter of npm run check: node:test runs the checkpoint tests in the
// check's own process and hands their results here; this prints the coach's
// report (tools/check.ts) once they have all run. Plain JavaScript, as node
// loads reporters itself; the TypeScript it needs comes through tsx.
import { results } from './reporter.mjs';

export default async function* coach(source) {
  const all = [];
  for await (const result of results(source)) {
    // The suite that holds every file (tools/check.ts) is no step's.
    all.push({ ...result, suites: result.suites.slice(1) });
  }
  const { byStep, checkReport } = await import('./check.ts');
  const { findStep } = await import('./steps.ts');
  const options = JSON.parse(process.env.CHECK_OPTIONS ?? '{"steps":[]}');
  const { text, ok } = checkReport(byStep(options.steps.map(findStep), all), options);
  yield text;
  process.exitCode = ok ? 0 : 1;
}
