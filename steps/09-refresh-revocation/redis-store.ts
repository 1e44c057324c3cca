// The shared store: Redis (node-redis, Redis's own client), for several
// instances of the API that must agree on revocation. Every instance given
// the same REDIS_URL refuses a token that any of them revoked.
//
// When Redis cannot answer, every call throws StoreUnavailable and the app
// answers 503: it fails closed (README.md says why).
import { createClient } from 'redis';
import { StoreUnavailable, type Store, type Value } from './store.ts';

// How long a request waits for Redis before it is refused.
const TIMEOUT_MS = 1000;

export class RedisStore implements Store {
  private client: ReturnType<typeof createClient>;
  private connecting?: Promise<void>;
  private down = false;

  /** `prefix` keeps these keys apart from anything else in the same Redis. */
  constructor(url: string, readonly prefix = 'jwt-koa-workshop:', private log: (message: string) => void = console.warn) {
    this.client = createClient({
      url,
      // No queue while disconnected: a command fails at once, and the
      // request that needed it gets its 503 instead of hanging.
      disableOfflineQueue: true,
      commandOptions: { timeout: TIMEOUT_MS },
      socket: { connectTimeout: TIMEOUT_MS, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2000) },
    });
    // Without a listener, an 'error' event would end the process. Say it
    // once per outage, not at every retry.
    this.client.on('error', (err: Error) => {
      if (!this.down) log(`Redis cannot be reached (${err.message}): refusing with 503 until it is back.`);
      this.down = true;
    });
    this.client.on('ready', () => {
      if (this.down) log('Redis is back.');
      this.down = false;
    });
  }

  async get(keys: string[], _now: number): Promise<Value[]> {
    const values = await this.run(() => this.client.mGet(keys.map((key) => this.prefix + key)));
    return values.map((value) => value ?? undefined);
  }

  async set(key: string, value: string, until: number, now: number): Promise<void> {
    await this.run(() => this.client.set(this.prefix + key, value, { expiration: { type: 'EX', value: seconds(until, now) } }));
  }

  // SET ... NX: Redis runs one command at a time, so of two instances
  // adding the same key at once, exactly one gets OK.
  async add(key: string, value: string, until: number, now: number): Promise<boolean> {
    const reply = await this.run(() => this.client.set(this.prefix + key, value, { condition: 'NX', expiration: { type: 'EX', value: seconds(until, now) } }));
    return reply === 'OK';
  }

  async close(): Promise<void> {
    if (this.client.isOpen) this.client.destroy();
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    // Connect on first use: the first command waits for it, or for its
    // first failure, a second at most. Later ones never wait to connect.
    if (this.connecting === undefined) {
      this.connecting = this.client.connect().then(() => undefined, () => undefined);
      const failed = new Promise((resolve) => this.client.once('error', resolve));
      const timeout = new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS).unref());
      await Promise.race([this.connecting, failed, timeout]);
    }
    try {
      return await command();
    } catch (err) {
      throw new StoreUnavailable(`Redis did not answer: ${(err as Error).message}`);
    }
  }
}

// The store's times are the app's clock; Redis counts from its own, so an
// expiry goes to Redis as seconds from now.
const seconds = (until: number, now: number) => Math.max(1, until - now);
