// What a check sends the room, and the room's reading of it: a step, a part,
// two counts, and each failing group as one line (the name of a test of the
// workshop's, never the learner's code or output) with the number of its
// hint. Nothing else gets in: a field the room does not know is refused.
import type { Step } from '../steps.ts';

export interface Failing {
  /** The group's first failing test, as the checkpoint names it ("GET /login > answers 401"). */
  name: string;
  /** The hint npm run check points to for it: npm run hint <step> <hint>. */
  hint: number | null;
}

export interface Report {
  step: number;
  part: string | null;
  passed: number;
  failed: number;
  failing: Failing[];
}

/** The most a room takes in one post: a check of every step, each with many groups. */
export const LIMITS = { reports: 20, failing: 50, name: 200, count: 10_000 };

/** The reports in a posted body (one object, or an array of them), or a message saying what is wrong. */
export function parseReports(value: unknown, steps: Step[]): Report[] | string {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.length > LIMITS.reports)
    return `Send one report, or an array of 1 to ${LIMITS.reports}.`;
  const reports: Report[] = [];
  for (const item of list) {
    const report = parseReport(item, steps);
    if (typeof report === 'string') return report;
    reports.push(report);
  }
  return reports;
}

const isCount = (n: unknown): n is number =>
  Number.isInteger(n) && (n as number) >= 0 && (n as number) <= LIMITS.count;

function parseReport(value: unknown, steps: Step[]): Report | string {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return 'A report is a JSON object: {"step","part","passed","failed","failing"}.';
  const { step, part, passed, failed, failing, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) return `A report has no field ${JSON.stringify(unknown[0])}.`;
  // A step the workshop does not have is kept, and not drawn: the page shows the manifest's.
  if (!Number.isInteger(step) || (step as number) < 0 || (step as number) > 99)
    return `"step" must be a step number: ${steps.map((s) => s.number).join(', ')}.`;
  if (
    part !== null &&
    part !== undefined &&
    !(typeof part === 'string' && /^[\w-]{1,40}$/.test(part))
  )
    return '"part" must be null or the name of a part, like "key".';
  if (!isCount(passed) || !isCount(failed))
    return `"passed" and "failed" must be whole numbers from 0 to ${LIMITS.count}.`;
  const list: unknown = failing ?? [];
  if (!Array.isArray(list) || list.length > LIMITS.failing)
    return `"failing" must be an array of at most ${LIMITS.failing} groups.`;
  const groups: Failing[] = [];
  for (const group of list) {
    // A bare string is a name without a hint.
    const { name, hint } = (typeof group === 'string' ? { name: group } : (group ?? {})) as Record<
      string,
      unknown
    >;
    if (typeof name !== 'string' || name.length === 0 || name.length > LIMITS.name)
      return `Each failing group has a "name" of 1 to ${LIMITS.name} characters.`;
    if (hint !== null && hint !== undefined && !(Number.isInteger(hint) && (hint as number) > 0))
      return 'Each failing group has a "hint" that is a hint number or null.';
    groups.push({ name: oneLine(name), hint: (hint as number | undefined) ?? null });
  }
  return {
    step: step as number,
    part: (part as string | undefined) ?? null,
    passed,
    failed,
    failing: groups,
  };
}

/** Text as one line without control characters: what is sent is shown on a screen and in a terminal. */
export function oneLine(text: string): string {
  return text.replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ').trim();
}
