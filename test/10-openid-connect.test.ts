// Checkpoint 10: an OpenID Provider (oidc-provider), a web app that signs in
// with it and keeps the tokens server-side, and an API that checks access
// tokens and scopes. The three run here on free ports, started once.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { findChromium } from '../tools/chromium.ts';
import {
  findRedisServer,
  noRedis,
  redisClient,
  startRedis,
  type RunningRedis,
} from '../tools/redis.ts';
import { es256Token } from '../tools/forge.ts';
import {
  browserSkip,
  launchChromium,
  waitForText,
  type Browser,
  type Page,
} from './helpers/browser.ts';
import {
  bearer,
  canUseOtherLoopbackAddresses,
  withFastUsers,
  TestClock,
  type LoginLimits,
  type Throttle,
} from './helpers/hardened.ts';
import { basic, get, request, show, type Answer } from './helpers/http.ts';
import {
  checkpoint,
  importStep,
  importStepFiles,
  listen,
  slow,
  type Listenable,
} from './helpers/step.ts';
import { decode, hmacToken, unsigned, withPayload } from './helpers/tokens.ts';

type Env = Record<string, string>;

/** What the provider keeps (adapter.ts): oidc-provider's adapter for each kind, and a way to let go. */
interface ProviderStore {
  factory(kind: string): {
    upsert(id: string, payload: object, expiresIn: number): Promise<unknown>;
    find(id: string): Promise<object | undefined | void>;
    consume(id: string): Promise<unknown>;
  };
  close(): Promise<void>;
}
interface StoreLimits {
  anonymous: number;
  kept: number;
}
/** A fake Koa context: a browser's cookie jar, as session.ts sees it. */
interface CookieContext {
  cookies: { get(name: string): string | undefined; set(name: string, value: string | null): void };
  secure: boolean;
}
interface Pending {
  state: string;
  nonce: string;
  verifier: string;
  expiresAt: number;
}
interface SessionLimits {
  signingIn: number;
  signedIn: number;
  perUser: number;
}
interface Sessions {
  get(ctx: CookieContext): { id: string; user?: { sub: string } } | undefined;
  beginSignIn(ctx: CookieContext, pending: Pending): void;
  takePending(ctx: CookieContext): Pending | undefined;
  signIn(ctx: CookieContext, user: { sub: string }, tokens: object): unknown;
}
interface ProviderConfig {
  store: ProviderStore;
  throttle: Throttle;
  now: () => number;
}
interface Step10 {
  provider: {
    loadProviderConfig(env: Env): ProviderConfig;
    createProviderApp(config: unknown): Listenable;
  };
  webApp: {
    loadWebAppConfig(env: Env): {
      now: () => number;
      sessionLimits: { signingIn: number; signedIn: number; perUser: number };
    };
    createWebApp(config: unknown): Listenable;
  };
  throttle: {
    LoginThrottle: new (limits: LoginLimits, now: () => number) => Throttle;
    LOGIN_LIMITS: LoginLimits;
  };
  session: {
    Sessions: new (ttlSeconds: number, now: () => number, limits?: SessionLimits) => Sessions;
    SESSION_LIMITS: SessionLimits;
  };
  stores: {
    MemoryAdapter: new (limits?: StoreLimits) => ProviderStore;
    RedisAdapter: new (
      url: string,
      limits?: StoreLimits,
      prefix?: string,
      log?: (message: string) => void,
    ) => ProviderStore;
  };
  api: {
    loadApiConfig(env: Env): { now: () => number };
    createApiApp(config: unknown): Listenable;
  };
  keys: {
    insiderAccessToken(options: {
      claims?: object;
      header?: object;
      now?: number;
      keysFile?: string;
      env?: Env;
    }): string;
  };
}

/** A server that listens before its app exists, so the app can be made with its URL; it can also play dead. */
interface Late {
  readonly url: string;
  mount(app: Listenable): void;
  /** Drop the connection of every request whose path this matches: a service that is down. */
  refuse: (path: string) => boolean;
  /** Every request's method and path, in order. */
  log: string[];
  close(): Promise<void>;
}

async function late(): Promise<Late> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    state.log.push(`${req.method} ${req.url?.split('?')[0]}`);
    if (!handler || state.refuse(req.url ?? '')) return void res.destroy();
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const state: Late = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    mount: (app) => (handler = app.callback() as never),
    refuse: () => false,
    log: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return state;
}

/** A browser without a browser: a cookie jar (by host, every port, as browsers do) and no automatic redirects. */
class Agent {
  readonly jar = new Map<string, string>();
  /** Every body and Set-Cookie header received: a token must never be among them. */
  readonly seen: string[] = [];
  readonly setCookies: string[] = [];

