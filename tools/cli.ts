// What every workshop command shares: parse flags with node:util's parseArgs,
// answer --help, turn a usage mistake into one line instead of a stack trace,
// and end quietly when the reader of its output stops early.
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { findStep, steps, type Step } from './steps.ts';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values<O extends Options> = {
  [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string;
};

export interface Parsed<O extends Options> {
  values: Values<O>;
  positionals: string[];
}

/**
 * Which positional arguments a command takes: how many at most, and what one
 * looks like. With it, a flag typed without `--` still does what was meant.
 */
export interface PositionalSpec {
  max: number;
  looksLike?: (value: string) => boolean;
}

/**
 * Flags typed without `--` before them (`npm run check 5 --dir workspace`):
 * npm keeps them for itself, sets npm_config_<flag>=true, and passes their
 * values on as positional arguments. Give each such flag its value back:
 * the positionals that do not look like the command's own, else those past
 * its maximum. Returns undefined when that cannot be told apart.
 */
/** npm's own settings that share a name with a flag of ours: their npm_config_ value is npm's. */
const NPM_SETTINGS = new Set([
  'cache',
  'json',
  'force',
  'all',
  'user',
  'password',
  'registry',
  'token',
  'prefix',
  'global',
]);
/** Flags of ours that npm takes for the start of a setting of its own: --to becomes --token-description. */
const NPM_EXPANDS: Record<string, string> = { to: 'token_description' };

export function npmFlags<O extends Options>(
  options: O,
  positionals: string[],
  spec: PositionalSpec,
  env: NodeJS.ProcessEnv = process.env,
): Parsed<O> | undefined {
  const values: Record<string, string | boolean> = {};
  const wanting: string[] = [];
  for (const [name, option] of Object.entries(options)) {
    // npm reads --no-watch as watch=false.
    const negated = name.startsWith('no-')
      ? env[`npm_config_${name.slice(3).replace(/-/g, '_')}`]
      : undefined;
    if (option.type === 'boolean' && negated === 'false') values[name] = true;
    const expanded = NPM_EXPANDS[name];
    const value =
      env[`npm_config_${name.replace(/-/g, '_')}`] ??
      (expanded ? env[`npm_config_${expanded}`] : undefined);
    if (value === undefined || value === '') continue;
    if (option.type === 'boolean') values[name] = value === 'true';
    // "true": npm took the flag and passed its value on as a positional.
    else if (value === 'true') wanting.push(name);
    // Another value: --dir=workspace, unless the name is one of npm's own
    // settings, which npm sets whatever was typed (npm_config_cache, always).
    else if (!NPM_SETTINGS.has(name)) values[name] = value;
  }
  if (wanting.length === 0) return { values: values as Values<O>, positionals };
  // Two or more: npm keeps no order between flags and values, so guessing
  // could swap them (--part key --dir workspace). Ask for the exact command.
  if (wanting.length > 1) return undefined;
  const own = positionals.filter((p) => spec.looksLike?.(p) ?? true);
  const strangers = positionals.filter((p) => !(spec.looksLike?.(p) ?? true));
  let taken: string[];
  let kept: string[];
  if (strangers.length === wanting.length) [taken, kept] = [strangers, own];
  else if (strangers.length === 0 && own.length === spec.max + wanting.length)
    [taken, kept] = [own.slice(spec.max), own.slice(0, spec.max)];
  else return undefined;
  wanting.forEach((name, i) => (values[name] = taken[i]!));
  return { values: values as Values<O>, positionals: kept };
}

/** The command as it should have been typed, with the flags after `--`. */
export function asTyped(
  parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] },
  script = process.env.npm_lifecycle_event,
): string {
  const flags = Object.entries(parsed.values).flatMap(([name, value]) =>
    value === true
      ? [`--${name}`]
      : value === false || value === undefined
        ? []
        : [`--${name}`, String(value)],
  );
  return `npm run ${script ?? '<command>'} -- ${[...parsed.positionals, ...flags].join(' ')}`.trim();
}

