// Tokens for tests: valid, expired, forged and malformed, built with
// jsonwebtoken or by hand so that each one breaks exactly one rule.
import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';

export const b64 = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

export const now = (): number => Math.floor(Date.now() / 1000);

/** header.payload signed with HMAC, each part given as an object or raw text. */
export function hmacToken(header: unknown, payload: unknown, key: string, hash = 'sha256'): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac(hash, key).update(input).digest('base64url')}`;
}

/** An unsigned token: "alg": "none" (in any casing) and an empty signature. */
export function unsigned(payload: object, alg = 'none'): string {
  return `${b64({ alg, typ: 'JWT' })}.${b64(payload)}.`;
}

/** The same token with its payload swapped and the old signature kept. */
export function withPayload(token: string, payload: object): string {
  const [h, , s] = token.split('.');
  return `${h}.${b64(payload)}.${s}`;
}

/** Decode a token without verifying it; fails the test if it is not a JWT. */
export function decode(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload === 'string') throw new Error(`Not a JWT with a JSON payload: ${token}`);
  return { header: decoded.header as unknown as Record<string, unknown>, payload: decoded.payload as Record<string, unknown> };
}
