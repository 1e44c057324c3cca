// The login service's signing keys: EC P-256 key pairs for ES256, newest
// first to sign, kept in a file so that a rotation survives a restart and
// npm run rotate-key can rotate them while the service runs.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

interface StoredKey {
  kid: string;
  createdAt: number;
  /** After this time the key is no longer published: every token it signed has expired. */
  retireAfter?: number;
  /** The private key as a JWK: it holds `d`, so this file is never published. */
  privateJwk: JsonWebKey;
}

// #region public-jwk
/** The public half as RFC 7517 publishes it: no `d`, ever. */
export function publicJwk(key: StoredKey): JsonWebKey {
  const { kty, crv, x, y } = key.privateJwk;
  return { kty, crv, x, y, kid: key.kid, alg: 'ES256', use: 'sig' };
}
// #endregion

/** RFC 7638 JWK thumbprint: a kid that names the key by its own bytes. */
function thumbprint(jwk: JsonWebKey): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

export function newKey(now: number): StoredKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateJwk = privateKey.export({ format: 'jwk' });
  return { kid: thumbprint(privateJwk), createdAt: now, privateJwk };
}

// #region key-ring
export class KeyRing {
  private privateKeys = new Map<string, KeyObject>();

  constructor(private keys: StoredKey[]) {}

  /** The newest key signs. */
  signingKey(): { kid: string; key: KeyObject } {
    const newest = this.keys.at(-1)!;
    let key = this.privateKeys.get(newest.kid);
    if (!key) {
      key = createPrivateKey({ key: newest.privateJwk, format: 'jwk' });
      this.privateKeys.set(newest.kid, key);
    }
    return { kid: newest.kid, key };
  }

  /** The JWKS: every key whose tokens may still be valid. */
  jwks(now: number): { keys: JsonWebKey[] } {
    return { keys: this.keys.filter((k) => k.retireAfter === undefined || k.retireAfter > now).map(publicJwk) };
  }

  /**
   * A new key signs from now on. The old ones stay published until every
   * token they signed has expired (`graceSeconds`: lifetime plus leeway).
   */
  rotate(now: number, graceSeconds: number): string {
    for (const key of this.keys) key.retireAfter ??= now + graceSeconds;
    this.keys = this.keys.filter((k) => k.retireAfter === undefined || k.retireAfter > now);
    const key = newKey(now);
    this.keys.push(key);
    return key.kid;
  }

  toJSON(): { keys: StoredKey[] } {
    return { keys: this.keys };
  }
}
// #endregion

/** The key file: created with one key on first use, readable by its owner only. */
export function loadKeyRing(file: string, now: number): KeyRing {
  if (!existsSync(file)) saveKeyRing(file, new KeyRing([newKey(now)]));
  return new KeyRing((JSON.parse(readFileSync(file, 'utf8')) as { keys: StoredKey[] }).keys);
}

export function saveKeyRing(file: string, ring: KeyRing): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(ring, null, 2)}\n`, { mode: 0o600 });
}

/** A key ring that reloads its file when the file changes (npm run rotate-key). */
export function watchedKeyRing(file: string, now: () => number): () => KeyRing {
  let ring = loadKeyRing(file, now());
  let seen = statSync(file).mtimeMs;
  return () => {
    const mtime = existsSync(file) ? statSync(file).mtimeMs : seen;
    if (mtime !== seen) {
      seen = mtime;
      ring = loadKeyRing(file, now());
    }
    return ring;
  };
}

// Outside the step folder, so that no copy or diff of the step carries a private key.
export const defaultKeyFile = (env: NodeJS.ProcessEnv) => path.resolve(env.KEYS_FILE ?? path.join('.keys', 'step07-es256.json'));
