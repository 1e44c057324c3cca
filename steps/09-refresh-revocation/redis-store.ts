// The shared store: Redis (node-redis, Redis's own client), for several
// instances of the API that must agree on revocation. Every instance given
// the same REDIS_URL refuses a token that any of them revoked.
//
// When Redis cannot answer, every call throws StoreUnavailable and the app
// answers 503: it fails closed (README.md says why). Each call has its own
// timer: node-redis drops a command's timeout once the command is written,
// so a Redis that is frozen (not down) would otherwise hang every request.
import { createRequire } from 'node:module';
import type { createClient } from 'redis';
import { StoreUnavailable, type Store, type Value } from './store.ts';

// How long a request waits for Redis before it is refused.
const TIMEOUT_MS = 1000;

export class RedisStore implements Store {
  private client: ReturnType<typeof createClient>;
  private connecting?: Promise<void>;
  private down = false;

  /** `prefix` keeps these keys apart from anything else in the same Redis. */
  constructor(
    url: string,
    readonly prefix = 'jwt-koa-workshop:',
    private log: (message: string) => void = console.warn,
  ) {
    this.client = loadRedis().createClient({
      url,
      // No queue while disconnected: a command fails at once, and the
      // request that needed it gets its 503 instead of hanging.
      disableOfflineQueue: true,
      commandOptions: { timeout: TIMEOUT_MS },
      socket: {
        connectTimeout: TIMEOUT_MS,
        reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2000),
      },
    });
    // Without a listener, an 'error' event would end the process. Say it
    // once per outage, not at every retry.
    this.client.on('error', (err: Error) => {
      if (!this.down)
        log(
          `Redis cannot be reached (${err.message}): refusing with 503 until it is back.`,
        );
      this.down = true;
    });
    this.client.on('ready', () => {
      if (this.down) log('Redis is back.');
      this.down = false;
    });
  }

  async get(keys: string[], _now: number): Promise<Value[]> {
    const values = await this.run(() =>
      this.client.mGet(keys.map((key) => this.prefix + key)),
    );
    return values.map((value) => value ?? undefined);
  }

  async set(
    key: string,
    value: string,
    until: number,
    now: number,
  ): Promise<void> {
    await this.run(() =>
      this.client.set(this.prefix + key, value, {
        expiration: { type: 'EX', value: seconds(until, now) },
      }),
    );
  }

  // Redis runs under noeviction (evictionProblem): a revocation is a key
  // like any other.
  async revoke(
    key: string,
    value: string,
    until: number,
    now: number,
  ): Promise<void> {
    await this.set(key, value, until, now);
  }

  // SET ... NX: Redis runs one command at a time, so of two instances
  // adding the same key at once, exactly one gets OK.
  async add(
    key: string,
    value: string,
    until: number,
    now: number,
  ): Promise<boolean> {
    const reply = await this.run(() =>
      this.client.set(this.prefix + key, value, {
        condition: 'NX',
        expiration: { type: 'EX', value: seconds(until, now) },
      }),
    );
    return reply === 'OK';
  }

  // INCR, and an expiry for a new count only (EXPIRE NX, Redis 7).
  async incr(key: string, until: number, now: number): Promise<number> {
    const [count] = await this.run(() =>
      this.client
        .multi()
        .incr(this.prefix + key)
        .expire(this.prefix + key, seconds(until, now), 'NX')
        .exec(),
    );
    return Number(count);
  }

  /**
   * Why this Redis would lose revocations, if it would. Under any eviction
   * policy but noeviction, a full Redis drops keys with an expiry, and every
   * revocation has one: a logged-out token would come back to life.
   */
  async evictionProblem(): Promise<string | undefined> {
    let policy: string | undefined;
    try {
      const reply = await this.run(() =>
        this.client.configGet('maxmemory-policy'),
      );
      policy = reply['maxmemory-policy'];
    } catch {
      return undefined; // CONFIG is off (a managed Redis): nothing to read
    }
    return policy === undefined || policy === 'noeviction'
      ? undefined
      : `Redis's maxmemory-policy is ${policy}, which evicts revocations when ` +
          'memory runs out: set it to noeviction (CONFIG SET maxmemory-policy ' +
          'noeviction, or maxmemory-policy noeviction in redis.conf).';
  }

  async close(): Promise<void> {
    if (this.client.isOpen) this.client.destroy();
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    // Connect on first use: the first command waits for it, or for its
    // first failure, a second at most. Later ones never wait to connect.
    if (this.connecting === undefined) {
      this.connecting = this.client.connect().then(
        () => undefined,
        () => undefined,
      );
      const failed = new Promise((resolve) =>
        this.client.once('error', resolve),
      );
      const timeout = new Promise((resolve) =>
        setTimeout(resolve, TIMEOUT_MS).unref(),
      );
      await Promise.race([this.connecting, failed, timeout]);
    }
    let timer: NodeJS.Timeout | undefined;
    const answer = command();
    const late = new Promise<never>((_, reject) => {
      // setImmediate: an answer that came while this process was busy is
      // read before the timer gives up on it (timers run before I/O).
      const giveUp = () =>
        reject(new Error(`no answer within ${TIMEOUT_MS} ms`));
      timer = setTimeout(() => setImmediate(giveUp), TIMEOUT_MS);
    });
    // An answer that comes after the timer is dropped, errors included.
    answer.catch(() => undefined);
    try {
      return await Promise.race([answer, late]);
    } catch (err) {
      throw new StoreUnavailable(
        `Redis did not answer: ${(err as Error).message}`,
        1,
      );
    } finally {
      clearTimeout(timer);
    }
  }
}

// The store's times are the app's clock; Redis counts from its own, so an
// expiry goes to Redis as seconds from now.
const seconds = (until: number, now: number) => Math.max(1, until - now);

// node-redis is some 650 modules: it is loaded here, when REDIS_URL asks
// for Redis, so that a start without it (the default) stays quick. A
// require, not an import(): a constructor cannot wait for a promise.
const loadRedis = () =>
  createRequire(import.meta.url)('redis') as {
    createClient: typeof createClient;
  };
