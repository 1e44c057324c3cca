// The provider's own pages: its login form, with the one demo account, and
// the consent step, granted at once to the workshop's first-party app.
// oidc-provider runs the protocol; these routes only say who the user is.
// The form is throttled as steps 06-09 throttle /login, with the same
// throttle.ts: each attempt counted before its hash.
import { scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import Router from '@koa/router';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import { deviceProof, giveDeviceCookie } from './device-cookie.ts';
import { AuthError } from './errors.ts';
import { HttpError, readForm } from './http.ts';
import { escape, servePage } from './pages.ts';
import type { LoginThrottle } from './throttle.ts';

export interface LoginConfig {
  /** User name -> stored scrypt hash of the password. */
  users: Record<string, string>;
  throttle: LoginThrottle;
  /** The clock, in seconds since the epoch. */
  now: () => number;
}

// The demo account alice / pyconid as a salted scrypt hash, as in step 06;
// the password is never stored.
export const DEMO_USERS: Record<string, string> = {
  alice:
    'scrypt$16384$8$1$fLyh3zoFhgIvNe6yHtk1Lg$' +
    'r-lvpKYe5l8dZ9ozrh74CwW-ms8aE8P2Zv054KyHm6o',
};

// An unknown user is checked against this hash, so that a wrong user name
// costs as much time as a wrong password and timing tells nothing.
const DUMMY_HASH =
  'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: object,
) => Promise<Buffer>;

export async function checkUser(
  users: Record<string, string>,
  name: string,
  password: string,
): Promise<boolean> {
  const stored = Object.hasOwn(users, name) ? users[name]! : undefined;
  const [, N, r, p, salt, hash] = (stored ?? DUMMY_HASH).split('$');
  const expected = Buffer.from(hash!, 'base64url');
  const actual = await scryptAsync(
    password,
    Buffer.from(salt!, 'base64url'),
    expected.length,
    { N: Number(N), r: Number(r), p: Number(p) },
  );
  return timingSafeEqual(actual, expected) && stored !== undefined;
}

const CONTROL = /[\u0000-\u001f\u007f]/;
const acceptable = (name: string, password: string) =>
  name.length > 0 &&
  name.length <= 64 &&
  password.length <= 1024 &&
  !CONTROL.test(name) &&
  !CONTROL.test(password);

function loginPage(
  ctx: Koa.Context,
  uid: string,
  error?: string,
  status = error ? 401 : 200,
): void {
  const message = error
    ? `<p class="error" role="alert">${escape(error)}</p>`
    : '';
  servePage(
    ctx,
    status,
    'Sign in: workshop provider',
    `<h1>Sign in to the workshop provider</h1>
<p>The web app asks who you are. Your password stays here: the app never sees it.</p>
${message}
<form method="post" action="/interaction/${escape(uid)}/login">
<label for="user">User name</label>
<input id="user" name="user" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
  );
}

export function interactionRoutes(
  provider: Provider,
  config: LoginConfig,
): Router {
  const router = new Router();

  // An interaction that expired, or was opened in another browser, is a
  // page that says so: never a 500.
  router.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (
        !(err instanceof errors.OIDCProviderError) &&
        !(err instanceof HttpError) &&
        !(err instanceof AuthError)
      )
        throw err;
      if (err instanceof AuthError && err.retryAfter)
        ctx.set('Retry-After', String(err.retryAfter));
      servePage(
        ctx,
        err.status,
        'Sign-in failed',
        `<h1>This sign-in cannot go on</h1>
<p class="error">${escape(err.message)}</p>
<p>Go back to the app and sign in again.</p>`,
      );
    }
  });

  // The interaction is named by a cookie that oidc-provider set; the uid in
  // the URL must be the same one.
  async function details(ctx: Koa.Context, prompt: string) {
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    if (
      interaction.uid !== ctx.params.uid ||
      interaction.prompt.name !== prompt
    ) {
      throw new HttpError(
        400,
        'invalid_request',
        'This page belongs to another sign-in.',
      );
    }
    return interaction;
  }

  router.get('/interaction/:uid', async (ctx) => {
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    if (interaction.uid !== ctx.params.uid)
      throw new HttpError(
        400,
        'invalid_request',
        'This page belongs to another sign-in.',
      );
    if (interaction.prompt.name === 'login')
      return loginPage(ctx, interaction.uid);
    if (interaction.prompt.name !== 'consent')
      throw new HttpError(
        400,
        'invalid_request',
        `Unknown prompt ${interaction.prompt.name}.`,
      );

    // Consent: the workshop's app is first-party, so the user is not asked;
    // a third-party app would get a page listing what it asks for. The
    // grant holds the scopes the user agreed to, per resource (RFC 8707).
    const { prompt, params, session, grantId } = interaction;
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({
          accountId: session!.accountId,
          clientId: String(params.client_id),
        });
    if (!grant)
      throw new HttpError(
        400,
        'invalid_request',
        'The grant of this sign-in is gone.',
      );
    const missing = prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (missing.missingOIDCScope)
      grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims)
      grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(
      missing.missingResourceScopes ?? {},
    ))
      grant.addResourceScope(resource, scopes.join(' '));
    const consent = { grantId: await grant.save() };
    ctx.status = 303;
    ctx.redirect(
      await provider.interactionResult(
        ctx.req,
        ctx.res,
        { consent },
        { mergeWithLastSubmission: true },
      ),
    );
  });

  router.post('/interaction/:uid/login', async (ctx) => {
    const interaction = await details(ctx, 'login');
    const form = await readForm(ctx);
    const user = form.get('user') ?? '';
    const password = form.get('password') ?? '';
    const wrong = 'The user name or password is wrong.';
    if (!acceptable(user, password))
      return loginPage(ctx, interaction.uid, wrong);
    // ctx.ip is the TCP peer: the provider's proxy setting stays false.
    const { throttle, now } = config;
    const proof = deviceProof(ctx, user, now());
    const wait = await throttle.countAttempt(user, ctx.ip, proof);
    if (wait > 0) {
      ctx.set('Retry-After', String(wait)); // RFC 6585 section 4
      return loginPage(
        ctx,
        interaction.uid,
        `Too many failed sign-ins: try again in ${wait} s.`,
        429,
      );
    }
    const first = throttle.proven(user, ctx.ip, proof);
    const check = () => checkUser(config.users, user, password);
    if (!(await throttle.inTurn(check, first)))
      return loginPage(ctx, interaction.uid, wrong);
    throttle.loggedIn(user, ctx.ip, proof);
    giveDeviceCookie(ctx, user, proof, now());
    ctx.status = 303;
    ctx.redirect(
      await provider.interactionResult(
        ctx.req,
        ctx.res,
        { login: { accountId: user } },
        { mergeWithLastSubmission: false },
      ),
    );
  });

  return router;
}
