// The lockout attack: a guesser spread over 24 addresses trips the account's
// limit on alice. A login throttle that cannot tell alice from the guesser
// then keeps her out too, as long as the flood goes on: anyone who knows a
// user name could lock that user out.
import { request } from 'node:http';
import { canListenOn } from '../ports.ts';
import { basic } from '../token.ts';
import type { Outcome } from './lab.ts';

const ADDRESSES = 24;
const PER_ADDRESS = 8;

export const LOCKOUT_ROW = {
  attack: 'lockout flood',
  tries: `${ADDRESSES * PER_ADDRESS} wrong passwords from ${ADDRESSES} addresses, then the user's own login`,
  expected: 'user logs in',
};

/** GET /login from a given loopback address; the status, 0 for no answer. */
function loginFrom(url: string, from: string | undefined, auth: object): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      `${url}/login`,
      { headers: auth as Record<string, string>, localAddress: from, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.setTimeout(30_000, () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

export async function lockoutFlood(
  loginUrl: string,
  user = 'alice',
  password = 'pyconid',
): Promise<Outcome> {
  const row = LOCKOUT_ROW;
  const host = new URL(loginUrl).hostname;
  if (!['127.0.0.1', 'localhost'].includes(host) || !(await canListenOn('127.0.0.2')))
    return { ...row, got: 'needs 127.0.0.2-25 and an app on 127.0.0.1', verdict: 'n/a' };
  const before = await loginFrom(loginUrl, '127.0.0.1', basic(user, password));
  if (before !== 200) return { ...row, got: `no login first (${before})`, verdict: 'n/a' };
  const flood = Array.from({ length: ADDRESSES * PER_ADDRESS }, (_, i) =>
    loginFrom(loginUrl, `127.0.0.${2 + (i % ADDRESSES)}`, basic(user, `guess-${i}`)),
  );
  const during = loginFrom(loginUrl, '127.0.0.1', basic(user, password));
  const statuses = await Promise.all(flood);
  const own = await during;
  const refused = statuses.filter((s) => s === 429).length;
  if (own === 0 || own >= 500) return { ...row, got: `${own || 'no answer'}`, verdict: 'CRASH' };
  if (own === 200) return { ...row, got: `200 (the flood: ${refused} x 429)`, verdict: 'held' };
  return { ...row, got: `${own}: ${user} is locked out`, verdict: 'VULNERABLE' };
}
