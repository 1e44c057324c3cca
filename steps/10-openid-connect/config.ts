// The settings the three services share, each checked once at start-up: a
// bad value stops the service with one line naming the setting and the fix.
import path from 'node:path';

export class ConfigError extends Error {}

/** Where the three services listen unless told otherwise (npm run step 10 sets them). */
export const DEFAULTS = {
  ISSUER_URL: 'http://localhost:3000',
  APP_URL: 'http://localhost:3001',
  API_URL: 'http://localhost:3002',
  CLIENT_ID: 'workshop-web-app',
};

/** The scopes the API knows: what a token may let its bearer do there. */
export const API_SCOPES = ['read:messages', 'write:messages'];

// The web app's client secret, which the provider and the app must agree on.
// A default so that the step runs with no set-up; fine on this machine only.
export const DEV_CLIENT_SECRET = 'dev-only-client-secret-not-for-production';

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

export const isLoopback = (url: string) => LOOPBACK.test(new URL(url).hostname);

/**
 * An origin, http(s)://host:port and no path, written without a trailing
 * slash so that every service spells it the same way: the issuer and the
 * API's resource identifier are compared as strings (OpenID Connect
 * Discovery section 4.3, RFC 8707). Plain http only on this machine:
 * anywhere else tokens would cross the network in clear.
 */
export function urlSetting(
  env: NodeJS.ProcessEnv,
  name: keyof typeof DEFAULTS,
): string {
  const value = env[name] || DEFAULTS[name];
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(
      `${name} must be a URL such as ${DEFAULTS[name]}, not ${JSON.stringify(value)}.`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(
      `${name} must start with http:// or https://, not ${JSON.stringify(value)}.`,
    );
  }
  if (
    url.pathname !== '/' ||
    url.search ||
    url.hash ||
    url.username ||
    url.password
  ) {
    throw new ConfigError(
      `${name} must be scheme, host and port only, such as ${DEFAULTS[name]}, not ${JSON.stringify(value)}.`,
    );
  }
  if (url.protocol === 'http:' && !LOOPBACK.test(url.hostname)) {
    throw new ConfigError(
      `${name} must use https:// unless it is on this machine (localhost): ${JSON.stringify(value)}.`,
    );
  }
  return url.origin;
}

/** A whole number of seconds above 0, written in decimal digits. */
export function secondsSetting(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const seconds = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new ConfigError(
      `${name} must be a whole number of seconds above 0, such as ${fallback}, not ${JSON.stringify(value)}.`,
    );
  }
  return seconds;
}

export function clientSecretSetting(env: NodeJS.ProcessEnv): string {
  const value = env.CLIENT_SECRET || DEV_CLIENT_SECRET;
  if (value.length < 32) {
    throw new ConfigError(
      `CLIENT_SECRET must be at least 32 characters (npm run secret makes one), not ${value.length}.`,
    );
  }
  return value;
}

export function clientIdSetting(env: NodeJS.ProcessEnv): string {
  const value = env.CLIENT_ID || DEFAULTS.CLIENT_ID;
  if (!/^[\w.-]{1,64}$/.test(value)) {
    throw new ConfigError(
      `CLIENT_ID must be 1 to 64 letters, digits, dots, dashes or underscores, not ${JSON.stringify(value)}.`,
    );
  }
  return value;
}

/**
 * REDIS_URL, if set: redis://host:port, or rediss:// for TLS. A password may
 * ride in the URL, so a wrong value is described, never printed.
 */
export function redisUrlSetting(env: NodeJS.ProcessEnv): string | undefined {
  const value = env.REDIS_URL;
  if (value === undefined || value === '') return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (
    !url ||
    (url.protocol !== 'redis:' && url.protocol !== 'rediss:') ||
    url.hostname === ''
  ) {
    const got = url ? `a ${url.protocol} URL` : 'a value that is not a URL';
    throw new ConfigError(
      `REDIS_URL must be a redis:// or rediss:// URL, such as redis://localhost:6379, not ${got}. Unset it to keep the provider's sessions in memory.`,
    );
  }
  return value;
}

/** The provider's key file: outside the step folder, so that no copy or diff of the step carries it. */
export const keysFileSetting = (env: NodeJS.ProcessEnv) =>
  path.resolve(env.KEYS_FILE || path.join('.keys', 'step10-provider.json'));

export const nowInSeconds = () => Math.floor(Date.now() / 1000);
