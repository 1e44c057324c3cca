// Checkpoint 07: one login service signs with ES256 and publishes a JWKS;
// an API with no secret verifies with the public keys.
import assert from 'node:assert/strict';
import { generateKeyPairSync, createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, describe, test } from 'node:test';
import { START, bearer, bearerRules, goodClaims, hardened, loginRules, loginToken } from './helpers/hardened.ts';
import { get, show } from './helpers/http.ts';
import { checkpoint, importStep, listen, serve, type Listenable } from './helpers/step.ts';
import { decode, hmacToken } from './helpers/tokens.ts';
import { es256Token } from '../tools/forge.ts';

interface Ring {
  signingKey(): { kid: string; key: KeyObject };
  jwks(now: number): { keys: JsonWebKey[] };
  rotate(now: number, graceSeconds: number): string;
}
interface Keys {
  KeyRing: new (keys: unknown[]) => Ring;
  newKey(now: number): unknown;
}
interface AuthConfig {
  keys: () => Ring;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  now: () => number;
}
interface ApiConfig {
  jwksUrl: string;
  refetchSeconds: number;
  now: () => number;
}

checkpoint(7, () => {
  let keys: Keys;
  let auth: { loadAuthConfig(env: object): AuthConfig; createAuthApp(config: AuthConfig): Listenable };
  let api: { loadApiConfig(env: object): ApiConfig; createApiApp(config: ApiConfig): Listenable };
  let ring: Ring;
  // The JWKS as the API sees it: through a switch that can take it down.
  let jwksDown = false;
  const h = hardened({
    alg: 'ES256',
    loginUrl: () => authServer.url,
    apiUrl: () => apiServer.url,
    sign: (header, claims) => {
      const { kid, key } = ring.signingKey();
      return es256Token({ kid, ...header }, claims, key);
    },
  });

  before(async () => {
    keys = (await importStep(7, 'keys.ts')) as unknown as Keys;
    auth = (await importStep(7, 'auth-server.ts')) as unknown as typeof auth;
    api = (await importStep(7, 'api-server.ts')) as unknown as typeof api;
    ring = new keys.KeyRing([keys.newKey(START)]);
  });

  const authServer = serve(async () => {
    const config = auth.loadAuthConfig({});
    Object.assign(config, { keys: () => ring, now: () => h.clock.now });
    return auth.createAuthApp(config);
  });
  const jwksSwitch = serve(async () => ({
    callback: () => async (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
      if (jwksDown) return res.destroy();
      const upstream = await fetch(`${authServer.url}${req.url}`);
      res.writeHead(upstream.status, { 'Content-Type': 'application/json' }).end(await upstream.text());
    },
  }) as unknown as Listenable);
  const makeApi = () => {
    const config = api.loadApiConfig({ JWKS_URL: `${jwksSwitch.url}/.well-known/jwks.json` });
    Object.assign(config, { now: () => h.clock.now });
    return api.createApiApp(config);
  };
  const apiServer = serve(async () => makeApi());

  describe('the login service', () => {
    test('publishes its public keys as a JWKS, and never the private part', async () => {
      const res = await get(`${h.loginUrl}/.well-known/jwks.json`);
      assert.equal(res.status, 200, show(res));
      const { keys: published } = res.json as { keys: Record<string, unknown>[] };
      assert.ok(published.length >= 1, 'The JWKS publishes at least the signing key');
      for (const jwk of published) {
        assert.deepEqual(Object.keys(jwk).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'], 'kty, crv, x, y, kid, alg, use: and no d, the private key');
        assert.equal(jwk.kty, 'EC');
        assert.equal(jwk.crv, 'P-256');
        assert.equal(jwk.alg, 'ES256');
        assert.equal(jwk.use, 'sig');
      }
    });

    test('signs ES256 with a kid that the JWKS publishes', async () => {
      const { header } = decode(await loginToken(h));
      assert.equal(header.alg, 'ES256', 'ES256: an EC P-256 key, signatures of 64 bytes');
      const published = ((await get(`${h.loginUrl}/.well-known/jwks.json`)).json as { keys: { kid: string }[] }).keys.map((k) => k.kid);
      assert.ok(typeof header.kid === 'string' && published.includes(header.kid), 'The header names its key: kid');
    });

    loginRules(h);
  });

  describe('the API', () => {
    bearerRules(h);

    test('refuses a token signed by a key that is not in the JWKS, even with a real kid', async () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const forged = es256Token({ alg: 'ES256', typ: 'JWT', kid: ring.signingKey().kid }, goodClaims(h), privateKey);
      const res = await get(`${h.apiUrl}/protected`, bearer(forged));
      assert.equal(res.status, 401, `Only the login service's keys sign: ${show(res)}`);
    });

    test('refuses an unknown kid', async () => {
      const res = await get(`${h.apiUrl}/protected`, bearer(h.sign({ alg: 'ES256', typ: 'JWT', kid: 'no-such-key' }, goodClaims(h))));
      assert.equal(res.status, 401, show(res));
    });

    test('refuses HS256 keyed with the public key (algorithm confusion)', async () => {
      const { kid } = ring.signingKey();
      const jwk = ring.jwks(h.clock.now).keys.find((k) => k.kid === kid)!;
      const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
      const res = await get(`${h.apiUrl}/protected`, bearer(hmacToken({ alg: 'HS256', typ: 'JWT', kid }, goodClaims(h), pem)));
      assert.equal(res.status, 401, `A public key is public: an HMAC keyed with it proves nothing: ${show(res)}`);
    });

    test('refuses a key embedded in the token (jwk)', async () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const token = es256Token({ alg: 'ES256', typ: 'JWT', kid: ring.signingKey().kid, jwk: publicKey.export({ format: 'jwk' }) }, goodClaims(h), privateKey);
      const res = await get(`${h.apiUrl}/protected`, bearer(token));
      assert.equal(res.status, 401, show(res));
    });

    test('after a rotation, old and new tokens both work, and the JWKS serves both until the old expire', async () => {
      const start = h.clock.now;
      try {
        const before = await loginToken(h);
        const oldKid = decode(before).header.kid;
        const newKid = ring.rotate(h.clock.now, h.ttl + 5);
        h.clock.now += 6; // past the API's refetch interval: an unknown kid fetches the JWKS again
        const after = await loginToken(h);
        assert.equal(decode(after).header.kid, newKid, 'New tokens carry the new kid');
        assert.notEqual(newKid, oldKid);
        for (const [what, token] of [['the old token', before], ['the new token', after]] as const) {
          const res = await get(`${h.apiUrl}/protected`, bearer(token));
          assert.equal(res.status, 200, `${what} must still open /protected: ${show(res)}`);
        }
        const kids = () => ring.jwks(h.clock.now).keys.map((k) => k.kid);
        assert.deepEqual(kids(), [oldKid, newKid], 'The JWKS publishes both keys while old tokens live');
        h.clock.now += h.ttl + 5;
        assert.deepEqual(kids(), [newKid], 'Once every old token has expired, the old key is retired');
      } finally {
        h.clock.now = start;
      }
    });

    test('a key rotated just after the API loaded the JWKS is fetched at once, and only once', async () => {
      const fresh = await listen(makeApi()); // an API with nothing cached yet
      const start = h.clock.now;
      try {
        const first = await get(`${fresh.url}/protected`, bearer(await loginToken(h)));
        assert.equal(first.status, 200, `The first call loads the keys: ${show(first)}`);
        ring.rotate(h.clock.now, h.ttl + 5); // no time passes: a learner typing fast
        const rotated = await get(`${fresh.url}/protected`, bearer(await loginToken(h)));
        assert.equal(rotated.status, 200, `A new kid right after the first load must not wait for the refetch interval: ${show(rotated)}`);
        ring.rotate(h.clock.now, h.ttl + 5);
        const again = await get(`${fresh.url}/protected`, bearer(await loginToken(h)));
        assert.equal(again.status, 401, `A second unknown kid within the refetch interval is not fetched for: ${show(again)}`);
        h.clock.now += 6;
        const later = await get(`${fresh.url}/protected`, bearer(await loginToken(h)));
        assert.equal(later.status, 200, `After the interval the API fetches again: ${show(later)}`);
      } finally {
        h.clock.now = start;
        await fresh.close();
      }
    });

    test('answers 503 when the JWKS cannot be fetched, and recovers when it comes back', async () => {
      const fresh = await listen(makeApi()); // an API with nothing cached yet
      const start = h.clock.now;
      try {
        const token = await loginToken(h);
        jwksDown = true;
        const down = await get(`${fresh.url}/protected`, bearer(token));
        assert.equal(down.status, 503, `No keys, no verdict: 503, not 401 and never 500: ${show(down)}`);
        assert.equal((down.json as { error?: string }).error, 'temporarily_unavailable', 'A JSON body says why');
        jwksDown = false;
        h.clock.now += 6;
        const up = await get(`${fresh.url}/protected`, bearer(token));
        assert.equal(up.status, 200, `Once the login service is back, the API fetches the keys again: ${show(up)}`);
      } finally {
        jwksDown = false;
        h.clock.now = start;
        await fresh.close();
      }
    });
  });

  test('the key file round-trips without losing the private key', () => {
    const stored = JSON.parse(JSON.stringify(ring)) as { keys: { privateJwk: JsonWebKey }[] };
    const key = createPrivateKey({ key: stored.keys.at(-1)!.privateJwk, format: 'jwk' });
    assert.equal(key.asymmetricKeyType, 'ec');
  });
});
