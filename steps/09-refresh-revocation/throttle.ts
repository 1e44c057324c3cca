// Login throttling (OWASP Authentication Cheat Sheet, "Account Lockout").
// Each attempt is counted before its password is hashed, so that 200
// requests at once cannot all slip past the count while the first hashes
// run; a right password gives it back.
//
// A lock on an account must not lock its owner out: anyone who knows the name
// could keep it locked. So the account's limit holds back only clients that
// have not proven themselves. A client that logged in before, shown by a
// device cookie or by its address, is counted on its own and goes first
// (OWASP, "Slow Down Online Guessing Attacks with Device Cookies").
import { AuthError } from './errors.ts';

/** Attempts that do not log in, allowed within `within` seconds; then `wait` seconds of 429. */
export interface Limit {
  failures: number;
  within: number;
  wait: number;
}

export interface LoginLimits {
  accountAtAddress: Limit;
  address: Limit;
  account: Limit;
  /** Password hashes at once, and how many more may wait their turn. */
  concurrentHashes: number;
  waitingHashes: number;
  /** How long a refused attempt waits for its 429, in ms. */
  refusalPauseMs: number;
}

// #region login-limits
export const LOGIN_LIMITS: LoginLimits = {
  // One client guessing at one account: 15 min.
  accountAtAddress: { failures: 5, within: 900, wait: 900 },
  // One client trying many accounts: an hour.
  address: { failures: 100, within: 86400, wait: 3600 },
  // Many clients at one account: a minute, and never its proven clients.
  account: { failures: 50, within: 900, wait: 60 },
  // scrypt runs in libuv's 4 threads, as file reads do.
  concurrentHashes: 2,
  waitingHashes: 64,
  // A 429 takes a second: a flood slows to a trickle.
  refusalPauseMs: 1000,
};
// #endregion

/** A client that logged in as this user before: its device cookie's id, if any. */
export interface Proof {
  device?: string;
}

// Keys kept at most, per counter: a flood of made-up names or addresses
// cannot grow memory without bound.
const MAX_KEYS = 100_000;
// How long an address that logged in stays known for its user.
const KNOWN_FOR_SECONDS = 30 * 86400;

/** Failures per key within a window; over the limit, the key waits. */
export class FailureCounter {
  private entries = new Map<
    string,
    { failures: number; resetAt: number; blockedUntil: number }
  >();

  constructor(
    private readonly limit: Limit,
    private readonly now: () => number,
  ) {}

  /** Count a failure of `key`: 0 when it may go on, or the seconds it must wait. */
  count(key: string): number {
    const now = this.now();
    let entry = this.entries.get(key);
    if (entry && entry.blockedUntil > now) return entry.blockedUntil - now;
    // A new window when the last one ended, or its wait did.
    if (!entry || entry.resetAt <= now || entry.blockedUntil > 0) {
      entry = {
        failures: 0,
        resetAt: now + this.limit.within,
        blockedUntil: 0,
      };
      this.entries.delete(key);
      this.entries.set(key, entry);
      this.prune(now);
    }
    entry.failures++;
    if (entry.failures <= this.limit.failures) return 0;
    entry.blockedUntil = now + this.limit.wait;
    return this.limit.wait;
  }

  /** Take back one failure of `key` (it was no failure), unless it waits. */
  giveBack(key: string): void {
    const entry = this.entries.get(key);
    if (entry && entry.failures > 0 && entry.blockedUntil <= this.now())
      entry.failures--;
  }

  forget(key: string): void {
    this.entries.delete(key);
  }

  // A Map iterates in insertion order: the first keys are the oldest.
  private prune(now: number): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= MAX_KEYS) return;
      if (entry.blockedUntil <= now || this.entries.size > 2 * MAX_KEYS)
        this.entries.delete(key);
    }
  }
}

export class LoginThrottle {
  readonly accountAtAddress: FailureCounter;
  readonly address: FailureCounter;
  readonly account: FailureCounter;
  /** "name address" -> until when that address is known for that user. */
  private known = new Map<string, number>();
  private hashing = 0;
  private waiting: (() => void)[] = [];

  constructor(
    readonly limits: LoginLimits = LOGIN_LIMITS,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    this.accountAtAddress = new FailureCounter(limits.accountAtAddress, now);
    this.address = new FailureCounter(limits.address, now);
    this.account = new FailureCounter(limits.account, now);
  }

  /** Did this client log in as `name` before? */
  proven(name: string, address: string, proof: Proof = {}): boolean {
    if (proof.device) return true;
    const until = this.known.get(JSON.stringify([name, address]));
    return until !== undefined && until > this.now();
  }

  /**
   * Count an attempt at `name` from `address` as a failure until
   * loggedIn() says otherwise: 0 to go on, or the seconds to wait.
   */
  async countAttempt(
    name: string,
    address: string,
    proof: Proof = {},
  ): Promise<number> {
    // A proven client is counted alone: a flood elsewhere cannot stop it.
    // Otherwise the address first: once it is refused, a flood from it
    // costs one count, and made-up user names from it store nothing.
    const counts: [FailureCounter, string][] = this.proven(name, address, proof)
      ? [
          [
            this.accountAtAddress,
            JSON.stringify([name, proof.device ?? address]),
          ],
        ]
      : [
          [this.address, address],
          [this.accountAtAddress, JSON.stringify([name, address])],
          [this.account, name],
        ];
    for (const [counter, key] of counts) {
      const wait = counter.count(key);
      if (wait > 0) {
        // A client that goes on after a 429 is answered slowly: each of a
        // flood's connections then costs one answer a second, not thousands.
        await new Promise((resolve) =>
          setTimeout(resolve, this.limits.refusalPauseMs),
        );
        return wait;
      }
    }
    return 0;
  }

  /** The password was right: the attempt was no failure, and the address is known. */
  loggedIn(name: string, address: string, proof: Proof = {}): void {
    this.accountAtAddress.forget(JSON.stringify([name, address]));
    if (proof.device)
      this.accountAtAddress.forget(JSON.stringify([name, proof.device]));
    this.address.giveBack(address);
    this.account.giveBack(name);
    const key = JSON.stringify([name, address]);
    this.known.delete(key);
    this.known.set(key, this.now() + KNOWN_FOR_SECONDS);
    if (this.known.size > MAX_KEYS)
      this.known.delete(this.known.keys().next().value!);
  }

  /**
   * Run `work`, a password hash, when one of a few turns is free. Node's 4
   * threads also read files and look up names: a flood of hashes must leave
   * some free. A proven client goes to the front of the line.
   */
  async inTurn<T>(work: () => Promise<T>, first = false): Promise<T> {
    if (this.hashing < this.limits.concurrentHashes) this.hashing++;
    else if (this.waiting.length < this.limits.waitingHashes || first)
      await new Promise<void>((resolve) =>
        first ? this.waiting.unshift(resolve) : this.waiting.push(resolve),
      );
    else
      throw new AuthError(
        503,
        undefined,
        'temporarily_unavailable',
        'Too many logins at once: try again in a few seconds.',
        5,
      );
    try {
      return await work();
    } finally {
      // Hand the turn to the next in line, or give it back.
      const next = this.waiting.shift();
      if (next) next();
      else this.hashing--;
    }
  }
}
