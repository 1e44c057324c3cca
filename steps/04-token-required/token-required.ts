// The talk's token_required decorator, as Koa middleware: put it in front of
// a route and the route runs only for a request with a valid ?token=.
import type { Middleware } from 'koa';
import jwt from 'jsonwebtoken';

// #region token-check
export function tokenRequired(secretKey: string): Middleware {
  return async (ctx, next) => {
    const token = ctx.query.token;
    if (!token) {
      ctx.status = 403;
      ctx.body = { message: 'Token is missing' };
      return;
    }
    try {
      // ?token=a&token=b gives an array: not a token.
      if (typeof token !== 'string') throw new TypeError('more than one token');
      // Pin the algorithm. The talk's jwt.decode(token, key) let the token's
      // own header choose it, so a token saying "alg": "none" (no signature at
      // all) or an HMAC keyed with a public RSA key could pass. Current PyJWT
      // refuses to decode without algorithms=[...] for that reason.
      jwt.verify(token, secretKey, { algorithms: ['HS256'] });
// #endregion
    // #region token-refused
    } catch {
      // Every failure, not only jsonwebtoken's own errors: a header or payload
      // that is not JSON makes it throw a plain SyntaxError.
      ctx.status = 403;
      ctx.body = { message: 'Token is invalid!' };
      return;
    }
    // Outside the try: an error in the route itself is not a bad token.
    await next();
  };
}
    // #endregion
