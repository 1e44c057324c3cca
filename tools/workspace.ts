// The learner's workspace: a copy of one step to code along in, or the
// exercise for the next step (exercise.ts hands it out: the step it builds
// on, with TODO markers). A manifest remembers where it came from and what
// each file held, so that tools can tell a fresh copy from one with the
// learner's changes, and which step it holds.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { fail, yellow } from './cli.ts';
import { findStep, rel, root, stepDir, type Step } from './steps.ts';

export const defaultWorkspace = path.join(root, 'workspace');
/** The manifest's file name, in the workspace. */
export const MANIFEST = '.workshop.json';
/** Files of a step folder that are about the step, not code to copy. */
const NOT_COPIED = new Set(['EXERCISE.md']);

interface Manifest {
  /** The step whose code the workspace started from. */
  step: number;
  /** The step the learner is working towards, for an exercise. */
  target?: number;
  files: Record<string, string>;
}

/** Every file below dir, as forward-slash paths relative to it. */
export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (sub: string) => {
    for (const name of readdirSync(path.join(dir, sub))) {
      const rel = sub ? `${sub}/${name}` : name;
      if (statSync(path.join(dir, rel)).isDirectory()) walk(rel);
      else out.push(rel);
    }
  };
  walk('');
  return out.sort();
}

const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

function readManifest(dir: string): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, MANIFEST), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

/** Whether `dir` is a workspace the tools made (it has their manifest). */
export function isWorkspace(dir: string): boolean {
  return existsSync(path.join(dir, MANIFEST));
}

/** The step a workspace was started from, if it says. */
export function workspaceStep(dir: string): Step | undefined {
  const manifest = readManifest(dir);
  return manifest ? findStep(manifest.step) : undefined;
}

/** The step a workspace is working towards: the exercise's, else the step it holds. */
export function workspaceTarget(dir: string): Step | undefined {
  const manifest = readManifest(dir);
  return manifest ? findStep(manifest.target ?? manifest.step) : undefined;
}

/** The step whose exercise `dir` holds; undefined for a copy of a step's code, or no workspace. */
export function exerciseIn(dir: string): Step | undefined {
  const target = readManifest(dir)?.target;
  return target === undefined ? undefined : findStep(target);
}

/** What a workspace holds, in words: "step 9's code" or "the exercise for step 6". */
export function describeWorkspace(dir: string): string | undefined {
  const manifest = readManifest(dir);
  if (!manifest) return undefined;
  return manifest.target === undefined
    ? `step ${manifest.step}'s code`
    : `the exercise for step ${manifest.target}`;
}

/** Files the learner added, changed or deleted since the copy; all of them when there is no manifest. */
export function changedFiles(dir: string): string[] {
  const files = listFiles(dir).filter((f) => f !== MANIFEST);
  const manifest = readManifest(dir);
  if (!manifest) return files;
  const changed = files.filter((f) => manifest.files[f] !== digest(path.join(dir, f)));
  const deleted = Object.keys(manifest.files).filter((f) => !files.includes(f));
  return [...changed, ...deleted].sort();
}

/**
 * A step's README as it reads from the workspace: relative links point to
 * the same files as before, and commands name the workspace, not the step.
 */
export function readmeFor(text: string, from: string, dir: string, step: Step): string {
  const relink = (target: string) => {
    if (/^(?:[a-z]+:|#|\/)/i.test(target)) return target;
    return path.relative(dir, path.resolve(from, target)).split(path.sep).join('/') || '.';
  };
  return text
    .replace(
      /(\]\()([^)\s]+)(\))/g,
      (_, open: string, target: string, close: string) => `${open}${relink(target)}${close}`,
    )
    .replace(
      /(src=")([^"]+)(")/g,
      (_, open: string, target: string, close: string) => `${open}${relink(target)}${close}`,
    )
    .replaceAll(`steps/${step.slug}/`, `${rel(dir)}/`)
    .replace(new RegExp(`npm run step ${step.number}\\b`, 'g'), 'npm run dev');
}

