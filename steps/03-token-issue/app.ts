// Step 03: /login answers a signed token instead of "logged in".
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import Router from '@koa/router';
import basicAuth from 'koa-basic-auth';
import auth from 'basic-auth';
import jwt from 'jsonwebtoken';

// #region config
// The talk's demo values. Both are public now (they were on its slides),
// and 'indonesia' is far too short for an HMAC key: step 06 shows what to
// do instead.
const SECRET_KEY = 'indonesia';
const PASSWORD = 'pyconid';
const TOKEN_SECONDS = 40;
// #endregion

// Any user name is accepted, as in the talk.
const CHALLENGE = { 'WWW-Authenticate': 'Basic realm="Login Required"' };

// koa-basic-auth checks the password and throws a 401 whose own body says
// "Unauthorized" and whose realm is "Secure Area".
const loginRequired = basicAuth({ pass: PASSWORD, realm: 'Login Required' });

export const app = new Koa();
const router = new Router();

// Custom 401 handling in a wrapping middleware, as the talk's make_response()
// did. Koa sets err.headers itself only when it renders the error; a handler
// that catches the error must copy them, or the Basic challenge is lost and
// browsers never show their login prompt.
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

router.get('/unprotected', (ctx) => {
  ctx.body = { message: 'Anyone can view this.' };
});

// Not guarded yet: that is what the next steps are for.
router.get('/protected', (ctx) => {
  ctx.body = { message: 'Only available to people with valid tokens.' };
});

// #region login
router.get('/login', loginRequired, (ctx) => {
  // loginRequired has checked the credentials; read the user name they carry.
  const { name } = auth.parse(ctx.get('Authorization'))!;
  // exp is seconds since the epoch (RFC 7519 section 2, NumericDate).
  const exp = Math.floor(Date.now() / 1000) + TOKEN_SECONDS;
  // noTimestamp: the talk's payload is {user, exp}; jsonwebtoken would add iat.
  const token = jwt.sign({ user: name, exp }, SECRET_KEY, {
    algorithm: 'HS256',
    noTimestamp: true,
  });
  ctx.body = { token };
});
// #endregion

app.use(router.routes());
app.use(router.allowedMethods());

// Listen when run directly (npx tsx), not when a test imports the app.
if (realpathSync(process.argv[1] ?? '.') === fileURLToPath(import.meta.url)) {
  app.listen(Number(process.env.PORT) || 3000);
}
