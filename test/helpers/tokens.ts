// Tokens for tests: the forging functions the attack lab uses, and a decoder
// that fails the test when a token is not a JWT.
import jwt from 'jsonwebtoken';

export { b64, hmacToken, now, unsigned, withPayload } from '../../tools/forge.ts';

/** Decode a token without verifying it; fails the test if it is not a JWT. */
export function decode(token: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload === 'string')
    throw new Error(`Not a JWT with a JSON payload: ${token}`);
  return {
    header: decoded.header as unknown as Record<string, unknown>,
    payload: decoded.payload as Record<string, unknown>,
  };
}
