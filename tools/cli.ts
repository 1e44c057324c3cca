// What every workshop command shares: parse flags with node:util's parseArgs,
// answer --help, and turn a usage mistake into one line instead of a stack trace.
import { realpathSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

export function cli<O extends Options>(usage: string, options: O) {
  try {
    const parsed = parseArgs({ options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    if ((parsed.values as { help?: boolean }).help) {
      console.log(usage.trim());
      process.exit(0);
    }
    return parsed as unknown as { values: { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string }; positionals: string[] };
  } catch (err) {
    fail(`${(err as Error).message}\n${usage.trim()}`);
  }
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

/** Whether the module at `filename` (its import.meta.filename) is the script node was asked to run. */
export function isMain(filename: string): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(filename);
  } catch {
    return false;
  }
}
