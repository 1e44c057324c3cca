// The provider's shared store: Redis (node-redis), for a provider whose
// sessions and grants must outlive a restart, or that runs as several
// instances. The rooms of adapter.ts: a kind's anonymous entries are listed
// in a sorted set, oldest first, and only they are pushed out by a flood.
//
// Every call is bounded by a timer of its own: node-redis's command timeout
// stops once a command is written to the socket, so a frozen Redis (SIGSTOP,
// a dead host) would hang the request. Here it is 503 within a second, and
// the next call after Redis wakes up works again.
import { createRequire } from 'node:module';
import type { createClient } from 'redis';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import {
  STORE_LIMITS,
  STORE_TIMEOUT_MS,
  isAnonymous,
  unavailable,
  type ProviderStore,
  type StoreLimits,
} from './adapter.ts';

// Lua runs in Redis as one command: nothing comes between its steps.
// A grant's list of codes and tokens lives as long as its longest member.
const ADD_TO_GRANT = `redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end`;
// Past the limit, the oldest anonymous entries go: list and entry.
const TRIM = `local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[1])
if excess <= 0 then return 0 end
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, excess - 1)) do
  redis.call('DEL', ARGV[2] .. id)
end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, excess - 1)
return excess`;
// Marks a code or refresh token used, if it is still there.
const CONSUME = `if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'consumed', ARGV[1])
end`;

// A policy that evicts keys under memory pressure would sign users out
// (allkeys-*), or drop sessions and grants, which all have a TTL
// (volatile-*). noeviction refuses writes instead: 503, nobody signed out.
const SAFE_POLICY = 'noeviction';

export class RedisAdapter implements ProviderStore {
  private client: ReturnType<typeof createClient>;
  private connecting?: Promise<void>;
  private down = false;
  /** Why every call is refused: Redis may evict what it must keep. */
  private refusal?: string;
  private policyChecked?: Promise<void>;

