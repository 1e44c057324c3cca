// Step 10, the web app: it signs users in with the OpenID Provider through
// openid-client (authorization code, PKCE, state, nonce, the ID token
// checked), keeps the tokens in a server-side session, and calls the API
// for the user. The browser never holds a token.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import Router from '@koa/router';
import * as client from 'openid-client';
import {
  ConfigError,
  clientIdSetting,
  clientSecretSetting,
  isLoopback,
  nowInSeconds,
  secondsSetting,
  urlSetting,
} from './config.ts';
import { callApi } from './api-client.ts';
import { HttpError, unavailable } from './http.ts';
import { appPage, serveStyle } from './pages.ts';
import {
  SESSION_LIMITS,
  SIGN_IN_SECONDS,
  Sessions,
  type Session,
  type SessionLimits,
} from './session.ts';
import { answerErrors, providerDown, signInFailed } from './web-errors.ts';

export interface WebAppConfig {
  /** Where this app is reached: its callback is appUrl/callback. */
  appUrl: string;
  issuer: string;
  /** The API: the resource the app asks a token for (RFC 8707), and calls. */
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  /** What the app asks for: no more than it needs (not write:messages). */
  scope: string;
  sessionTtlSeconds: number;
  /** How many sessions the app keeps (session.ts). */
  sessionLimits: SessionLimits;
  /** The clock, in seconds since the epoch; tests inject their own. */
  now: () => number;
}

export { ConfigError };

export function loadWebAppConfig(
  env: NodeJS.ProcessEnv = process.env,
): WebAppConfig {
  return {
    appUrl: urlSetting(env, 'APP_URL'),
    issuer: urlSetting(env, 'ISSUER_URL'),
    apiUrl: urlSetting(env, 'API_URL'),
    clientId: clientIdSetting(env),
    clientSecret: clientSecretSetting(env),
    scope: 'openid read:messages',
    sessionTtlSeconds: secondsSetting(env, 'SESSION_TTL_SECONDS', 3600),
    sessionLimits: SESSION_LIMITS,
    now: nowInSeconds,
  };
}

// The provider's metadata, found lazily: the provider is the slowest of the
// three services to start. Until discovery works, pages that need the
// provider answer 503, and the next request tries again.
class ProviderClient {
  private configuration?: client.Configuration;
  private pending?: Promise<client.Configuration>;

  constructor(private config: WebAppConfig) {}

