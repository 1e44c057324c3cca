// Passwords: stored as salted scrypt hashes, compared in constant time, and
// as slow for a user who does not exist as for one who does.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

// #region stored-users
// The demo account alice / pyconid, stored as a salted scrypt hash, never as
// the password itself. N=16384 is Node's default; OWASP's password storage
// cheat sheet asks for N=2^17 in production.
export const DEMO_USERS: Record<string, string> = {
  alice:
    'scrypt$16384$8$1$fLyh3zoFhgIvNe6yHtk1Lg$' +
    'r-lvpKYe5l8dZ9ozrh74CwW-ms8aE8P2Zv054KyHm6o',
};
// #endregion

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: object,
) => Promise<Buffer>;

export async function hashPassword(
  password: string,
  salt = randomBytes(16),
): Promise<string> {
  const hash = await scryptAsync(password, salt, 32, { N: 16384, r: 8, p: 1 });
  const b64 = (bytes: Buffer) => bytes.toString('base64url');
  return `scrypt$16384$8$1$${b64(salt)}$${b64(hash)}`;
}

// An unknown user is checked against a made-up hash that costs what a real
// one does (the same N, r and p), so that a wrong user name takes as long as
// a wrong password and timing tells nothing.
function dummyHash(users: Record<string, string>): string {
  const [, N = '16384', r = '8', p = '1'] = (
    Object.values(users)[0] ?? ''
  ).split('$');
  const zeros = (n: number) => 'A'.repeat(n);
  return `scrypt$${N}$${r}$${p}$${zeros(22)}$${zeros(43)}`;
}

async function passwordMatches(
  password: string,
  stored: string,
): Promise<boolean> {
  const [, N, r, p, salt, hash] = stored.split('$');
  const expected = Buffer.from(hash!, 'base64url');
  const actual = await scryptAsync(
    password,
    Buffer.from(salt!, 'base64url'),
    expected.length,
    { N: Number(N), r: Number(r), p: Number(p) },
  );
  return timingSafeEqual(actual, expected);
}

// #region check-user
export async function checkUser(
  users: Record<string, string>,
  name: string,
  password: string,
  compare: (
    password: string,
    stored: string,
  ) => Promise<boolean> = passwordMatches,
): Promise<boolean> {
  const stored = Object.hasOwn(users, name) ? users[name]! : undefined;
  const matches = await compare(password, stored ?? dummyHash(users));
  return matches && stored !== undefined;
}
// #endregion

// RFC 7617 section 2: no control characters in the user-id or password.
// Lengths are bounded before anything is hashed or counted.
const CONTROL = /[\u0000-\u001f\u007f]/;
const MAX_USER_NAME = 64;
const MAX_PASSWORD = 1024;

export function acceptableCredentials(name: string, password: string): boolean {
  return (
    name.length > 0 &&
    name.length <= MAX_USER_NAME &&
    password.length <= MAX_PASSWORD &&
    !CONTROL.test(name) &&
    !CONTROL.test(password)
  );
}
