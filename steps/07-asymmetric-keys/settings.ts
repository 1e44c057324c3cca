// The settings both services read from the environment, checked when they
// start: a wrong one is one line naming it and the fix, then exit 1, rather
// than a stack trace or a check quietly switched off later.
import { ConfigError } from './errors.ts';

/** No token outlives a day: a bound for TOKEN_TTL_SECONDS, and for how long old keys are kept. */
export const MAX_TTL_SECONDS = 86400;
/** APIs refetch the JWKS at least hourly, or a withdrawn key would stay trusted for hours. */
export const MAX_JWKS_MAX_AGE_SECONDS = 3600;

/**
 * A whole number of seconds, in decimal digits only: Number() would read
 * "0x10" as 16, " 40 " as 40 and "abc" as NaN, which turns a check off.
 */
export function seconds(env: NodeJS.ProcessEnv, name: string, fallback: number, max: number): number {
  const value = env[name];
  if (value === undefined) return fallback;
  if (!/^[0-9]{1,6}$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new ConfigError(`${name} must be a whole number of seconds from 1 to ${max}, in digits (like ${fallback}), not ${JSON.stringify(value)}.`);
  }
  return Number(value);
}

/** An http: or https: URL, such as the JWKS_URL the API fetches its keys from. */
export function httpUrl(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const value = env[name] ?? fallback;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ConfigError(`${name} must be an http:// or https:// URL, like ${fallback}, not ${JSON.stringify(value)}.`);
  }
  return url.href;
}
