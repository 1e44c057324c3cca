// A node:test reporter that writes one JSON line per finished test, so that
// tools can count results and show a learner each failure's message without
// parsing human output. Suites are left out: only tests count.
// Plain JavaScript: node loads reporters before tsx can compile TypeScript.
// The shape of a line is TestResult in run-tests.ts.

function firstLine(error) {
  let err = error;
  // node:test wraps a failure in ERR_TEST_FAILURE; the assertion is its cause.
  while (err && typeof err.cause === 'object' && err.cause) err = err.cause;
  return String(err?.message ?? error).split('\n')[0].trim();
}

export default async function* jsonLines(source) {
  const open = [];
  // Tests cancelled because their suite's before() hook failed: they are
  // reported with the hook's message, which says what is really wrong.
  let cancelled = [];
  const line = (result) => `${JSON.stringify(result)}\n`;
  for await (const event of source) {
    if (event.type === 'test:start') open[event.data.nesting] = event.data.name;
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { data } = event;
    if (data.details?.type === 'suite') {
      if (event.type === 'test:fail') {
        const message = firstLine(data.details.error);
        for (const result of cancelled) yield line({ ...result, message });
        cancelled = [];
      }
      continue;
    }
    const result = {
      name: data.name,
      suites: open.slice(0, data.nesting),
      ok: event.type === 'test:pass',
      skipped: Boolean(data.skip),
    };
    if (!result.ok) result.message = firstLine(data.details?.error);
    if (data.details?.error?.failureType === 'cancelledByParent') cancelled.push(result);
    else yield line(result);
  }
  for (const result of cancelled) yield line(result);
}