  async request(url: string, init: RequestInit = {}): Promise<Answer & { location?: string }> {
    const headers = new Headers(init.headers);
    if (this.jar.size > 0)
      headers.set('Cookie', [...this.jar].map(([name, value]) => `${name}=${value}`).join('; '));
    const res = await request(url, { ...init, headers: Object.fromEntries(headers) });
    for (const line of res.headers.getSetCookie()) {
      this.setCookies.push(line);
      const [pair = ''] = line.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    this.seen.push(res.text, ...res.headers.getSetCookie(), res.headers.get('location') ?? '');
    const location = res.headers.get('location');
    return {
      ...res,
      location: location ? new URL(location, url).href : undefined,
    };
  }

  post(url: string, fields: Record<string, string>): ReturnType<Agent['request']> {
    return this.request(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }
}

const CLIENT_SECRET = 'a-client-secret-for-the-tests-0123456789';
const JWT = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*/;
const formAction = (html: string, ending: string) =>
  new RegExp(`<form method="post" action="([^"]*${ending})"`).exec(html)?.[1];
const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

const chromium = findChromium();
const skip = browserSkip(chromium);

checkpoint(10, () => {
  // Chromium starts while the other tests run: it has a core of its own.
  let launching: Promise<Browser> | undefined;
  let step: Step10;
  let provider: Late;
  let webApp: Late;
  let api: Late;
  let keysDir: string;
  let env: Env;
  // The app's and the API's clocks: real time plus a shift that tests move (never a sleep).
  const shift = { app: 0, api: 0 };
  const warnings: string[] = [];
  const now = () => Math.floor(Date.now() / 1000);

  const makeApi = () => {
    const config = step.api.loadApiConfig(env);
    config.now = () => now() + shift.api;
    return step.api.createApiApp(config);
  };
  const makeWebApp = () => {
    const config = step.webApp.loadWebAppConfig(env);
    config.now = () => now() + shift.app;
    return step.webApp.createWebApp(config);
  };

  before(async () => {
    step = {
      provider: (await importStep(10, 'provider.ts')) as never,
      webApp: (await importStep(10, 'web-app.ts')) as never,
      api: (await importStep(10, 'api.ts')) as never,
      keys: (await importStep(10, 'keys.ts')) as never,
      session: (await importStep(10, 'session.ts')) as never,
      throttle: (await importStep(10, 'throttle.ts')) as never,
      stores: (await importStepFiles(10, ['memory-adapter.ts', 'redis-adapter.ts'])) as never,
    };
    if (chromium && !skip) {
      launching = launchChromium(chromium);
      launching.catch(() => {}); // reported when the browser test awaits it
    }
    [provider, webApp, api] = await Promise.all([late(), late(), late()]);
    keysDir = mkdtempSync(path.join(tmpdir(), 'step10-keys-'));
    env = {
      ISSUER_URL: provider.url,
      APP_URL: webApp.url,
      API_URL: api.url,
      KEYS_FILE: path.join(keysDir, 'provider.json'),
      CLIENT_SECRET,
    };
    // oidc-provider warns, at start, when it keeps its state in its own
    // development-only memory store.
    const warn = console.warn;
    console.warn = (...args: unknown[]) => void warnings.push(args.join(' '));
    try {
      provider.mount(
        step.provider.createProviderApp(withFastUsers(step.provider.loadProviderConfig(env))),
      );
    } finally {
      console.warn = warn;
    }
    webApp.mount(makeWebApp());
    api.mount(makeApi());
    // The provider's first answers are slow (it builds its keys and routes),
    // and on a busy machine the app's first discovery can outlast its 2 s
    // timeout and answer 503, as it should. Warm both before the tests.
    await fetch(`${provider.url}/.well-known/openid-configuration`).then((res) =>
      res.arrayBuffer(),
    );
    for (let tries = 0; tries < 5; tries++) {
      const res = await fetch(`${webApp.url}/login`, { redirect: 'manual' });
      await res.arrayBuffer();
      if (res.status !== 503) break;
    }
  });

  after(async () => {
    await (await launching?.catch(() => undefined))?.close();
    await Promise.all([provider, webApp, api].map((s) => s?.close()));
    if (keysDir) rmSync(keysDir, { recursive: true, force: true });
  });

  /** Sign in on the provider's page as alice, following redirects, until `stopAt` (or a page). */
  async function throughProvider(
    agent: Agent,
    start: string,
    options: { password?: string; stopAt?: string } = {},
  ) {
    let url = start;
    for (let hops = 0; hops < 12; hops++) {
      if (options.stopAt && url.startsWith(options.stopAt)) return { url, answer: undefined };
      let answer = await agent.request(url);
      const action = answer.status === 200 ? formAction(answer.text, '/login') : undefined;
      if (action)
        answer = await agent.post(new URL(action, url).href, {
          user: 'alice',
          password: options.password ?? 'pyconid',
        });
      if (!answer.location) return { url, answer };
      url = answer.location;
    }
    throw new Error(`Too many redirects from ${start}`);
  }

  /** Sign in to the web app as alice; the app's home page after it. */
  async function signIn(
    agent = new Agent(),
  ): Promise<{ agent: Agent; home: Answer; callback: string }> {
    const { url: callback, answer } = await throughProvider(agent, `${webApp.url}/login`, {
      stopAt: `${webApp.url}/callback`,
    });
    assert.ok(
      answer === undefined,
      `The sign-in ends on the app's callback, not on ${callback}: ${answer && show(answer)}`,
    );
    const done = await agent.request(callback);
    assert.equal(
      done.status,
      303,
      `The app's callback answers 303 to its home page once signed in: ${show(done)}`,
    );
    const home = await agent.request(new URL(done.location ?? '/', webApp.url).href);
    return { agent, home, callback };
  }

  /** Tokens straight from the provider, as a client with the app's registration gets them. */
  async function tokens(scope: string, agent = new Agent()) {
    const oidc = await client.discovery(
      new URL(provider.url),
      'workshop-web-app',
      CLIENT_SECRET,
      client.ClientSecretBasic(CLIENT_SECRET),
      {
        execute: [client.allowInsecureRequests],
      },
    );
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const start = client.buildAuthorizationUrl(oidc, {
      redirect_uri: `${webApp.url}/callback`,
      scope,
      resource: api.url,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const { url } = await throughProvider(agent, start.href, {
      stopAt: `${webApp.url}/callback`,
    });
    const response = await client.authorizationCodeGrant(oidc, new URL(url), {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    return { oidc, response };
  }

  const insider = (claims: object = {}, header: object = {}) =>
    step.keys.insiderAccessToken({
      claims,
      header,
      keysFile: env.KEYS_FILE,
      env,
      now: now() + shift.api,
    });

  /** For one test, the provider with its config changed; then a new one as before. */
  async function withProvider(
    change: (config: ProviderConfig) => void,
    body: () => Promise<void>,
  ): Promise<void> {
    const config = withFastUsers(step.provider.loadProviderConfig(env));
    change(config);
    provider.mount(step.provider.createProviderApp(config));
    try {
      await body();
    } finally {
      await config.store.close();
      provider.mount(
        step.provider.createProviderApp(withFastUsers(step.provider.loadProviderConfig(env))),
      );
    }
  }

  /** The provider's login form of a sign-in this agent starts at the app. */
  async function loginForm(agent: Agent): Promise<string> {
    const { url } = await throughProvider(agent, `${webApp.url}/login`, {
      stopAt: `${provider.url}/interaction/`,
    });
    return `${url}/login`;
  }

  /** Post the login form from a loopback address of our choice, with the agent's cookies. */
  function postFrom(
    address: string,
    url: string,
    agent: Agent,
    fields: Record<string, string>,
  ): Promise<Answer> {
    const cookie = [...agent.jar].map(([name, value]) => `${name}=${value}`).join('; ');
    return request(
      url,
      { method: 'POST', headers: { Cookie: cookie }, body: new URLSearchParams(fields) },
      address,
    );
  }

  describe('the provider', () => {
    test('publishes its discovery document: PKCE with S256, its JWKS, its end-session endpoint', async () => {
      const res = await get(`${provider.url}/.well-known/openid-configuration`);
      assert.equal(res.status, 200, show(res));
      const meta = res.json as Record<string, unknown>;
      assert.equal(meta.issuer, provider.url, 'The issuer is ISSUER_URL exactly');
      assert.deepEqual(
        meta.code_challenge_methods_supported,
        ['S256'],
        'PKCE with S256 only (RFC 7636 section 4.2)',
      );
      assert.deepEqual(
        meta.response_types_supported,
        ['code'],
        'The authorization code flow only: no implicit flow',
      );
      assert.ok(
        typeof meta.end_session_endpoint === 'string',
        'RP-Initiated Logout is enabled: an end_session_endpoint',
      );
      const jwks = await get(String(meta.jwks_uri));
      const keys = (jwks.json as { keys: Record<string, unknown>[] }).keys;
      assert.ok(keys.length >= 1, 'The JWKS publishes the signing key');
      for (const key of keys) {
        assert.equal(key.d, undefined, 'The JWKS never holds d, the private key');
        assert.equal(
          key.alg,
          'ES256',
          'The provider signs with ES256, the key generated at first start',
        );
      }
    });

    test(
      'keeps its keys in KEYS_FILE, readable by its owner only',
      { skip: process.platform === 'win32' ? 'file modes are POSIX' : false },
      () => {
        assert.ok(existsSync(env.KEYS_FILE!), 'The key file is made at first start');
        assert.equal(
          statSync(env.KEYS_FILE!).mode & 0o777,
          0o600,
          'Mode 0600: it holds private keys',
        );
        assert.deepEqual(
          readdirSync(keysDir),
          ['provider.json'],
          'Written through a temporary file and renamed: none is left behind',
        );
      },
    );

    test('refuses an authorization request without PKCE, even from the confidential app', async () => {
      const url = new URL(`${provider.url}/auth`);
      url.search = new URLSearchParams({
        client_id: 'workshop-web-app',
        redirect_uri: `${webApp.url}/callback`,
        response_type: 'code',
        scope: 'openid',
        state: 's',
        nonce: 'n',
      }).toString();
      const res = await new Agent().request(url.href);
      assert.ok(
        res.location?.startsWith(`${webApp.url}/callback`),
        `The provider answers the app with an error: ${show(res)}`,
      );
      const error = new URL(res.location!).searchParams;
      assert.equal(
        error.get('error'),
        'invalid_request',
        'No code_challenge: invalid_request (pkce.required: () => true)',
      );
      assert.match(error.get('error_description') ?? '', /PKCE/);
    });

    test('refuses a wrong password and an unknown user on its login page', async () => {
      for (const [user, password] of [
        ['alice', 'wrong'],
        ['bob', 'pyconid'],
      ] as const) {
        const agent = new Agent();
        const { url, answer } = await throughProvider(agent, `${webApp.url}/login`, {
          password: 'x',
        });
        assert.ok(
          answer && formAction(answer.text, '/login'),
          `The provider's login page is reached: ${answer ? show(answer) : url}`,
        );
        const res = await agent.post(new URL(formAction(answer.text, '/login')!, url).href, {
          user,
          password,
        });
        assert.equal(
          res.status,
          401,
          `${user} / ${password} must be refused on the provider's page: ${show(res)}`,
        );
        assert.match(res.text, /user name or password is wrong/, 'The page says why');
        assert.ok(!res.location, 'No redirect back to the app');
      }
    });

    test('its pages answer bad input with a page, never a 500', async () => {
      for (const [method, where] of [
        ['GET', '/interaction/no-such-uid'],
        ['POST', '/interaction/no-such-uid/login'],
      ]) {
        const res = await new Agent().request(`${provider.url}${where}`, {
          method,
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: method === 'POST' ? 'user=alice&user=bob' : undefined,
        });
        assert.ok(
          res.status >= 400 && res.status < 500,
          `${method} ${where} without its cookie: ${show(res)}`,
        );
      }
    });

    test('issues RFC 9068 access tokens for the API with the scopes asked, and ID tokens for the app', async () => {
      const { response } = await tokens('openid read:messages');
      const at = decode(response.access_token);
      assert.equal(
        at.header.typ,
        'at+jwt',
        'An access token says typ at+jwt (RFC 9068 section 2.1)',
      );
      assert.equal(
        at.header.alg,
        'ES256',
        "Signed with the provider's ES256 key (jwt.sign.alg in getResourceServerInfo)",
      );
      assert.equal(
        at.payload.aud,
        api.url,
        'Its audience is the API (resource indicator, RFC 8707)',
      );
      assert.equal(at.payload.iss, provider.url, 'Its issuer is the provider');
      assert.equal(at.payload.sub, 'alice', 'Its subject is the user who signed in');
      assert.equal(
        at.payload.scope,
        'read:messages',
        'Only the scope asked for: not write:messages',
      );
      const id = decode(response.id_token!);
      assert.equal(id.payload.aud, 'workshop-web-app', 'The ID token is for the app');
      assert.notEqual(id.header.typ, 'at+jwt', 'An ID token is not typed as an access token');
    });

    test('rotates refresh tokens: each works once, and a replayed one revokes the rest', async () => {
      const { oidc, response } = await tokens('openid read:messages');
      assert.ok(
        response.refresh_token,
        'A refresh token is issued without offline_access (issueRefreshToken)',
      );
      const second = await client.refreshTokenGrant(oidc, response.refresh_token);
      assert.ok(
        second.refresh_token && second.refresh_token !== response.refresh_token,
        'Each use returns a new refresh token (rotateRefreshToken: true)',
      );
      assert.equal(
        decode(second.access_token).header.typ,
        'at+jwt',
        'Refreshed access tokens are still JWTs for the API',
      );
      await assert.rejects(
        client.refreshTokenGrant(oidc, response.refresh_token),
        { error: 'invalid_grant' },
        'The old refresh token is refused',
      );
      await assert.rejects(
        client.refreshTokenGrant(oidc, second.refresh_token),
        { error: 'invalid_grant' },
        'Replaying the old one revoked the new one too',
      );
    });
  });

  describe('the API', () => {
    const messages = () => `${api.url}/messages`;

    test('GET /messages opens with an access token that has read:messages', async () => {
      const { response } = await tokens('openid read:messages');
      const res = await get(messages(), bearer(response.access_token));
      assert.equal(res.status, 200, `A real access token with read:messages: ${show(res)}`);
      assert.equal(
        (res.json as { user?: unknown }).user,
        'alice',
        "The API answers for the token's sub",
      );
    });

    test('POST /messages without write:messages is 403 insufficient_scope, naming the scope', async () => {
      const res = await fetch(messages(), {
        method: 'POST',
        headers: {
          ...bearer(insider({ scope: 'read:messages' })),
          'Content-Type': 'application/json',
        },
        body: '{"text":"hi"}',
      });
      assert.equal(
        res.status,
        403,
        'A valid token without the scope: 403, not 401 (RFC 6750 section 3.1)',
      );
      const challenge = res.headers.get('www-authenticate') ?? '';
      assert.match(challenge, /^Bearer /, 'A Bearer challenge in WWW-Authenticate');
      assert.match(
        challenge,
        /error="insufficient_scope"/,
        'error="insufficient_scope" in the challenge',
      );
      assert.match(
        challenge,
        /scope="write:messages"/,
        'The challenge names the scope that is needed',
      );
      assert.equal(res.headers.get('cache-control'), 'no-store', 'Errors are not cached');
      assert.equal(
        ((await res.json()) as { error?: unknown }).error,
        'insufficient_scope',
        'The JSON body says insufficient_scope',
      );
    });

    test('a scope is a whole word of the scope claim: write:messagesX or admin:write:messages is not write:messages', async () => {
      for (const scope of [
        'read:messages write:messagesX',
        'read:messages admin:write:messages',
        'read:messages,write:messages',
      ]) {
        const res = await fetch(messages(), {
          method: 'POST',
          headers: { ...bearer(insider({ scope })), 'Content-Type': 'application/json' },
          body: '{"text":"hi"}',
        });
        assert.equal(
          res.status,
          403,
          `A token with scope ${JSON.stringify(scope)} has no write:messages: 403 insufficient_scope (split the claim on spaces, RFC 9068 section 2.2.3; a substring test lets it in). Got ${res.status}`,
        );
      }
    });

    test('POST /messages with write:messages posts', async () => {
      const res = await fetch(messages(), {
        method: 'POST',
        headers: { ...bearer(insider()), 'Content-Type': 'application/json' },
        body: '{"text":"hi"}',
      });
      assert.equal(
        res.status,
        201,
        `A token with write:messages: ${res.status} ${await res.text()}`,
      );
    });

    test('without a token: 401 with a Bearer challenge that points to the resource metadata', async () => {
      const res = await get(messages());
      assert.equal(res.status, 401, show(res));
      assert.match(
        res.headers.get('www-authenticate') ?? '',
        /^Bearer realm=".*resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource"/,
        'RFC 9728 section 5.1',
      );
    });

    test('publishes its protected resource metadata (RFC 9728)', async () => {
      const res = await get(`${api.url}/.well-known/oauth-protected-resource`);
      assert.equal(res.status, 200, show(res));
      const meta = res.json as Record<string, unknown>;
      assert.equal(meta.resource, api.url, 'resource is API_URL, the audience of its tokens');
      assert.deepEqual(
        meta.authorization_servers,
        [provider.url],
        'authorization_servers names the provider',
      );
      assert.deepEqual(
        meta.scopes_supported,
        ['read:messages', 'write:messages'],
        "scopes_supported lists the API's two scopes",
      );
      assert.deepEqual(meta.bearer_methods_supported, ['header'], 'Tokens in the header only');
    });

    const refused: [string, () => string | Promise<string>][] = [
      ['a token for another audience', () => insider({ aud: 'http://127.0.0.1:9/another-api' })],
      [
        'the ID token used as an access token',
        async () => (await tokens('openid read:messages')).response.id_token!,
      ],
      ['a token typed JWT, as ID tokens are, not at+jwt', () => insider({}, { typ: 'JWT' })],
      ['a token without typ', () => insider({}, { typ: undefined })],
      [
        'a token from another issuer, signed with its own key',
        () => {
          const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
          const claims = decode(insider()).payload;
          return es256Token(
            { alg: 'ES256', typ: 'at+jwt', kid: 'evil' },
            { ...claims, iss: 'http://127.0.0.1:9/evil' },
            privateKey,
          );
        },
      ],
      [
        "a token claiming another issuer, even signed with the provider's key",
        () => insider({ iss: 'http://127.0.0.1:9/evil' }),
      ],
      [
        'alg none',
        () =>
          unsigned(decode(insider()).payload, 'none').replace(
            /^[^.]+/,
            Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url'),
          ),
      ],
      ['an expired token', () => insider({ iat: now() - 400, exp: now() - 100 })],
      ['a token issued in the future', () => insider({ iat: now() + 600, exp: now() + 900 })],
      ['a token living ten years', () => insider({ exp: now() + 10 * 365 * 86400 })],
      ['a token without exp', () => insider({ exp: undefined })],
      ['a token without client_id', () => insider({ client_id: undefined })],
      [
        'a tampered payload (scope added)',
        async () =>
          withPayload((await tokens('openid read:messages')).response.access_token, {
            ...decode(insider()).payload,
          }),
      ],
      [
        "HS256 keyed with the provider's public key",
        async () => {
          const jwks = (await get(`${provider.url}/jwks`)).json as { keys: object[] };
          return hmacToken(
            { alg: 'HS256', typ: 'at+jwt' },
            decode(insider()).payload,
            JSON.stringify(jwks.keys[0]),
          );
        },
      ],
      [
        'a header that is not JSON',
        () => `${Buffer.from('{"alg":').toString('base64url')}.${insider().split('.')[1]}.AAAA`,
      ],
      [
        'a payload that is not JSON',
        () => `${insider().split('.')[0]}.${Buffer.from('{"sub":').toString('base64url')}.AAAA`,
      ],
      ['a 5000-character token', () => `${insider()}${'A'.repeat(5000)}`],
    ];
    for (const [what, make] of refused) {
      test(`refuses ${what} with 401 invalid_token`, async () => {
        const res = await get(messages(), bearer(await make()));
        assert.equal(res.status, 401, `${what} must be refused: ${show(res)}`);
        assert.equal(
          (res.json as { error?: unknown }).error,
          'invalid_token',
          'The JSON body says invalid_token',
        );
        assert.match(
          res.headers.get('www-authenticate') ?? '',
          /error="invalid_token"/,
          'RFC 6750 section 3.1 challenge',
        );
        assert.equal(res.headers.get('cache-control'), 'no-store', 'Errors are not cached');
      });
    }

    test("expiry follows the API's clock: valid, then invalid_token past exp", async () => {
      const token = insider();
      assert.equal(
        (await get(messages(), bearer(token))).status,
        200,
        'A fresh token opens /messages',
      );
      shift.api = 301 + 60;
      try {
        const res = await get(messages(), bearer(token));
        assert.equal(res.status, 401, `Past exp plus the tolerance: ${show(res)}`);
        assert.match(
          String((res.json as { message?: unknown }).message),
          /expired/,
          'The message says the token has expired',
        );
      } finally {
        shift.api = 0;
      }
    });

    test('a token in the query string is 400 invalid_request, never accepted', async () => {
      for (const query of [`?access_token=${insider()}`, `?access_token=a&access_token=b`]) {
        const res = await get(`${messages()}${query}`, bearer(insider()));
        assert.equal(
          res.status,
          400,
          `Tokens in URLs leak to logs (RFC 6750 section 5.3): ${show(res)}`,
        );
        assert.equal(
          (res.json as { error?: unknown }).error,
          'invalid_request',
          'The JSON body says invalid_request',
        );
      }
    });

    test('bad input is a 4xx, never a 500: repeated parameters, bad JSON bodies, an oversized header', async () => {
      assert.equal(
        (await get(`${messages()}?x=1&x=2`, bearer(insider()))).status,
        200,
        'Repeated unrelated parameters are harmless',
      );
      for (const body of ['{"text":', '[1]', '{"text":["a","b"]}']) {
        const res = await fetch(messages(), {
          method: 'POST',
          headers: { ...bearer(insider()), 'Content-Type': 'application/json' },
          body,
        });
        assert.equal(res.status, 400, `POST ${body}: 400, not ${res.status}`);
      }
      assert.equal(
        (await get(messages(), bearer('A'.repeat(20 * 1024)))).status,
        431,
        'Node refuses headers over 16 KB with 431',
      );
    });

    test('answers 503 while the provider cannot be reached, and recovers when it can', async () => {
      const fresh = await listen(makeApi()); // an API that has not found the provider yet
      try {
        provider.refuse = () => true;
        const down = await get(`${fresh.url}/messages`, bearer(insider()));
        assert.equal(
          down.status,
          503,
          `No discovery, no verdict: 503, not 401 and never 500: ${show(down)}`,
        );
        assert.equal(
          (down.json as { error?: unknown }).error,
          'temporarily_unavailable',
          'The JSON body says temporarily_unavailable',
        );
        assert.ok(down.headers.get('retry-after'), 'Retry-After says when to try again');
        provider.refuse = (p) => p.startsWith('/jwks');
        const noKeys = await get(`${fresh.url}/messages`, bearer(insider()));
        assert.equal(
          noKeys.status,
          503,
          `Discovery works but the JWKS cannot be fetched: 503: ${show(noKeys)}`,
        );
        provider.refuse = () => false;
        const up = await get(`${fresh.url}/messages`, bearer(insider()));
        assert.equal(
          up.status,
          200,
          `Once the provider is reachable, the API finds it on the next request: ${show(up)}`,
        );
      } finally {
        provider.refuse = () => false;
        await fresh.close();
      }
    });
  });

  describe('the web app', () => {
    test('/login sends the browser to the provider with PKCE (S256), state, nonce and the API as resource', async () => {
      const agent = new Agent();
      const res = await agent.request(`${webApp.url}/login`);
      assert.ok(res.status === 302 || res.status === 303, `/login redirects: ${show(res)}`);
      const url = new URL(res.location!);
      assert.equal(
        url.origin + url.pathname,
        `${provider.url}/auth`,
        "To the provider's authorization endpoint",
      );
      const q = url.searchParams;
      assert.equal(q.get('response_type'), 'code', 'The authorization code flow');
      assert.equal(q.get('code_challenge_method'), 'S256', 'PKCE with S256 (RFC 7636)');
      assert.match(
        q.get('code_challenge') ?? '',
        /^[\w-]{43}$/,
        'code_challenge: the SHA-256 of the verifier, base64url',
      );
      assert.equal(q.get('code_verifier'), null, 'The verifier stays on the server');
      assert.match(q.get('state') ?? '', /^[\w-]{22,}$/, 'A random state');
      assert.match(q.get('nonce') ?? '', /^[\w-]{22,}$/, 'A random nonce');
      assert.equal(q.get('resource'), api.url, 'The API as resource indicator (RFC 8707)');
      assert.doesNotMatch(
        q.get('scope') ?? '',
        /write:messages/,
        'The app asks only for what it needs',
      );
      const cookie =
        agent.setCookies.find((c) => c.startsWith('webapp_session=')) ?? agent.setCookies[0] ?? '';
      assert.match(cookie, /httponly/i, 'The session cookie is HttpOnly: no script reads it');
      assert.match(cookie, /samesite=lax/i, 'The session cookie is SameSite=Lax');
    });

    test('a callback with a wrong or missing state, or none started, is refused with 400', async () => {
      const agent = new Agent();
      const started = await agent.request(`${webApp.url}/login`);
      const iss = encodeURIComponent(provider.url);
      const wrong = await agent.request(`${webApp.url}/callback?code=abc&state=wrong&iss=${iss}`);
      assert.equal(wrong.status, 400, `A state this browser did not start: ${show(wrong)}`);
      const state = new URL(started.location!).searchParams.get('state');
      for (const query of [
        `?code=abc&state=${state}&iss=${iss}`,
        `?code=a&code=b&state=a&state=b`,
        '',
      ]) {
        const res = await new Agent().request(`${webApp.url}/callback${query}`);
        assert.equal(res.status, 400, `/callback${query} with no sign-in on its way: ${show(res)}`);
      }
      const again = new Agent();
      await again.request(`${webApp.url}/login`);
      const missing = await again.request(`${webApp.url}/callback?code=abc&iss=${iss}`);
      assert.equal(missing.status, 400, `No state at all: ${show(missing)}`);

      // A real code for this very browser, with the state changed on the way.
      const victim = new Agent();
      const { url } = await throughProvider(victim, `${webApp.url}/login`, {
        stopAt: `${webApp.url}/callback`,
      });
      const tampered = new URL(url);
      tampered.searchParams.set('state', 'chosen-by-an-attacker');
      const res = await victim.request(tampered.href);
      assert.equal(
        res.status,
        400,
        `A good code with a state this browser did not start must be refused (expectedState): ${show(res)}`,
      );
    });

    test('signs alice in, shows her, and no token ever reaches the browser', async () => {
      const { agent, home, callback } = await signIn();
      assert.equal(home.status, 200, show(home));
      assert.match(
        home.text,
        /Signed in as <strong>alice<\/strong>/,
        'The app shows the user from the ID token',
      );
      const replay = await agent.request(callback);
      assert.equal(
        replay.status,
        400,
        `A replayed callback (the code is used once): ${show(replay)}`,
      );
      for (const text of agent.seen)
        assert.doesNotMatch(
          text,
          JWT,
          `No JWT in any page, redirect or cookie the browser got: ${text.slice(0, 120)}`,
        );
      for (const value of agent.jar.values())
        assert.doesNotMatch(value, JWT, 'No cookie holds a JWT');
    });

    test('calls the API for the user: read:messages works, write:messages is 403 insufficient_scope', async () => {
      const { agent, home } = await signIn();
      const csrf = csrfOf(home.text);
      const read = await agent.post(`${webApp.url}/read`, { csrf });
      assert.match(
        read.text,
        /GET \/messages answered 200/,
        `The app called the API with the user's token: ${show(read)}`,
      );
      const write = await agent.post(`${webApp.url}/write`, { csrf, text: 'hi' });
      assert.match(
        write.text,
        /POST \/messages answered 403 insufficient_scope/,
        `The app asked for read:messages only: ${show(write)}`,
      );
      const forged = await agent.post(`${webApp.url}/read`, { csrf: 'not-the-token' });
      assert.equal(
        forged.status,
        403,
        `A form without the page's CSRF token is refused: ${show(forged)}`,
      );
      for (const text of agent.seen)
        assert.doesNotMatch(text, JWT, 'The API call happens on the server: no token in the page');
    });

    test('refreshes an expired access token with the rotating refresh token', async () => {
      const { agent, home } = await signIn();
      const before = provider.log.filter((l) => l === 'POST /token').length;
      shift.app = 600; // past the access token's 300 s, by the app's clock
      try {
        const read = await agent.post(`${webApp.url}/read`, { csrf: csrfOf(home.text) });
        assert.match(
          read.text,
          /GET \/messages answered 200/,
          `Still signed in after the access token expired: ${show(read)}`,
        );
        assert.equal(
          provider.log.filter((l) => l === 'POST /token').length,
          before + 1,
          'The app went to the token endpoint once, to refresh',
        );
      } finally {
        shift.app = 0;
      }
    });

    test("logout ends the app's session and, through the provider's end-session page, the provider's", async () => {
      const { agent, home } = await signIn();
      const out = await agent.post(`${webApp.url}/logout`, { csrf: csrfOf(home.text) });
      assert.equal(out.status, 303, show(out));
      const end = new URL(out.location!);
      assert.equal(
        end.origin + end.pathname,
        `${provider.url}/session/end`,
        "To the provider's end_session_endpoint",
      );
      assert.equal(
        end.searchParams.get('post_logout_redirect_uri'),
        `${webApp.url}/`,
        'The provider is asked to send the browser back to the app',
      );
      assert.match(
        (await agent.request(`${webApp.url}/`)).text,
        /You are not signed in/,
        'The app forgot the user',
      );
      const confirm = await agent.request(end.href);
      const action =
        /<form id="op.logoutForm" method="post" action="([^"]+)"><input type="hidden" name="xsrf" value="([^"]+)"/.exec(
          confirm.text,
        );
      assert.ok(action, `The provider asks to confirm: ${show(confirm)}`);
      const done = await agent.post(action[1]!, { xsrf: action[2]!, logout: 'yes' });
      assert.equal(done.location, `${webApp.url}/`, 'Then back to the app');
      const { answer } = await throughProvider(agent, `${webApp.url}/login`, { password: 'wrong' });
      assert.equal(
        answer?.status,
        401,
        "Signing in again needs the password: the provider's session is gone",
      );
    });

    test('answers 503 while the provider cannot be reached, and recovers when it can', async () => {
      const fresh = await listen(makeWebApp()); // an app that has not found the provider yet
      try {
        provider.refuse = () => true;
        const down = await get(`${fresh.url}/login`);
        assert.equal(
          down.status,
          503,
          `503 while the provider is not up, never a crash: ${show(down)}`,
        );
        assert.equal(
          (down.json as { error?: unknown }).error,
          'temporarily_unavailable',
          'The JSON body says temporarily_unavailable',
        );
        assert.ok(down.headers.get('retry-after'), 'Retry-After says when to try again');
        provider.refuse = () => false;
        const up = await get(`${fresh.url}/login`);
        assert.equal(up.status, 302, `Once the provider is up, the app finds it: ${show(up)}`);
      } finally {
        provider.refuse = () => false;
        await fresh.close();
      }
    });
  });

  /** A browser as session.ts sees it: a cookie jar behind a Koa context. */
  const cookieContext = (): CookieContext => {
    const jar = new Map<string, string>();
    return {
      cookies: {
        get: (name) => jar.get(name),
        set: (name, value) => (value === null ? jar.delete(name) : jar.set(name, value)),
      },
      secure: false,
    };
  };
  /** Anonymous GETs, one after the other, each from a new browser: how many answered `status`. */
  async function flood(url: string, count: number, status: number): Promise<number> {
    let answered = 0;
    for (let i = 0; i < count; i++) {
      if ((await request(url)).status === status) answered++;
    }
    return answered;
  }
  const tokenRequests = () => provider.log.filter((l) => l === 'POST /token').length;

  describe("the provider's login form is throttled as steps 06-09 throttle /login", () => {
    test('30 wrong passwords: 5 are checked, 25 refused with 429 before any hashing', async () => {
      const clock = new TestClock();
      let hashes = 0;
      await withProvider(
        (config) => {
          const throttle = new step.throttle.LoginThrottle(
            { ...step.throttle.LOGIN_LIMITS, refusalPauseMs: 0 },
            clock.now,
          );
          // Every password hash of the form goes through the throttle's turns.
          const inTurn = throttle.inTurn.bind(throttle);
          throttle.inTurn = (work, first) => {
            hashes++;
            return inTurn(work, first);
          };
          Object.assign(config, { throttle, now: clock.now });
        },
        async () => {
          const agent = new Agent();
          const form = await loginForm(agent);
          const statuses: number[] = [];
          let refusal: Answer | undefined;
          for (let i = 1; i <= 30; i++) {
            const res = await postFrom('127.0.0.1', form, agent, {
              user: 'alice',
              password: `guess-${i}`,
            });
            statuses.push(res.status);
            if (res.status === 429) refusal ??= res;
          }
          assert.deepEqual(
            statuses,
            [...Array(5).fill(401), ...Array(25).fill(429)],
            'Five misses from one client at one account, then 429 (LOGIN_LIMITS.accountAtAddress)',
          );
          assert.equal(
            hashes,
            5,
            'Only the 5 checked attempts cost a hash: count each attempt before hashing (throttle.countAttempt)',
          );
          assert.equal(
            refusal?.headers.get('retry-after'),
            String(step.throttle.LOGIN_LIMITS.accountAtAddress.wait),
            'The 429 says when to try again (Retry-After)',
          );
          assert.match(refusal?.text ?? '', /Too many failed sign-ins/, 'The page says why');
        },
      );
    });

    test('a device cookie from an earlier sign-in lets alice through a lock on her account', async (t) => {
      if (!(await canUseOtherLoopbackAddresses()))
        return t.skip('this system has no loopback address but 127.0.0.1');
      const clock = new TestClock();
      await withProvider(
        (config) =>
          Object.assign(config, {
            throttle: new step.throttle.LoginThrottle(
              {
                ...step.throttle.LOGIN_LIMITS,
                refusalPauseMs: 0,
                account: { failures: 3, within: 900, wait: 60 },
              },
              clock.now,
            ),
            now: clock.now,
          }),
        async () => {
          const alice = new Agent();
          await tokens('openid read:messages', alice);
          assert.ok(
            alice.jar.has('device') && alice.jar.has('device.sig'),
            `A sign-in sets a signed "device" cookie: ${[...alice.jar.keys()].join(', ')}`,
          );
          const guesser = new Agent();
          const form = await loginForm(guesser);
          for (let i = 1; i <= 4; i++)
            await postFrom('127.0.0.2', form, guesser, { user: 'alice', password: `guess-${i}` });

          const stranger = new Agent();
          const refused = await postFrom('127.0.0.3', await loginForm(stranger), stranger, {
            user: 'alice',
            password: 'pyconid',
          });
          assert.equal(
            refused.status,
            429,
            `With the account's limit (3) tripped, a client never seen before waits: ${show(refused)}`,
          );

          // alice in a new sign-in: her device cookie, nothing else of hers.
          const proven = new Agent();
          for (const name of ['device', 'device.sig']) proven.jar.set(name, alice.jar.get(name)!);
          const ok = await postFrom('127.0.0.3', await loginForm(proven), proven, {
            user: 'alice',
            password: 'pyconid',
          });
          assert.equal(
            ok.status,
            303,
            `With alice's device cookie the same sign-in goes through, from any address: ${show(ok)}`,
          );

          const forged = new Agent();
          forged.jar.set('device', `${alice.jar.get('device')!.slice(0, -1)}9`);
          forged.jar.set('device.sig', alice.jar.get('device.sig')!);
          const bad = await postFrom('127.0.0.4', await loginForm(forged), forged, {
            user: 'alice',
            password: 'pyconid',
          });
          assert.equal(
            bad.status,
            429,
            `A device cookie whose signature does not match proves nothing: ${show(bad)}`,
          );
        },
      );
    });
  });

  describe('a flood of anonymous requests signs nobody out', { skip: slow }, () => {
    test("the web app: a flood of sign-ins on their way, twice their room, pushes out only each other, and /login keeps a signed-in user's session", () => {
      const clock = { now: 1_000_000 };
      // A room of 100 (the app's is SESSION_LIMITS.signingIn, 10,000): the
      // same code, a flood a hundredth the size.
      const room = { ...step.session.SESSION_LIMITS, signingIn: 100 };
      const sessions = new step.session.Sessions(3600, () => clock.now, room);
      const pending = (): Pending => ({
        state: 's',
        nonce: 'n',
        verifier: 'v',
        expiresAt: clock.now + 600,
      });
      const alice = cookieContext();
      sessions.beginSignIn(alice, pending());
      assert.ok(sessions.takePending(alice), 'The callback finds the sign-in /login began');
      sessions.signIn(alice, { sub: 'alice' }, { access: 'a', expiresAt: clock.now + 300 });
      const signedIn = sessions.get(alice)?.id;
      assert.ok(signedIn, 'alice is signed in');

      const first = cookieContext();
      sessions.beginSignIn(first, pending());
      for (let i = 0; i < 2 * room.signingIn; i++) sessions.beginSignIn(cookieContext(), pending());
      assert.equal(
        sessions.get(first),
        undefined,
        'The oldest sign-in on its way was pushed out: their room is bounded (session.ts, SESSION_LIMITS)',
      );
      assert.equal(
        sessions.get(alice)?.id,
        signedIn,
        'After twice their room of anonymous GET /login, alice is still signed in: sign-ins on their way must push out only each other',
      );

      // A link to /login from another site, then a callback that fails.
      sessions.beginSignIn(alice, pending());
      assert.equal(
        sessions.get(alice)?.id,
        signedIn,
        'GET /login while signed in must keep the session: a cross-site link must not sign anyone out',
      );
      sessions.takePending(alice);
      assert.equal(
        sessions.get(alice)?.user?.sub,
        'alice',
        'A sign-in that goes no further leaves alice signed in',
      );
    });

    test("the web app: one user's sign-ins end only their own oldest session; a full app refuses a new one with 503", () => {
      const clock = { now: 1_000_000 };
      const sessions = new step.session.Sessions(3600, () => clock.now, {
        signingIn: 10,
        signedIn: 4,
        perUser: 2,
      });
      const signIn = (sub: string) => {
        const browser = cookieContext();
        sessions.signIn(browser, { sub }, { access: 'a', expiresAt: clock.now + 300 });
        return browser;
      };
      const bob = signIn('bob');
      const alice = [signIn('alice'), signIn('alice'), signIn('alice')];
      assert.equal(sessions.get(alice[0]!), undefined, "alice's third session ends her oldest");
      assert.ok(sessions.get(alice[2]!) && sessions.get(bob), "...and nobody else's");
      signIn('carol');
      assert.throws(
        () => signIn('dave'),
        { status: 503 },
        'With the room of signed-in sessions full, a new sign-in is refused (503): nobody is signed out',
      );
      assert.ok(sessions.get(bob), 'bob is still signed in');
    });

    test('the web app: a link to /login and 100 anonymous GET /login leave alice signed in, refresh included', async () => {
      const config = step.webApp.loadWebAppConfig(env);
      config.now = () => now() + shift.app;
      config.sessionLimits = { ...config.sessionLimits, signingIn: 30 };
      webApp.mount(step.webApp.createWebApp(config));
      try {
        const { agent, home } = await signIn();
        const link = await agent.request(`${webApp.url}/login`);
        assert.ok(
          link.location?.startsWith(`${provider.url}/auth`),
          `GET /login while signed in still starts a sign-in: ${show(link)}`,
        );
        assert.equal(
          await flood(`${webApp.url}/login`, 100, 302),
          100,
          'Every anonymous GET /login is sent to the provider',
        );
        assert.match(
          (await agent.request(`${webApp.url}/`)).text,
          /Signed in as <strong>alice<\/strong>/,
          'After a link to /login and 100 anonymous ones (the room holds 30), alice is still signed in',
        );
        const before = tokenRequests();
        shift.app = 600; // past the access token's 300 s
        const read = await agent.post(`${webApp.url}/read`, { csrf: csrfOf(home.text) });
        assert.match(
          read.text,
          /GET \/messages answered 200/,
          `The refresh token still works: ${show(read)}`,
        );
        assert.equal(tokenRequests(), before + 1, 'The app refreshed once');
      } finally {
        shift.app = 0;
        webApp.mount(makeWebApp());
      }
    });

    test("the provider: 150 anonymous /auth and 60 /session/end leave alice's session and refresh token working", async () => {
      const small = { anonymous: 50, kept: 100 };
      await withProvider(
        (config) => (config.store = new step.stores.MemoryAdapter(small)),
        async () => {
          const alice = new Agent();
          const { oidc, response } = await tokens('openid read:messages', alice);
          // A sign-in begun before the flood, and left at the login form.
          const early = new Agent();
          const form = await loginForm(early);
          const auth = new URL(
            (await new Agent().request(`${webApp.url}/login`)).location!,
          ).href.replace(/state=[^&]+/, 'state=flood');
          assert.equal(await flood(auth, 150, 303), 150, 'Each /auth starts a sign-in');
          assert.equal(
            await flood(`${provider.url}/session/end`, 60, 200),
            60,
            'Each /session/end makes an anonymous session',
          );
          const pushedOut = await early.request(form.replace(/\/login$/, ''));
          assert.equal(
            pushedOut.status,
            400,
            `The oldest sign-in on its way was pushed out: that room is bounded (adapter.ts): ${show(pushedOut)}`,
          );
          const refreshed = await client
            .refreshTokenGrant(oidc, response.refresh_token!)
            .catch((err: Error) => err);
          assert.ok(
            !(refreshed instanceof Error),
            `alice's refresh token must survive a flood of anonymous requests (oidc-provider's own memory store forgets it): ${refreshed instanceof Error ? refreshed.message : ''}`,
          );
          const passwords = () =>
            provider.log.filter((l) => /^POST \/interaction\/.*\/login$/.test(l)).length;
          const before = passwords();
          const { url } = await throughProvider(alice, `${webApp.url}/login`, {
            stopAt: `${webApp.url}/callback`,
          });
          assert.ok(url.includes('code='), `alice signs in again: ${url}`);
          assert.equal(
            passwords(),
            before,
            "...without her password: the provider's session survived the flood",
          );
        },
      );
    });

    test('the provider keeps its state in a store of its own: no development-only in-memory adapter', () => {
      assert.deepEqual(
        warnings.filter((w) => /in-memory adapter/.test(w)),
        [],
        "oidc-provider's development memory store keeps about 1,000 entries in all: set adapter (adapter.ts)",
      );
    });

    test("the provider's embedded store refuses rather than push out a user's grant, and lets used codes go first", async () => {
      const store = new step.stores.MemoryAdapter({ anonymous: 2, kept: 2 });
      const codes = store.factory('AuthorizationCode');
      const code = { accountId: 'alice', grantId: 'g' };
      await codes.upsert('a', code, 60);
      await codes.upsert('b', code, 60);
      await assert.rejects(
        codes.upsert('c', code, 60),
        { status: 503, error: 'temporarily_unavailable' },
        'A full room of codes refuses a new one with 503: it never pushes out a live one',
      );
      await codes.consume('a');
      await codes.upsert('c', code, 60);
      assert.equal(await codes.find('a'), undefined, 'A used code made room');
      assert.ok(await codes.find('b'), 'The live code is still there');
      const interactions = store.factory('Interaction');
      for (const id of ['x', 'y', 'z']) await interactions.upsert(id, {}, 600);
      assert.equal(
        await interactions.find('x'),
        undefined,
        'Sign-ins on their way push out only each other',
      );
      assert.ok(await codes.find('c'), "and never a user's code");
    });
  });

  const redisServer = findRedisServer();
  const skipRedis =
    slow ||
    (redisServer || process.env.CI ? false : `${noRedis} (under CI=true these tests must run)`);
  describe('the provider with REDIS_URL', { skip: skipRedis }, () => {
    let redis: RunningRedis | undefined;
    let store: ProviderStore | undefined;
    const redisStore = () =>
      new step.stores.RedisAdapter(redis!.url, { anonymous: 50, kept: 1000 }, 'test10:', () => {});
    // A provider on a store of Redis; the one before it lets go of its connection.
    const mountWith = async (s: ProviderStore) => {
      await store?.close();
      const config = withFastUsers(step.provider.loadProviderConfig(env));
      config.store = store = s;
      provider.mount(step.provider.createProviderApp(config));
    };
    before(async () => {
      assert.ok(
        redisServer,
        'Under CI=true the Redis tests must run: install redis-server (.ci/run does)',
      );
      redis = await startRedis(redisServer);
    });
    after(async () => {
      await store?.close();
      provider.mount(
        step.provider.createProviderApp(withFastUsers(step.provider.loadProviderConfig(env))),
      );
      redis?.stop();
    });

    test('keeps alice signed in through 150 anonymous /auth and 60 /session/end, and across a restart of the provider', async () => {
      await mountWith(redisStore());
      const { oidc, response } = await tokens('openid read:messages');
      const auth = new URL((await new Agent().request(`${webApp.url}/login`)).location!).href;
      assert.equal(await flood(auth, 150, 303), 150, 'Each /auth starts a sign-in');
      assert.equal(
        await flood(`${provider.url}/session/end`, 60, 200),
        60,
        'Each /session/end makes an anonymous session',
      );
      const second = await client.refreshTokenGrant(oidc, response.refresh_token!);
      assert.ok(second.refresh_token, 'The refresh token works after the flood');
      await mountWith(redisStore()); // a new provider process, the same Redis
      const third = await client
        .refreshTokenGrant(oidc, second.refresh_token!)
        .catch((err: Error) => err);
      assert.ok(
        !(third instanceof Error),
        `A restarted provider finds alice's grant in Redis: ${third instanceof Error ? third.message : ''}`,
      );
    });

    test(
      'a frozen Redis: 503 temporarily_unavailable within about a second, and answers again when it wakes',
      { skip: process.platform === 'win32' ? 'SIGSTOP is POSIX' : false },
      async () => {
        await mountWith(redisStore());
        const { oidc, response } = await tokens('openid read:messages');
        const info = await redisClient(redis!.url);
        const pid = Number(/process_id:(\d+)/.exec(await info.info('server'))?.[1]);
        info.destroy();
        process.kill(pid, 'SIGSTOP');
        const started = Date.now();
        let frozen: Answer;
        try {
          frozen = await request(`${provider.url}/token`, {
            method: 'POST',
            headers: {
              ...basic('workshop-web-app', CLIENT_SECRET),
              'Content-Type': 'application/x-www-form-urlencoded',
            },
            body: `grant_type=refresh_token&refresh_token=${response.refresh_token}`,
          });
        } finally {
          process.kill(pid, 'SIGCONT');
        }
        const took = Date.now() - started;
        assert.equal(
          frozen.status,
          503,
          `A refresh while Redis is frozen is 503, not a hang: ${show(frozen)}`,
        );
        assert.equal(
          (frozen.json as { error?: unknown }).error,
          'temporarily_unavailable',
          'The JSON says temporarily_unavailable',
        );
        assert.ok(frozen.headers.get('retry-after'), 'Retry-After says when to try again');
        assert.ok(
          took < 3000,
          `...within about a second (each Redis call has a timer): ${took} ms`,
        );
        const awake = await client.refreshTokenGrant(oidc, response.refresh_token!);
        assert.ok(awake.access_token, 'Redis awake: the same refresh token works');
      },
    );
  });

  test('every setting is checked at start-up, naming the setting', () => {
    const cases: [string, Env, RegExp][] = [
      ['a URL that is not one', { API_URL: 'nope' }, /API_URL/],
      ['plain http to another machine', { ISSUER_URL: 'http://example.com' }, /ISSUER_URL.*https/],
      ['a TTL that is not whole seconds', { SESSION_TTL_SECONDS: '1.5' }, /SESSION_TTL_SECONDS/],
      ['a short client secret', { CLIENT_SECRET: 'short' }, /CLIENT_SECRET/],
    ];
    for (const [what, bad, message] of cases) {
      assert.throws(
        () => step.webApp.loadWebAppConfig({ ...env, ...bad }),
        message,
        `${what} must stop the web app with a message naming it`,
      );
    }
    assert.throws(
      () => step.api.loadApiConfig({ ...env, API_URL: 'ftp://x' }),
      /API_URL/,
      'The API checks its URLs too',
    );
    assert.throws(
      () => step.provider.loadProviderConfig({ ...env, ACCESS_TOKEN_TTL_SECONDS: '1e3' }),
      /ACCESS_TOKEN_TTL_SECONDS/,
      'The provider checks its TTL',
    );
    assert.throws(
      () => step.provider.loadProviderConfig({ ...env, REDIS_URL: 'http://me:hunter2@localhost' }),
      (err: Error) => /REDIS_URL.*redis:\/\//.test(err.message) && !/hunter2/.test(err.message),
      'The provider checks REDIS_URL, and never prints it: it may hold a password',
    );
  });

  describe('in a real browser', { skip }, () => {
    let browser: Browser | undefined;
    before(async () => {
      assert.ok(
        chromium,
        'Under CI=true the browser test must run: install Chromium (.ci/run does)',
      );
      browser = await launching;
    });

    const text = (page: Page, selector: string) => page.locator(selector).textContent();

    test("sign in on the provider's page, see the user, call the API with and without the scope, sign out", async () => {
      const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
      page.setDefaultTimeout(10_000);
      try {
        await page.goto(webApp.url);
        assert.match((await text(page, '#user')) ?? '', /not signed in/);
        await page.getByRole('link', { name: 'Sign in with the workshop provider' }).click();
        await page.waitForURL(new RegExp(`^${provider.url}/interaction/`));

        await page.getByLabel('User name').fill('alice');
        await page.getByLabel('Password').fill('wrong');
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.locator('.error').waitFor();
        assert.match(
          (await text(page, '.error')) ?? '',
          /user name or password is wrong/,
          "A wrong password is refused on the provider's page",
        );

        await page.getByLabel('User name').fill('alice');
        await page.getByLabel('Password').fill('pyconid');
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.waitForURL(`${webApp.url}/`);
        assert.match(
          (await text(page, '#user')) ?? '',
          /Signed in as alice/,
          'Back on the app, signed in',
        );

        const cookies = await page.context().cookies();
        const session = cookies.find((c) => c.name === 'webapp_session');
        assert.ok(
          session?.httpOnly && session.sameSite === 'Lax',
          "The app's session cookie is HttpOnly and SameSite=Lax",
        );
        for (const cookie of cookies)
          assert.doesNotMatch(cookie.value, JWT, `No token in the cookie ${cookie.name}`);
        assert.doesNotMatch(await page.content(), JWT, 'No token in the page');

        await page.getByRole('button', { name: 'Read messages (GET /messages)' }).click();
        await page.locator('#result-status').waitFor();
        assert.match(
          (await text(page, '#result-status')) ?? '',
          /GET \/messages answered 200/,
          'read:messages was granted',
        );
        await page.getByRole('button', { name: 'Post a message (POST /messages)' }).click();
        await waitForText(page, 'result-status', /^POST/);
        assert.match(
          (await text(page, '#result-status')) ?? '',
          /POST \/messages answered 403 insufficient_scope/,
          'write:messages was not asked for: the API said 403',
        );

        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.getByRole('button', { name: 'Yes, sign me out' }).click();
        await page.waitForURL(`${webApp.url}/`);
        assert.match((await text(page, '#user')) ?? '', /not signed in/, 'The app forgot the user');
        await page.goto(`${webApp.url}/login`);
        await page.waitForURL(new RegExp(`^${provider.url}/interaction/`));
        assert.equal(
          await page.getByLabel('Password').isVisible(),
          true,
          'The provider asks for the password again: its session ended too',
        );
      } finally {
        await page.close();
      }
    });
  });
});
