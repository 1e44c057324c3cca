// Step 10, the OpenID Provider: the login service of steps 07-09, now
// oidc-provider, an OpenID Certified implementation of OAuth 2.0 and OpenID
// Connect built on Koa. This file is its configuration: one account, one
// client (the web app), one API (a resource server with two scopes).
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Provider, { errors, type Configuration } from 'oidc-provider';
import {
  API_SCOPES,
  ConfigError,
  clientIdSetting,
  clientSecretSetting,
  keysFileSetting,
  nowInSeconds,
  redisUrlSetting,
  secondsSetting,
  urlSetting,
} from './config.ts';
import type { ProviderStore } from './adapter.ts';
import { MemoryAdapter } from './memory-adapter.ts';
import { RedisAdapter } from './redis-adapter.ts';
import { loadKeys, type ProviderKeys } from './keys.ts';
import { DEMO_USERS, interactionRoutes } from './login.ts';
import { LOGIN_LIMITS, LoginThrottle } from './throttle.ts';
import { escape, servePage, serveStyle } from './pages.ts';

export interface ProviderConfig {
  /** The issuer identifier: the iss of every token, and where discovery starts. */
  issuer: string;
  /** The web app: its callback and where to go after logout. */
  appUrl: string;
  /** The API's resource identifier (RFC 8707): the aud of its access tokens. */
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  accessTokenTtlSeconds: number;
  keys: ProviderKeys;
  /** User name -> stored scrypt hash of the password. */
  users: Record<string, string>;
  /** Sessions, grants and tokens: in this process, or in Redis (REDIS_URL). */
  store: ProviderStore;
  /** The login form's throttle, as in steps 06-09. */
  throttle: LoginThrottle;
  /** The clock, in seconds since the epoch; tests inject their own. */
  now: () => number;
}

export { ConfigError };

export function loadProviderConfig(
  env: NodeJS.ProcessEnv = process.env,
): ProviderConfig {
  const accessTokenTtlSeconds = secondsSetting(
    env,
    'ACCESS_TOKEN_TTL_SECONDS',
    300,
  );
  if (accessTokenTtlSeconds > 3600) {
    throw new ConfigError(
      `ACCESS_TOKEN_TTL_SECONDS may be 3600 at most (the API refuses tokens that live longer), not ${accessTokenTtlSeconds}.`,
    );
  }
  const redisUrl = redisUrlSetting(env);
  return {
    issuer: urlSetting(env, 'ISSUER_URL'),
    appUrl: urlSetting(env, 'APP_URL'),
    apiUrl: urlSetting(env, 'API_URL'),
    clientId: clientIdSetting(env),
    clientSecret: clientSecretSetting(env),
    accessTokenTtlSeconds,
    keys: loadKeys(keysFileSetting(env)),
    users: DEMO_USERS,
    store: redisUrl ? new RedisAdapter(redisUrl) : new MemoryAdapter(),
    throttle: new LoginThrottle(LOGIN_LIMITS, nowInSeconds),
    now: nowInSeconds,
  };
}