/**
 * A reader that stops early (`npm run -s diff 8 | head`) closes the pipe:
 * end quietly, as cat and grep do, instead of with a stack trace.
 */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listeners('error').includes(closedPipe)) continue;
    stream.on('error', closedPipe);
  }
}

function closedPipe(err: NodeJS.ErrnoException): void {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
}

export function cli<O extends Options>(
  usage: string,
  options: O,
  spec: PositionalSpec = { max: Infinity },
): Parsed<O> {
  quietOnClosedPipe();
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }) as unknown as Parsed<O>;
  } catch (err) {
    fail(`${(err as Error).message}\n${usage.trim()}`);
  }
  if ((parsed.values as { help?: boolean }).help || process.env.npm_config_help === 'true') {
    console.log(usage.trim());
    process.exit(0);
  }
  const fromNpm = npmFlags(options, parsed.positionals, spec);
  if (fromNpm === undefined) {
    const taken = Object.keys(options).filter(
      (name) => process.env[`npm_config_${name.replace(/-/g, '_')}`] === 'true',
    );
    const own = parsed.positionals.filter((p) => spec.looksLike?.(p) ?? true).slice(0, spec.max);
    const command = `npm run ${process.env.npm_lifecycle_event ?? '<command>'} -- ${[...own, ...taken.map((name) => `--${name} <${name}>`)].join(' ')}`;
    fail(
      `npm took ${taken.map((n) => `--${n}`).join(' and ')} for itself and passed on ${parsed.positionals.join(' ')} without saying which is which. Type the flags after --:\n  ${command}`,
    );
  }
  const merged = {
    values: { ...fromNpm.values, ...parsed.values },
    positionals: fromNpm.positionals,
  };
  if (Object.keys(fromNpm.values).length > 0) console.error(dim(`(read as: ${asTyped(merged)})`));
  if (merged.positionals.length > spec.max)
    fail(`Too many arguments: ${merged.positionals.join(' ')}\n${usage.trim()}`);
  return merged;
}

/**
 * A folder or file the learner named, as they meant it: from the folder they
 * typed the command in (npm runs every script at the workshop's root, and
 * says where it was typed in INIT_CWD).
 */
export function userPath(value: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), value);
}

/** The step a command was given, or the usage and exit 1. */
export function stepArgument(positionals: string[], usage: string): Step {
  try {
    return findStep(positionals[0]);
  } catch (err) {
    fail(`${(err as Error).message}\n${usage.trim()}`);
  }
}

/** The part --part names, checked against the step's parts in the manifest, or one line and exit 1. */
export function partArgument(step: Step | undefined, part: string | undefined): string | undefined {
  if (part === undefined) return undefined;
  const ids = (step?.parts ?? []).map((p) => p.id);
  if (ids.includes(part)) return part;
  const inParts = steps.find((s) => s.parts?.length);
  if (ids.length > 0)
    fail(`Step ${step!.number} has no part "${part}": its parts are ${ids.join(', ')}.`);
  fail(
    `--part needs one step that is in parts${inParts ? `, like step ${inParts.number} (${inParts.parts!.map((p) => p.id).join(', ')})` : ''}.`,
  );
}

/** A port from --port or PORT: a whole number from 1 to 65535, or one line and exit 1. */
export function portArgument(value: string | undefined, what = '--port'): number | undefined {
  if (value === undefined || value === '') return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || port < 1 || port > 65535)
    fail(`${what} takes a port number from 1 to 65535, not ${JSON.stringify(value)}.`);
  return port;
}

/** Print a message for the learner and exit 1. */
export function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number) => (text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
export const red = paint(31);
export const green = paint(32);
export const yellow = paint(33);
export const cyan = paint(36);
export const magenta = paint(35);
export const dim = paint(2);
export const bold = paint(1);

/** Whether the module with this import.meta.url is the script node was asked to run. */
export function isMain(url: string): boolean {
  try {
    return realpathSync(process.argv[1] ?? '.') === fileURLToPath(url);
  } catch {
    return false;
  }
}