  /** `prefix` keeps these keys apart from anything else in the same Redis. */
  constructor(
    url: string,
    readonly limits: StoreLimits = STORE_LIMITS,
    readonly prefix = 'step10-provider:',
    private log: (message: string) => void = console.warn,
  ) {
    this.client = loadRedis().createClient({
      url,
      // No queue while disconnected: a call fails at once with 503.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: STORE_TIMEOUT_MS,
        reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2000),
      },
    });
    // Without a listener, an 'error' event would end the process. Say it
    // once per outage, not at every retry.
    this.client.on('error', (err: Error) => {
      if (!this.down)
        log(
          `Redis cannot be reached (${err.message}): the provider answers 503 until it is back.`,
        );
      this.down = true;
    });
    this.client.on('ready', () => {
      if (this.down) log('Redis is back.');
      this.down = false;
      this.policyChecked = this.checkPolicy();
    });
  }

  /** oidc-provider's `adapter` setting: one adapter per kind. */
  readonly factory = (kind: string): Adapter => ({
    upsert: (id, payload, expiresIn) =>
      this.run(() => this.upsert(kind, id, payload, expiresIn)),
    find: (id) => this.run(() => this.find(kind, id)),
    findByUid: (uid) => this.findBy(kind, `uid:${uid}`),
    findByUserCode: (code) => this.findBy(kind, `userCode:${code}`),
    consume: (id) =>
      this.run(async () => {
        await this.client.eval(CONSUME, {
          keys: [this.key(kind, id)],
          arguments: [String(Math.floor(Date.now() / 1000))],
        });
      }),
    destroy: (id) =>
      this.run(async () => {
        await this.client
          .multi()
          .del(this.key(kind, id))
          .zRem(this.key('anonymous', kind), id)
          .exec();
      }),
    revokeByGrantId: (grantId) =>
      this.run(async () => {
        const grant = this.key(`grant:${kind}`, grantId);
        const ids = await this.client.sMembers(grant);
        await this.client.del([grant, ...ids.map((id) => this.key(kind, id))]);
      }),
  });

  /** Connects, and says why the provider must not run on this Redis, if it must not. */
  async check(): Promise<string | undefined> {
    await this.run(() => this.client.ping()).catch(() => {});
    await this.policyChecked;
    return this.refusal;
  }

  async close(): Promise<void> {
    if (this.client.isOpen) this.client.destroy();
  }

  private key = (kind: string, id: string) => `${this.prefix}${kind}:${id}`;

  private async upsert(
    kind: string,
    id: string,
    payload: AdapterPayload,
    expiresIn = 0,
  ): Promise<void> {
    const key = this.key(kind, id);
    const lifetime = expiresIn > 0 ? expiresIn : 365 * 86400;
    const anonymous = this.key('anonymous', kind);
    // A hash: payload, and consumed once used (CONSUME).
    const multi = this.client
      .multi()
      .del(key)
      .hSet(key, 'payload', JSON.stringify(payload))
      .expire(key, lifetime);
    for (const index of ['uid', 'userCode'] as const) {
      const value = payload[index];
      if (typeof value === 'string')
        multi.set(this.key(kind, `${index}:${value}`), id, {
          expiration: { type: 'EX', value: lifetime },
        });
    }
    if (payload.grantId)
      multi.eval(ADD_TO_GRANT, {
        keys: [this.key(`grant:${kind}`, payload.grantId)],
        arguments: [id, String(lifetime)],
      });
    if (isAnonymous(kind, payload))
      multi.zAdd(anonymous, { score: Date.now(), value: id }).eval(TRIM, {
        keys: [anonymous],
        arguments: [String(this.limits.anonymous), this.key(kind, '')],
      });
    else multi.zRem(anonymous, id);
    await multi.exec();
  }

  private async find(
    kind: string,
    id: string,
  ): Promise<AdapterPayload | undefined> {
    const { payload, consumed } = await this.client.hGetAll(this.key(kind, id));
    if (payload === undefined) return undefined;
    const found = JSON.parse(payload) as AdapterPayload;
    if (consumed !== undefined) found.consumed = Number(consumed);
    return found;
  }

  private findBy(kind: string, index: string) {
    return this.run(async () => {
      const id = await this.client.get(this.key(kind, index));
      return id === null ? undefined : this.find(kind, id);
    });
  }

  private async checkPolicy(): Promise<void> {
    let policy: string | undefined;
    try {
      const reply = await this.within(
        this.client.configGet('maxmemory-policy'),
      );
      policy = reply['maxmemory-policy'];
    } catch {
      return; // no answer, or CONFIG is forbidden (managed Redis): cannot tell
    }
    const refusal =
      policy && policy !== SAFE_POLICY
        ? `Redis's maxmemory-policy is ${policy}: it may evict signed-in users' sessions and grants. Set it to ${SAFE_POLICY} (redis-cli CONFIG SET maxmemory-policy ${SAFE_POLICY}).`
        : undefined;
    if (refusal && refusal !== this.refusal) this.log(refusal);
    this.refusal = refusal;
  }

  // One call, one timer: whatever Redis does, the request has its answer
  // within STORE_TIMEOUT_MS. A call that answers late is dropped.
  private async run<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await this.within(this.ready().then(call));
    } catch (err) {
      if (err instanceof errors.OIDCProviderError) throw err;
      throw unavailable(
        `The provider's store (Redis) cannot answer (${(err as Error).message}): try again in a few seconds.`,
      );
    }
  }

  private async within<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      // setImmediate: an answer that came while this process was busy is
      // read before the timer gives up on it (timers run before I/O).
      const giveUp = () =>
        reject(
          unavailable(
            `The provider's store (Redis) did not answer within ${STORE_TIMEOUT_MS} ms: try again in a few seconds.`,
          ),
        );
      timer = setTimeout(() => setImmediate(giveUp), STORE_TIMEOUT_MS);
    });
    try {
      return await Promise.race([work, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  // Connect on first use; after that, a Redis that is down fails at once.
  private async ready(): Promise<void> {
    if (this.connecting === undefined) {
      this.connecting = this.client.connect().then(
        () => undefined,
        () => undefined,
      );
      await Promise.race([
        this.connecting,
        new Promise((resolve) => this.client.once('error', resolve)),
      ]);
    }
    if (!this.client.isReady)
      throw unavailable(
        "The provider's store (Redis) cannot be reached: try again in a few seconds.",
      );
    if (this.refusal) throw unavailable(this.refusal);
  }
}

// node-redis is some 650 modules: it is loaded here, when REDIS_URL asks
// for Redis, so that a start without it (the default) stays quick. A
// require, not an import(): a constructor cannot wait for a promise.
const loadRedis = () =>
  createRequire(import.meta.url)('redis') as {
    createClient: typeof createClient;
  };