/** Record where the workspace came from, and what each file holds now; returns the files. */
export function writeManifest(dir: string, manifest: Omit<Manifest, 'files'>): string[] {
  const files = listFiles(dir).filter((f) => f !== MANIFEST);
  const full: Manifest = {
    ...manifest,
    files: Object.fromEntries(files.map((f) => [f, digest(path.join(dir, f))])),
  };
  writeFileSync(path.join(dir, MANIFEST), `${JSON.stringify(full, null, 2)}\n`);
  return files;
}

const REGION = /^[ \t]*\/\/[ \t]*#(end)?region\b.*\n/gm;

/** A step's file as a workspace holds it: code without the region markers, which only the slides need. */
export const asInWorkspace = (file: string, text: string): string =>
  /\.(ts|js|mjs)$/.test(file) ? text.replace(REGION, '') : text;

/** Replace `dir` with a copy of the step's files, without the region markers. */
export function copyStep(step: Step, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  cpSync(stepDir(step), dir, {
    recursive: true,
    filter: (source) => !NOT_COPIED.has(path.basename(source)),
  });
  for (const file of listFiles(dir)) {
    const full = path.join(dir, file);
    const text = readFileSync(full, 'utf8');
    const kept = asInWorkspace(file, text);
    if (kept !== text) writeFileSync(full, kept);
  }
  const readme = path.join(dir, 'README.md');
  if (existsSync(readme))
    writeFileSync(readme, readmeFor(readFileSync(readme, 'utf8'), stepDir(step), dir, step));
}

/** Replace the workspace with a copy of the step. */
export function startFrom(step: Step, dir: string): string[] {
  copyStep(step, dir);
  return writeManifest(dir, { step: step.number });
}

/** Why copying over `dir` needs the learner's say-so, or undefined when it does not. */
export function overwriteConcern(dir: string): string | undefined {
  const changed = changedFiles(dir);
  if (changed.length === 0) return undefined;
  const list = changed.slice(0, 5).join(', ') + (changed.length > 5 ? ', ...' : '');
  return `${rel(dir)} has changes of yours (${list})`;
}

/** Keep a copy of `dir` beside it before it is replaced; returns where. */
export function backUp(dir: string, now = new Date()): string {
  const stamp = now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  const backup = `${dir}.bak-${stamp}`;
  cpSync(dir, backup, { recursive: true });
  return backup;
}

/** Whether git ignores `dir` (so a learner's copy never lands in a commit); true where git cannot tell. */
export function ignoredByGit(dir: string): boolean {
  const result = spawnSync('git', ['check-ignore', '-q', `${path.relative(root, dir) || '.'}/`], {
    cwd: root,
  });
  return result.error !== undefined || result.status !== 1;
}

/**
 * Replace a workspace for a person at a terminal: ask before overwriting
 * their changes (or take --force), keep a backup of them, and say what now.
 */
export async function replaceWorkspace(
  dir: string,
  force: boolean,
  what: string,
  replace: () => string[],
): Promise<string[]> {
  const concern = overwriteConcern(dir);
  if (concern !== undefined && !force) {
    if (!process.stdin.isTTY) fail(`${concern}: add --force to replace them (a backup is kept).`);
    const prompt = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await prompt.question(
      `${concern}. Replace them with ${what}? A backup is kept. [y/N] `,
    );
    prompt.close();
    if (!/^y(es)?$/i.test(answer.trim())) fail('Nothing changed.');
  }
  if (concern !== undefined)
    console.log(yellow(`Your changes are kept in ${rel(backUp(dir))}/ (git ignores it).`));
  if (!ignoredByGit(dir))
    console.log(
      yellow(
        `git does not ignore ${rel(dir)}/: name it workspace-<something> (ignored), or keep it out of your commits.`,
      ),
    );
  return replace();
}
