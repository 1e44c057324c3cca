// Settings read from the environment are checked when the server starts: a
// wrong one is one line naming it and the fix, then exit 1, rather than a
// stack trace or a check quietly switched off later.
import { ConfigError } from './errors.ts';

/** No token outlives a day. */
export const MAX_TTL_SECONDS = 86400;

/**
 * A whole number of seconds, in decimal digits only: Number() would read
 * "0x10" as 16, " 40 " as 40 and "abc" as NaN, which turns a check off.
 */
export function seconds(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  max = MAX_TTL_SECONDS,
  min = 1,
): number {
  const value = env[name];
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^[0-9]{1,8}$/.test(value) || n < min || n > max) {
    throw new ConfigError(
      `${name} must be a whole number of seconds from ${min} to ${max}, ` +
        `in digits (like ${fallback}), not ${JSON.stringify(value)}.`,
    );
  }
  return n;
}
