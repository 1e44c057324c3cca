// Step 02: /unprotected, /protected and a /login behind HTTP Basic auth.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import Router from '@koa/router';
import basicAuth from 'koa-basic-auth';

// The talk's demo password. Any user name is accepted, as in the talk.
// #region password-check
const PASSWORD = 'pyconid';
const CHALLENGE = { 'WWW-Authenticate': 'Basic realm="Login Required"' };

// koa-basic-auth checks the password and throws a 401 whose own body says
// "Unauthorized" and whose realm is "Secure Area".
const loginRequired = basicAuth({ pass: PASSWORD, realm: 'Login Required' });
// #endregion

export const app = new Koa();
const router = new Router();

// Custom 401 handling in a wrapping middleware, as the talk's make_response()
// did. Koa sets err.headers itself only when it renders the error; a handler
// that catches the error must copy them, or the Basic challenge is lost and
// browsers never show their login prompt.
// #region our-401
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

// #region routes
router.get('/unprotected', (ctx) => {
  ctx.body = { message: 'Anyone can view this.' };
});

// Not guarded yet: that is what the next steps are for.
router.get('/protected', (ctx) => {
  ctx.body = { message: 'Only available to people with valid tokens.' };
});

router.get('/login', loginRequired, (ctx) => {
  ctx.body = { message: 'logged in' };
});

app.use(router.routes());
app.use(router.allowedMethods());
// #endregion

// Listen when run directly (npx tsx), not when a test imports the app.
if (realpathSync(process.argv[1] ?? '.') === fileURLToPath(import.meta.url)) {
  app.listen(Number(process.env.PORT) || 3000);
}
