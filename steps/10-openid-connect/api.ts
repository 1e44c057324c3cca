// Step 10, the API: a resource server (RFC 6749 section 1.1). It holds no
// secret. It checks the provider's access tokens (RFC 9068) with jose and the
// keys the provider publishes, and each route asks for its own scope.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import Router from '@koa/router';
import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { API_SCOPES, ConfigError, nowInSeconds, urlSetting } from './config.ts';
import { HttpError, answerErrors, readJson } from './http.ts';
import { ProviderKeys } from './provider-keys.ts';

export interface ApiConfig {
  /** The provider: tokens must carry this iss, and its discovery says where its keys are. */
  issuer: string;
  /** This API's resource identifier (RFC 8707): tokens must carry it as aud. */
  resource: string;
  /** Leeway for clocks that disagree, in seconds. */
  clockToleranceSeconds: number;
  /** A token that claims to live longer than this is refused, whatever its exp. */
  maxLifetimeSeconds: number;
  /** The clock, in seconds since the epoch; tests inject their own. */
  now: () => number;
}

export { ConfigError };

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return {
    issuer: urlSetting(env, 'ISSUER_URL'),
    resource: urlSetting(env, 'API_URL'),
    clockToleranceSeconds: 5,
    maxLifetimeSeconds: 3600,
    now: nowInSeconds,
  };
}

const REALM = 'jwt-koa-workshop';
const MAX_TOKEN_LENGTH = 4096;

/** Where RFC 9728 section 3 says a resource publishes its metadata. */
const METADATA_PATH = '/.well-known/oauth-protected-resource';
const metadataUrl = (config: ApiConfig) => `${config.resource}${METADATA_PATH}`;

// RFC 6750 section 3 challenges, with RFC 9728 section 5.1's pointer to the
// metadata, so a client can find which provider to ask for a token. A
// description must not hold `"` or `\`.
function challenge(
  config: ApiConfig,
  params: Record<string, string> = {},
): string {
  const all = {
    realm: REALM,
    ...params,
    resource_metadata: metadataUrl(config),
  };
  return `Bearer ${Object.entries(all)
    .map(([name, value]) => `${name}="${value}"`)
    .join(', ')}`;
}

function bearerError(
  config: ApiConfig,
  status: 400 | 401,
  error: 'invalid_request' | 'invalid_token',
  message: string,
): HttpError {
  return new HttpError(status, error, message, {
    'WWW-Authenticate': challenge(config, {
      error,
      error_description: message,
    }),
  });
}

// RFC 6750 section 3.1: a good token without the
// scope is 403, and the challenge names the scope.
function insufficientScope(config: ApiConfig, scope: string) {
  const message = `This needs the scope ${scope}.`;
  return new HttpError(403, 'insufficient_scope', message, {
    'WWW-Authenticate': challenge(config, {
      error: 'insufficient_scope',
      error_description: message,
      scope,
    }),
  });
}

// RFC 6750 section 2.1: Authorization: Bearer <b64token>, scheme in any case.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

function bearerToken(ctx: Koa.Context, config: ApiConfig): string {
  // RFC 6750 section 5.3: tokens in URLs end up in logs, history and Referer.
  if ('access_token' in ctx.query || 'token' in ctx.query) {
    throw bearerError(
      config,
      400,
      'invalid_request',
      'Send the token in the Authorization header (Bearer), never in the URL.',
    );
  }
  const header = ctx.get('Authorization');
  if (!/^bearer(\s|$)/i.test(header)) {
    throw new HttpError(
      401,
      'unauthorized',
      'This resource needs an access token: send Authorization: Bearer <token>.',
      {
        'WWW-Authenticate': challenge(config),
      },
    );
  }
  const match = BEARER.exec(header);
  if (!match)
    throw bearerError(
      config,
      400,
      'invalid_request',
      'The Authorization header must be Bearer followed by one token.',
    );
  return match[1]!;
}

const CLAIM_MESSAGES: Record<string, string> = {
  typ: 'The token is not an access token: its typ must be at+jwt (an ID token is for the app, never for an API).',
  iss: 'The token was issued by another issuer.',
  aud: 'The token is for another audience: another API.',
};

function explain(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'The token has expired.';
  if (err instanceof errors.JWTClaimValidationFailed)
    return (
      CLAIM_MESSAGES[err.claim] ??
      `The token's ${err.claim} claim is missing or wrong.`
    );
  if (err instanceof errors.JOSEAlgNotAllowed)
    return 'The token must be signed with ES256.';
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return 'The token signature is invalid.';
  if (err instanceof errors.JWKSNoMatchingKey)
    return 'The token was signed with a key the provider does not publish.';
  return 'The token is malformed.';
}