  get(): Promise<client.Configuration> {
    if (this.configuration) return Promise.resolve(this.configuration);
    this.pending ??= this.discover().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async discover(): Promise<client.Configuration> {
    const { issuer, clientId, clientSecret } = this.config;
    // #region insecure
    // openid-client refuses http:// (tokens in clear
    // on a network). This machine has no network in
    // between: allowed here, and only here.
    const execute = isLoopback(issuer) ? [client.allowInsecureRequests] : [];
    // #endregion
    try {
      this.configuration = await client.discovery(
        new URL(issuer),
        clientId,
        { client_secret: clientSecret, id_token_signed_response_alg: 'ES256' },
        client.ClientSecretBasic(clientSecret),
        { execute, timeout: 2 },
      );
      return this.configuration;
    } catch {
      throw unavailable(
        `The OpenID Provider at ${issuer} cannot be reached yet: try again in a few seconds.`,
      );
    }
  }
}

export function createWebApp(config: WebAppConfig): Koa {
  const app = new Koa();
  const router = new Router();
  const provider = new ProviderClient(config);
  const sessions = new Sessions(
    config.sessionTtlSeconds,
    config.now,
    config.sessionLimits,
  );
  const callbackUrl = `${config.appUrl}/callback`;
  app.use(answerErrors);

  router.get('/style.css', serveStyle);
  router.get('/', (ctx) => appPage(ctx, sessions.get(ctx)));

  router.get('/login', async (ctx) => {
    const oidc = await provider.get();
    // #region login
    // PKCE (RFC 7636): only who made the challenge can
    // trade the code. state: this browser began this
    // sign-in. nonce: the ID token was made for it.
    const pending = {
      verifier: client.randomPKCECodeVerifier(),
      state: client.randomState(),
      nonce: client.randomNonce(),
      expiresAt: config.now() + SIGN_IN_SECONDS,
    };
    const challenge = await client.calculatePKCECodeChallenge(pending.verifier);
    // #endregion
    sessions.beginSignIn(ctx, pending);
    // #region authorize
    const url = client.buildAuthorizationUrl(oidc, {
      redirect_uri: callbackUrl,
      scope: config.scope,
      resource: config.apiUrl, // RFC 8707: a token for the API
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    // #endregion
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(url.href);
  });

  router.get('/callback', async (ctx) => {
    // A pending sign-in is used once, whatever happens next.
    const pending = sessions.takePending(ctx);
    if (!pending) {
      throw new HttpError(
        400,
        'invalid_request',
        'No sign-in is on its way in this browser: start again from the app.',
      );
    }
    const oidc = await provider.get();
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      // #region callback
      // Checks state; trades code + verifier + secret;
      // checks the ID token: signature, iss, aud, exp, nonce.
      tokens = await client.authorizationCodeGrant(
        oidc,
        new URL(ctx.url, config.appUrl),
        {
          pkceCodeVerifier: pending.verifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        },
      );
      // #endregion
    } catch (err) {
      throw signInFailed(err);
    }
    const claims = tokens.claims()!;
    sessions.signIn(
      ctx,
      { sub: claims.sub },
      {
        access: tokens.access_token,
        refresh: tokens.refresh_token,
        expiresAt: config.now() + (tokens.expiresIn() ?? 0),
        scope: tokens.scope ?? '',
      },
    );
    ctx.status = 303;
    ctx.redirect('/');
  });

  /** A fresh access token: refreshed when it has expired (the refresh token rotates). */
  function accessToken(session: Session): Promise<string | undefined> {
    if (session.tokens!.expiresAt > config.now() + 5)
      return Promise.resolve(session.tokens!.access);
    // Two requests at once must not both spend the refresh token: the second
    // would be a replay, and the provider would revoke the whole grant.
    session.refreshing ??= refresh(session).finally(
      () => (session.refreshing = undefined),
    );
    return session.refreshing;
  }

  async function refresh(session: Session): Promise<string | undefined> {
    const tokens = session.tokens!;
    if (!tokens.refresh) return undefined;
    try {
      const fresh = await client.refreshTokenGrant(
        await provider.get(),
        tokens.refresh,
      );
      session.tokens = {
        access: fresh.access_token,
        refresh: fresh.refresh_token ?? tokens.refresh,
        expiresAt: config.now() + (fresh.expiresIn() ?? 0),
        scope: fresh.scope ?? tokens.scope,
      };
      return session.tokens.access;
    } catch (err) {
      // Revoked, expired or replayed: sign in again. A provider that
      // cannot answer now has ended nothing: 503, still signed in.
      if (err instanceof client.ResponseBodyError && !providerDown(err))
        return undefined;
      throw signInFailed(err);
    }
  }

  async function call(ctx: Koa.Context, method: 'GET' | 'POST'): Promise<void> {
    const { session, form } = await sessions.posted(ctx);
    const token = await accessToken(session);
    if (!token) {
      sessions.end(ctx);
      return appPage(
        ctx,
        undefined,
        undefined,
        'Your sign-in has ended at the provider: sign in again.',
      );
    }
    const body =
      method === 'POST' ? { text: form.get('text') ?? '' } : undefined;
    appPage(ctx, session, await callApi(config.apiUrl, token, method, body));
  }

  router.post('/read', (ctx) => call(ctx, 'GET'));
  router.post('/write', (ctx) => call(ctx, 'POST'));

  router.post('/logout', async (ctx) => {
    await sessions.posted(ctx);
    sessions.end(ctx);
    // RP-Initiated Logout: the provider ends its own session too, and
    // revokes the refresh token. client_id rather than id_token_hint: that
    // would put the ID token in the browser's address bar and history.
    let target = `${config.appUrl}/`;
    try {
      target = client.buildEndSessionUrl(await provider.get(), {
        client_id: config.clientId,
        post_logout_redirect_uri: `${config.appUrl}/`,
      }).href;
    } catch {
      // The provider is down: the app's session is over all the same.
    }
    ctx.status = 303;
    ctx.redirect(target);
  });

  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

// Run directly (npx tsx steps/10-openid-connect/web-app.ts): listen on PORT.
if (realpathSync(process.argv[1] ?? '.') === fileURLToPath(import.meta.url)) {
  try {
    createWebApp(loadWebAppConfig()).listen(Number(process.env.PORT) || 3001);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}
