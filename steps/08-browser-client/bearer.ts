// Where the token comes from: the Authorization header, and only there.
import type Koa from 'koa';
import { bearerError, missingToken } from './errors.ts';

// RFC 6750 section 2.1: Authorization: Bearer <b64token>, scheme in any case.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

// #region bearer
export function bearerToken(ctx: Koa.Context): string {
  // RFC 6750 section 5.3: tokens in URLs end up in logs, history and Referer.
  if ('token' in ctx.query || 'access_token' in ctx.query) {
    throw bearerError(
      400,
      'invalid_request',
      'Send the token in the Authorization header (Bearer), never in the URL.',
    );
  }
  const header = ctx.get('Authorization');
  // No credentials, or another scheme: a bare challenge (RFC 6750 section 3.1).
  if (!/^bearer(\s|$)/i.test(header)) throw missingToken();
  // #region hide
  const match = BEARER.exec(header);
  if (!match) {
    throw bearerError(
      400,
      'invalid_request',
      'The Authorization header must be Bearer followed by one token.',
    );
  }
  return match[1]!;
  // #endregion
}
// #endregion