const isTime = (value: unknown): value is number => Number.isSafeInteger(value);

export async function verifyAccessToken(
  token: string,
  config: ApiConfig,
  keys: JWTVerifyGetKey,
): Promise<JWTPayload> {
  const invalid = (message: string) =>
    bearerError(config, 401, 'invalid_token', message);
  if (token.length > MAX_TOKEN_LENGTH) throw invalid('The token is too long.');
  let payload: JWTPayload;
  try {
    // #region verify
    ({ payload } = await jwtVerify(token, keys, {
      algorithms: ['ES256'], // never what the token says
      issuer: config.issuer,
      audience: config.resource,
      typ: 'at+jwt', // RFC 9068 section 4
      requiredClaims: ['exp', 'iat', 'sub', 'client_id', 'jti'], // RFC 9068 2.2
      currentDate: new Date(config.now() * 1000),
      clockTolerance: config.clockToleranceSeconds,
    }));
    // #endregion
  } catch (err) {
    if (err instanceof HttpError) throw err; // the provider's keys cannot be fetched: 503
    throw invalid(explain(err));
  }
  // jose takes any number for exp, 1e999 (Infinity) too, and checks iat only
  // for its type: whole seconds, a lifetime this API accepts, not issued in
  // the future.
  const { exp, iat } = payload;
  if (!isTime(exp) || !isTime(iat))
    throw invalid('The token needs whole-second exp and iat claims.');
  if (exp - iat > config.maxLifetimeSeconds)
    throw invalid('The token claims to live longer than this API accepts.');
  if (iat > config.now() + config.clockToleranceSeconds)
    throw invalid('The token was issued in the future.');
  if (typeof payload.sub !== 'string' || payload.sub === '')
    throw invalid('The token needs a sub claim.');
  return payload;
}

interface Message {
  from: string;
  text: string;
}

export function createApiApp(config: ApiConfig): Koa {
  const app = new Koa();
  const router = new Router();
  const keys = new ProviderKeys(config.issuer);
  const messages: Message[] = [
    {
      from: 'the workshop',
      text: 'Welcome! Reading this took a token with read:messages.',
    },
  ];
  app.use(answerErrors);

  // #region metadata
  // RFC 9728: what this API is, who issues its
  // tokens, the scopes it knows, how to send them.
  router.get(METADATA_PATH, (ctx) => {
    ctx.body = {
      resource: config.resource,
      authorization_servers: [config.issuer],
      scopes_supported: API_SCOPES,
      bearer_methods_supported: ['header'],
    };
  });
  // #endregion

  // A valid access token first (401 otherwise), then the scope of the route (403).
  const authenticated: Koa.Middleware = async (ctx, next) => {
    const token = bearerToken(ctx, config);
    ctx.state.token = await verifyAccessToken(token, config, await keys.get());
    await next();
  };

  // #region scopes
  const requireScope =
    (scope: string): Koa.Middleware =>
    async (ctx, next) => {
      // RFC 9068 section 2.2.3: space-separated scopes.
      const granted = String(ctx.state.token.scope ?? '');
      if (!granted.split(' ').includes(scope)) {
        throw insufficientScope(config, scope);
      }
      await next();
    };
  // #endregion

  router.get(
    '/messages',
    authenticated,
    requireScope('read:messages'),
    (ctx) => {
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { user: ctx.state.token.sub, messages: messages.slice(-20) };
    },
  );

  router.post(
    '/messages',
    authenticated,
    requireScope('write:messages'),
    async (ctx) => {
      const { text } = await readJson(ctx);
      if (typeof text !== 'string' || text.trim() === '' || text.length > 280) {
        throw new HttpError(
          400,
          'invalid_request',
          'Send {"text": "..."}: 1 to 280 characters.',
        );
      }
      messages.push({ from: String(ctx.state.token.sub), text });
      if (messages.length > 100) messages.shift();
      ctx.status = 201;
      ctx.body = { message: 'Posted.', user: ctx.state.token.sub };
    },
  );

  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

// Run directly (npx tsx steps/10-openid-connect/api.ts): listen on PORT.
if (realpathSync(process.argv[1] ?? '.') === fileURLToPath(import.meta.url)) {
  try {
    createApiApp(loadApiConfig()).listen(Number(process.env.PORT) || 3002);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}
