// Verifying an access token: the header, the signature with a pinned
// algorithm, the issuer and audience, then every claim this server relies on.
import jwt from 'jsonwebtoken';
import type { Config } from './config.ts';
import { invalidToken as invalid } from './errors.ts';
import type { VerifiedTokens } from './verified-tokens.ts';

export interface Claims {
  sub: string;
  iss: string;
  aud: string;
  iat: number;
  exp: number;
  nbf?: number;
  jti?: string;
}

/** Part 0 (the header) or 1 (the claims) as an object; {} if it is none. */
function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
  try {
    const part: unknown = JSON.parse(
      Buffer.from(token.split('.')[index]!, 'base64url').toString('utf8'),
    );
    if (part !== null && typeof part === 'object' && !Array.isArray(part))
      return part as Record<string, unknown>;
  } catch {
    // not JSON: the caller says what is wrong
  }
  return {};
}

const isTime = (value: unknown): value is number => Number.isSafeInteger(value);

// The one time rule, for new and cached tokens alike: exp and nbf as
// jsonwebtoken reads them, with the same tolerance, and iat not in the future.
function checkTimes(claims: Claims, config: Config, now: number): void {
  const leeway = config.clockToleranceSeconds;
  if (now >= claims.exp + leeway) throw invalid('The token has expired.');
  if (claims.nbf !== undefined && claims.nbf > now + leeway)
    throw invalid('The token is not valid yet.');
  if (claims.iat > now + leeway)
    throw invalid('The token was issued in the future.');
}

function verifySignature(token: string, config: Config, now: number): Claims {
  if (token.split('.').length !== 3)
    throw invalid('The token is not a signed JWT (three parts).');

  // #region header-check
  // RFC 8725 sections 3.1 and 3.10, RFC 7515 section 4.1.11: the header may
  // only say HS256 and JWT. A jwk, jku, x5u or kid would let the token pick
  // its own key; crit would ask for extensions this server does not know.
  const header = decodePart(token, 0);
  const extra = Object.keys(header).filter((k) => k !== 'alg' && k !== 'typ');
  if (header.alg !== 'HS256' || header.typ !== 'JWT' || extra.length > 0) {
    throw invalid('The token header may only hold alg HS256 and typ JWT.');
  }
  // #endregion

  let payload: unknown;
  try {
    // #region verify-call
    payload = jwt.verify(token, config.key, {
      algorithms: ['HS256'], // RFC 8725 section 3.1: never let the token choose
      issuer: config.issuer, // RFC 8725 section 3.8
      audience: config.audience, // RFC 8725 section 3.9
      clockTolerance: config.clockToleranceSeconds, // a number: '5' disables exp
      clockTimestamp: now,
    });
    // #endregion
  } catch (err) {
    // jsonwebtoken's error classes, and the plain SyntaxError it throws when
    // a part is not JSON: every one of them means the token is no good.
    if (err instanceof jwt.TokenExpiredError)
      throw invalid('The token has expired.');
    if (err instanceof jwt.NotBeforeError)
      throw invalid('The token is not valid yet.');
    if (!(err instanceof jwt.JsonWebTokenError))
      throw invalid('The token is malformed.');
    // Refused either way; the unverified claims only choose the words.
    const claimed = decodePart(token, 1);
    if (claimed.iss !== config.issuer || claimed.aud !== config.audience)
      throw invalid('The token is for another issuer or audience.');
    throw invalid('The token signature is invalid.');
  }

  // #region claims-check
  // RFC 7519 section 7.2 step 10: the claims must be a JSON object.
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload))
    throw invalid('The token claims are not a JSON object.');
  const claims = payload as Record<string, unknown>;
  // jsonwebtoken checks exp only when it is there, and takes 1e999 (Infinity).
  if (!isTime(claims.exp) || !isTime(claims.iat))
    throw invalid('The token needs whole-second exp and iat claims.');
  if ('nbf' in claims && !isTime(claims.nbf))
    throw invalid('The token nbf claim is not a time.');
  if (typeof claims.sub !== 'string' || claims.sub === '')
    throw invalid('The token needs a sub claim.');
  if (claims.exp - claims.iat > config.ttlSeconds)
    throw invalid('The token lives longer than this server issues tokens for.');
  // #endregion
  return claims as unknown as Claims;
}

/** The claims of a valid token, or an AuthError that says what is wrong. */
export function verifyToken(
  token: string,
  config: Config,
  verified?: VerifiedTokens,
): Claims {
  if (token.length > config.maxTokenLength)
    throw invalid('The token is too long.');
  const now = config.now();
  const cached = verified?.get(token);
  const claims = cached ?? verifySignature(token, config, now);
  checkTimes(claims, config, now);
  if (!cached) verified?.add(token, claims);
  return claims;
}
