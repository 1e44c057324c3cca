// The learner's workspace: a copy of one step to code along in. A manifest
// remembers which step it came from and what each file held, so that tools
// can tell a fresh copy from one with the learner's changes.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { findStep, rel, root, stepDir, type Step } from './steps.ts';

export const defaultWorkspace = path.join(root, 'workspace');
const MANIFEST = '.workshop.json';

interface Manifest {
  step: number;
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

/** The step a workspace was started from, if it says. */
export function workspaceStep(dir: string): Step | undefined {
  const manifest = readManifest(dir);
  return manifest ? findStep(manifest.step) : undefined;
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

/** Replace the workspace with a copy of the step. */
export function startFrom(step: Step, dir: string): string[] {
  rmSync(dir, { recursive: true, force: true });
  cpSync(stepDir(step), dir, { recursive: true });
  const files = listFiles(dir);
  const manifest: Manifest = { step: step.number, files: Object.fromEntries(files.map((f) => [f, digest(path.join(dir, f))])) };
  writeFileSync(path.join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return files;
}

/** Why copying over `dir` needs the learner's say-so, or undefined when it does not. */
export function overwriteConcern(dir: string): string | undefined {
  const changed = changedFiles(dir);
  if (changed.length === 0) return undefined;
  const list = changed.slice(0, 5).join(', ') + (changed.length > 5 ? ', ...' : '');
  return `${rel(dir)} has changes of yours (${list})`;
}
