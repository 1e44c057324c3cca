// The one list of the workshop's steps (steps/steps.json), typed, with the
// paths every test and tool derives from it. Nothing else scans steps/.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Step {
  number: number;
  slug: string;
  title: string;
  /** The file `npx tsx` runs, relative to the step folder. */
  entry: string;
  /** A script that prints and ends, rather than a server (step 00). */
  script?: boolean;
  /** One line on what the step adds to the one before it. */
  adds: string;
  /** What the entry's server is, when the step runs more than one ("login service"). */
  name?: string;
  /** Further servers the step starts beside its entry, each on its own port. */
  also?: { entry: string; port: number; name?: string }[];
  /** The step this one builds on: the step before it unless it says. */
  base?: number;
  /**
   * Commands to try once the servers listen, printed by the launcher; {0},
   * {1}... stand for the servers' URLs.
   */
  try?: string[];
  /** What a library of the step prints that looks wrong and is not, said where it shows (launcher, check). */
  expected?: string;
  /** Environment for the step's servers, with the same {0}, {1}... */
  env?: Record<string, string>;
  /** Parts a learner can finish one at a time: the checkpoint suites of each. */
  parts?: { id: string; title: string; suites: string[] }[];
  /** What `npm run step -- <n> --redis` runs: instances of the entry sharing one Redis. */
  redis?: RedisMode;
  /**
   * Files copied unchanged from an earlier step: what is not this step's
   * lesson. npm run sync copies them; npm run sync -- --check fails on drift.
   */
  inherits?: { from: number; files: string[] }[];
}

export interface RedisMode {
  /** How many instances of the entry to start, each on the next port. */
  instances: number;
  /** Settings every instance must share (the signing key): one random value when unset. */
  shared?: string[];
  /** The Try lines of this mode; {0}, {1}... are the instances. */
  try?: string[];
}

export interface Server {
  entry: string;
  port: number;
  name?: string;
}

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/**
 * What a run kept to go faster next time (the typecheck's build info, the
 * tests' proven results): in node_modules, so never committed and gone on a
 * fresh clone.
 */
export const cacheDir = path.join(root, 'node_modules', '.cache', 'jwt-koa-workshop');
export const steps: Step[] = JSON.parse(
  readFileSync(path.join(root, 'steps', 'steps.json'), 'utf8'),
);
export const latest: Step = steps[steps.length - 1]!;

/** Step by number; accepts 3, "3" or "03". Throws a message a learner can act on. */
export function findStep(value: string | number | undefined): Step {
  const n = typeof value === 'number' ? value : Number.parseInt(String(value ?? ''), 10);
  const step = steps.find((s) => s.number === n);
  if (!step) {
    const known = steps.map((s) => s.number).join(', ');
    throw new Error(
      value === undefined || value === ''
        ? `Which step? The steps are ${known}.`
        : `No step ${JSON.stringify(value)}: the steps are ${known}.`,
    );
  }
  return step;
}

export function stepDir(step: Step): string {
  return path.join(root, 'steps', step.slug);
}

/** Path relative to the repository root with forward slashes, for messages and commands. */
export function rel(file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

export function testFile(step: Step): string {
  return path.join(root, 'test', `${step.slug}.test.ts`);
}

/** The step's servers: its entry and any `also`, with the port each listens on by default. */
export function servers(step: Step): Server[] {
  return [{ entry: step.entry, port: 3000, name: step.name }, ...(step.also ?? [])];
}

/** The step this one builds on, or undefined for the first. */
export function baseOf(step: Step): Step | undefined {
  if (step.base !== undefined) return findStep(step.base);
  return steps[steps.indexOf(step) - 1];
}

/** The steps that build on this one: where a learner goes next. */
export function nextOf(step: Step): Step[] {
  return steps.filter((s) => baseOf(s) === step);
}

/** Put the servers' URLs into a manifest template: {0} is the first server's. */
export function fillUrls(template: string, urls: string[]): string {
  return template.replace(/\{(\d+)\}/g, (whole, i: string) => urls[Number(i)] ?? whole);
}

/** The name of a step's checkpoint suite: tools find a step's results by it. */
export function checkpointName(step: Step): string {
  return `Step ${step.slug.slice(0, 2)}: ${step.title}`;
}

/**
 * Which folder each step's checkpoint runs against, when not its own: step
 * number (or "*" for every step) to folder. Passed to test runs as the
 * environment variable STEP_DIRS, in JSON.
 */
export type CodeDirs = Record<string, string>;
