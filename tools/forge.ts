// Tokens made by hand, each breaking exactly the rule it is meant to break.
// The attack lab forges with these, and the tests build their bad tokens here.
import { createHmac, sign, type KeyObject } from 'node:crypto';

/** base64url of a value: raw text as is, anything else as JSON. */
export const b64 = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

export const now = (): number => Math.floor(Date.now() / 1000);

const HASHES: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

/** header.payload signed with HMAC (the hash follows header.alg, HS256 by default). */
export function hmacToken(
  header: unknown,
  payload: unknown,
  key: string | Buffer | KeyObject,
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const alg = (header as { alg?: string } | null)?.alg ?? 'HS256';
  return `${input}.${createHmac(HASHES[alg] ?? 'sha256', key)
    .update(input)
    .digest('base64url')}`;
}

/** header.payload signed with an EC P-256 private key (ES256, RFC 7518 section 3.4). */
export function es256Token(header: unknown, payload: unknown, privateKey: KeyObject): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

/** An unsigned token: "alg": "none" (in any casing) and an empty signature. */
export function unsigned(payload: unknown, alg = 'none'): string {
  return `${b64({ alg, typ: 'JWT' })}.${b64(payload)}.`;
}

/** The same token with its payload swapped and the old signature kept. */
export function withPayload(token: string, payload: unknown): string {
  const [h, , s] = token.split('.');
  return `${h}.${b64(payload)}.${s}`;
}

/** The header and payload of a token, parsed without checking anything; undefined where not JSON. */
export function peek(token: string): {
  header?: Record<string, unknown>;
  payload?: Record<string, unknown>;
} {
  const part = (text: string | undefined) => {
    try {
      const value: unknown = JSON.parse(Buffer.from(text ?? '', 'base64url').toString('utf8'));
      return value && typeof value === 'object' && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : undefined;
    } catch {
      return undefined;
    }
  };
  const [h, p] = token.split('.');
  return { header: part(h), payload: part(p) };
}
