// The talk's token_required decorator, as Koa middleware: put it in front of
// a route and the route runs only for a request with a valid ?token=.
import type { Middleware } from 'koa';
import jwt from 'jsonwebtoken';

// #region token-check
// #region token-refused
export function tokenRequired(secretKey: string): Middleware {
  return async (ctx, next) => {
    // #region hide-token-refused
    const token = ctx.query.token;
    if (!token) {
      ctx.status = 403;
      ctx.body = { message: 'Token is missing' };
      return;
    }
    // #endregion
    try {
      // #region hide-token-refused
      if (typeof token !== 'string') throw new TypeError('?token= twice');
      // Pin the algorithm: never let the token's header choose it.
      jwt.verify(token, secretKey, { algorithms: ['HS256'] });
      // #endregion
    } catch {
      // #region hide-token-check
      // Every failure, not only jsonwebtoken's own errors: a header or payload
      // that is not JSON makes it throw a plain SyntaxError.
      ctx.status = 403;
      ctx.body = { message: 'Token is invalid!' };
      return;
      // #endregion
    }
    // #region hide-token-check
    // Outside the try: an error in the route itself is not a bad token.
    await next();
    // #endregion
  };
}
// #endregion
// #endregion
