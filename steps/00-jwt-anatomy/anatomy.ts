// Step 00: what a JSON Web Token is made of.
// A token built by hand with node:crypto, the same token built with
// jsonwebtoken, both decoded, and one tampered with.
import { createHmac } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import jwt from 'jsonwebtoken';

// #region parts
// The talk's examples: a header naming the algorithm, a payload with one
// registered claim (iss) and one private claim (user: RFC 7519 section 4.3).
export const header = { alg: 'HS256', typ: 'JWT' };
export const payload = { iss: 'https://myapi.com', user: 'alice' };
export const secret = 'secret';

// base64url: base64 with - and _ instead of + and /, and no = padding
// (RFC 7515 section 2), so a token fits in a URL or a header unescaped.
export function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}
// #endregion

// #region by-hand
// HMACSHA256(base64UrlEncode(header) + "." + base64UrlEncode(payload), secret)
export function signByHand(claims: object, key: string): string {
  const signingInput =
    base64url(JSON.stringify(header)) + '.' + base64url(JSON.stringify(claims));
  const signature = createHmac('sha256', key)
    .update(signingInput)
    .digest('base64url');
  return `${signingInput}.${signature}`;
}
// #endregion

// #region with-library
// jsonwebtoken adds an `iat` (issued at) claim unless told not to; without it
// the two tokens are byte for byte the same.
export function signWithLibrary(claims: object, key: string): string {
  return jwt.sign(claims, key, { algorithm: 'HS256', noTimestamp: true });
}
// #endregion

// #region decode
// Header and payload are only encoded, not encrypted: anyone can read them.
export function decodePart(part: string): unknown {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

// Swap the payload and keep the old signature: what an attacker can do freely.
export function tamper(token: string, claims: object): string {
  const [encodedHeader, , signature] = token.split('.');
  return `${encodedHeader}.${base64url(JSON.stringify(claims))}.${signature}`;
}
// #endregion

// Run directly (npx tsx), print the anatomy; a test imports the functions.
if (realpathSync(process.argv[1] ?? '.') === fileURLToPath(import.meta.url)) {
  const byHand = signByHand(payload, secret);
  const withLibrary = signWithLibrary(payload, secret);
  const [h, p, s] = byHand.split('.');

  console.log('A JSON Web Token is three base64url parts joined by dots:\n');
  console.log(`  header     ${h}`);
  console.log(`  payload    ${p}`);
  console.log(`  signature  ${s}\n`);
  console.log(`By hand (node:crypto):  ${byHand}`);
  console.log(`With jsonwebtoken:      ${withLibrary}`);
  console.log(`Identical: ${byHand === withLibrary}\n`);

  console.log('Decoded back:');
  console.log('  header ', decodePart(h!));
  console.log('  payload', decodePart(p!));
  console.log(
    '  jwt.verify',
    jwt.verify(withLibrary, secret, { algorithms: ['HS256'] }),
    '\n',
  );

  const forged = tamper(withLibrary, { ...payload, user: 'mallory' });
  console.log(`Tampered (user: mallory, old signature): ${forged}`);
  try {
    jwt.verify(forged, secret, { algorithms: ['HS256'] });
    console.log('  jwt.verify accepted it: that should never happen.');
  } catch (err) {
    console.log(`  jwt.verify refused it: ${(err as Error).message}`);
  }
}
