// The settings step 07 adds to step 06's: how long APIs keep a JWKS, and
// where they fetch it from.
import { ConfigError } from './errors.ts';

/** APIs refetch the JWKS at least hourly, or a withdrawn key would stay trusted for hours. */
export const MAX_JWKS_MAX_AGE_SECONDS = 3600;

/** An http: or https: URL, such as the JWKS_URL the API fetches its keys from. */
export function httpUrl(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: string,
): string {
  const value = env[name] ?? fallback;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ConfigError(
      `${name} must be an http:// or https:// URL, like ${fallback}, not ${JSON.stringify(value)}.`,
    );
  }
  return url.href;
}
