// Step 06's settings, and what sessions add: how long a login's refresh
// tokens last, how long a spent one still gets its successor, and where
// refresh tokens and revocations are kept (this process, or Redis).
import { loadConfig as loadTokenConfig, type Config } from './config.ts';
import { ConfigError } from './errors.ts';
import { RedisStore } from './redis-store.ts';
import { seconds } from './settings.ts';
import { LOGINS_PER_DAY, REFRESHES_PER_DAY } from './sessions.ts';
import { MemoryStore, type Store } from './store.ts';

export interface SessionConfig extends Config {
  /** Lifetime of a login's refresh tokens, in seconds: log in again after it. */
  refreshTtlSeconds: number;
  /** How long a spent refresh token still gets its successor (a second tab), in seconds. */
  graceSeconds: number;
  /** Refresh tokens and revocations: in this process, or in Redis. */
  store: Store;
  /** One user's share of the store, a day: no one user can fill it. */
  loginsPerDay: number;
  refreshesPerDay: number;
}

export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  warn: (message: string) => void = console.warn,
): SessionConfig {
  // Access tokens of five minutes: a refresh gets the next one.
  const config = loadTokenConfig(env, warn, 300);
  return {
    ...config,
    refreshTtlSeconds: seconds(
      env,
      'REFRESH_TTL_SECONDS',
      86400,
      30 * 86400,
      60,
    ),
    graceSeconds: seconds(env, 'REFRESH_GRACE_SECONDS', 10, 60, 0),
    loginsPerDay: count(env, 'LOGINS_PER_DAY', LOGINS_PER_DAY),
    refreshesPerDay: count(env, 'REFRESHES_PER_DAY', REFRESHES_PER_DAY),
    store: env.REDIS_URL
      ? new RedisStore(redisUrl(env.REDIS_URL), undefined, warn)
      : new MemoryStore(),
  };
}

// redis://host:port, or rediss:// for TLS; a password may ride in the URL,
// so a wrong value is described, never printed.
function redisUrl(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  const redis = url?.protocol === 'redis:' || url?.protocol === 'rediss:';
  if (!url || !redis || url.hostname === '') {
    const got = url ? `a ${url.protocol} URL` : 'a value that is not a URL';
    throw new ConfigError(
      'REDIS_URL must be a redis:// or rediss:// URL, such as ' +
        `redis://localhost:6379, not ${got}. Unset it to keep everything in memory.`,
    );
  }
  return value;
}

// A count, in decimal digits only, as settings.ts reads seconds.
function count(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined) return fallback;
  if (!/^[0-9]{1,9}$/.test(value) || Number(value) < 1)
    throw new ConfigError(
      `${name} must be a whole number from 1 to 999999999, in digits ` +
        `(like ${fallback}), not ${JSON.stringify(value)}.`,
    );
  return Number(value);
}