export function providerConfiguration(config: ProviderConfig): Configuration {
  return {
    adapter: config.store.factory,
    clients: [
      {
        client_id: config.clientId,
        client_secret: config.clientSecret,
        redirect_uris: [`${config.appUrl}/callback`],
        post_logout_redirect_uris: [`${config.appUrl}/`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: config.keys.signing as never },
    cookies: { keys: config.keys.cookies },
    enabledJWA: {
      idTokenSigningAlgValues: ['ES256'],
      userinfoSigningAlgValues: ['ES256'],
    },
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic'],
    scopes: ['openid', 'offline_access'],
    claims: { openid: ['sub'] },

    // The provider's one account: nobody else can sign in.
    findAccount: (_ctx, sub) =>
      Object.hasOwn(config.users, sub)
        ? { accountId: sub, claims: () => ({ sub }) }
        : undefined,

    // #region pkce-refresh
    // PKCE for every client, not only public ones
    // (RFC 9700 section 2.1.1).
    pkce: { required: () => true },
    // A refresh token works once: each use returns
    // a new one, and a replayed one revokes them all.
    rotateRefreshToken: true,
    // Refresh tokens without offline_access; they
    // then end with the provider's session.
    issueRefreshToken: (_ctx, client) =>
      client.grantTypeAllowed('refresh_token'),
    // #endregion

    features: {
      devInteractions: { enabled: false }, // it takes any password: login.ts checks alice's
      // One resource server, the API (RFC 8707): tokens for it are JWTs.
      // Without resource indicators, access tokens are opaque strings that
      // only the provider can read.
      resourceIndicators: {
        enabled: true,
        defaultResource: () => config.apiUrl,
        useGrantedResource: () => true, // a refresh gets a token for the same API
        getResourceServerInfo: (_ctx, resource) => {
          if (resource !== config.apiUrl) throw new errors.InvalidTarget();
          // #region resource
          return {
            audience: config.apiUrl,
            scope: API_SCOPES.join(' '),
            accessTokenFormat: 'jwt', // RFC 9068
            accessTokenTTL: config.accessTokenTtlSeconds,
            jwt: { sign: { alg: 'ES256' } },
          };
          // #endregion
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) =>
          servePage(
            ctx,
            200,
            'Sign out: workshop provider',
            `<h1>Sign out of the workshop provider?</h1>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`,
          ),
        postLogoutSuccessSource: (ctx) =>
          servePage(
            ctx,
            200,
            'Signed out',
            '<h1>You are signed out of the workshop provider.</h1>',
          ),
      },
    },

    ttl: {
      AccessToken: config.accessTokenTtlSeconds,
      AuthorizationCode: 60,
      IdToken: 300,
      RefreshToken: 24 * 3600,
      Interaction: 600,
      Session: 8 * 3600,
      Grant: 24 * 3600,
    },
    clientBasedCORS: () => false, // the browser never calls the provider with fetch: only the servers do
    renderError: (ctx, out) => {
      servePage(
        ctx,
        ctx.status >= 400 ? ctx.status : 400,
        'Error: workshop provider',
        `<h1>The provider refused this request</h1>
<p class="error">${escape(out.error)}: ${escape(out.error_description ?? '')}</p>`,
      );
    },
  };
}

export function createProviderApp(config: ProviderConfig): Provider {
  const provider = new Provider(config.issuer, providerConfiguration(config));
  // Routes added with use() run before the provider's own.
  provider.use(async (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === '/style.css')
      return serveStyle(ctx);
    try {
      await next();
    } catch (err) {
      // The store failed where oidc-provider does not catch it (loading
      // the session): answer as it answers its own errors.
      if (!(err instanceof errors.TemporarilyUnavailable)) throw err;
      ctx.status = 503;
      if (ctx.accepts('json', 'html') === 'html')
        servePage(
          ctx,
          503,
          'Try again: workshop provider',
          `<h1>The provider cannot answer right now</h1>
<p class="error">${escape(err.error_description ?? '')}</p>`,
        );
      else
        ctx.body = {
          error: err.error,
          error_description: err.error_description,
        };
    }
    // The store cannot answer or is full (adapter.ts): say when to retry.
    if (ctx.status === 503) ctx.set('Retry-After', '3');
  });
  provider.use(interactionRoutes(provider, config).routes());
  return provider;
}

// Run directly (npx tsx steps/10-openid-connect/provider.ts): listen on PORT.
if (realpathSync(process.argv[1] ?? '.') === fileURLToPath(import.meta.url)) {
  try {
    const config = loadProviderConfig();
    // A Redis that may evict sessions stops the start (the adapter has
    // said why, in one line); one that is down does not: the provider
    // answers 503 until it is up.
    if (config.store instanceof RedisAdapter && (await config.store.check()))
      process.exit(1);
    createProviderApp(config).listen(Number(process.env.PORT) || 3000);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}
