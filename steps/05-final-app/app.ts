// #region top
// Step 05: the talk's final flaskdemo.py, in TypeScript: one file, read top to
// bottom in the talk's order (decorator, unprotected, protected, login).
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import Router from '@koa/router';
import basicAuth from 'koa-basic-auth';
import auth from 'basic-auth';
import jwt from 'jsonwebtoken';

export const app = new Koa();
const router = new Router();

// The talk's demo values: public, and far too weak for real use (step 06).
const SECRET_KEY = 'indonesia';
const PASSWORD = 'pyconid';
const TOKEN_SECONDS = 40;
// #endregion

// Token decorator: the route runs only for a request with a valid ?token=.
// #region decorator
export const tokenRequired: Koa.Middleware = async (ctx, next) => {
  const token = ctx.query.token;
  if (!token) {
    ctx.status = 403;
    ctx.body = { message: 'Token is missing' };
    return;
  }
  try {
    if (typeof token !== 'string') throw new TypeError('more than one token');
    // Pinned algorithm: the talk's jwt.decode(token, key) let the token choose.
    jwt.verify(token, SECRET_KEY, { algorithms: ['HS256'] });
  } catch {
    ctx.status = 403;
    ctx.body = { message: 'Token is invalid!' };
    return;
  }
  await next();
};
// #endregion

// #region unprotected
// Unprotected route
router.get('/unprotected', (ctx) => {
  ctx.body = { message: 'Anyone can view this.' };
});
// #endregion

// #region protected
// Protected route
router.get('/protected', tokenRequired, (ctx) => {
  ctx.body = { message: 'Only available to people with valid tokens.' };
});
// #endregion

// Login route: HTTP Basic, any user name, the demo password.
const CHALLENGE = { 'WWW-Authenticate': 'Basic realm="Login Required"' };

// #region login-required
const loginRequired = basicAuth({ pass: PASSWORD, realm: 'Login Required' });

router.get('/login', loginRequired, (ctx) => {
  const { name } = auth.parse(ctx.get('Authorization'))!;
  const exp = Math.floor(Date.now() / 1000) + TOKEN_SECONDS;
  const token = jwt.sign({ user: name, exp }, SECRET_KEY, {
    algorithm: 'HS256',
    noTimestamp: true,
  });
  ctx.body = { token };
});
// #endregion

// #region make-response
// make_response('Could not verify!', 401, {...}): the body and the challenge,
// copied from the error koa-basic-auth throws.
app.use(async (ctx, next) => {
  try {
    await next();
  } catch (err) {
    const { status, headers } = err as {
      status?: number;
      headers?: Record<string, string>;
    };
    if (status !== 401) throw err;
    ctx.status = 401;
    ctx.set(headers ?? CHALLENGE);
    ctx.body = 'Could not verify!';
  }
});
// #endregion

app.use(router.routes());
app.use(router.allowedMethods());

// if __name__ == "__main__": listen when run directly, not when imported.
if (realpathSync(process.argv[1] ?? '.') === fileURLToPath(import.meta.url)) {
  app.listen(Number(process.env.PORT) || 3000);
}
