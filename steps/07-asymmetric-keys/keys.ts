// The login service's signing keys: EC P-256 key pairs for ES256, kept in a
// file so that a rotation survives a restart and npm run rotate-key can rotate
// them while the service runs. As identity providers do it, a new key is
// published before it signs, and an old one after it stops signing, until
// the last token it signed has expired.
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';

export interface StoredKey {
  kid: string;
  /** When it was made, in seconds: it is published from then on. */
  createdAt: number;
  /** Signs as soon as it is made: the very first key, and one that replaces a withdrawn key. */
  signsAtOnce?: boolean;
  /** Withdrawn (npm run rotate-key -- --revoke <kid>): never published nor used again. */
  revokedAt?: number;
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
  const canonical = JSON.stringify({
    crv: jwk.crv,
    kty: jwk.kty,
    x: jwk.x,
    y: jwk.y,
  });
  return createHash('sha256').update(canonical).digest('base64url');
}

export function newKey(now: number, signsAtOnce = false): StoredKey {
  // As DER first: exporting the generated KeyObject straight to a JWK can hang
  // Node 20 for good, when garbage collection strikes in the middle.
  const { privateKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
    publicKeyEncoding: { type: 'spki', format: 'der' },
  });
  const privateJwk = createPrivateKey({
    key: privateKey,
    format: 'der',
    type: 'pkcs8',
  }).export({ format: 'jwk' });
  return {
    kid: thumbprint(privateJwk),
    createdAt: now,
    ...(signsAtOnce ? { signsAtOnce } : {}),
    privateJwk,
  };
}

/** When keys are published around the time they sign: from the login service's own settings. */
export interface KeyTimes {
  /** A new key is published this long before it signs: one JWKS max-age and leeway, so every API has it. */
  publishAhead: number;
  /** A key that stopped signing stays published this long: the token lifetime and leeway. */
  keepAfter: number;
}

export class KeyRing {
  private privateKeys = new Map<string, KeyObject>();
  /** The keys in the order they take over signing; a key withdrawn before its turn has none. */
  private turns: StoredKey[];

  constructor(
    readonly keys: StoredKey[],
    private times: KeyTimes,
  ) {
    this.turns = keys
      .filter((k) => k.revokedAt === undefined || k.revokedAt > this.start(k))
      .sort(
        (a, b) => this.start(a) - this.start(b) || a.createdAt - b.createdAt,
      );
  }

  // #region signing-key
  /** The key that signs now: the last whose time has come, or the first. */
  signingKey(now: number): { kid: string; key: KeyObject } {
    const usable = this.turns.filter((k) => k.revokedAt === undefined);
    const current =
      usable.filter((k) => this.start(k) <= now).at(-1) ?? usable[0]!;
    let key = this.privateKeys.get(current.kid);
    if (!key) {
      key = createPrivateKey({ key: current.privateJwk, format: 'jwk' });
      this.privateKeys.set(current.kid, key);
    }
    return { kid: current.kid, key };
  }
  // #endregion

  /** The JWKS: every key not withdrawn that signs, will sign, or signed tokens still alive. */
  jwks(now: number): { keys: JsonWebKey[] } {
    return {
      keys: this.keys
        .filter((k) => k.revokedAt === undefined && now < this.end(k))
        .map(publicJwk),
    };
  }

  // #region key-lifecycle
  /** Published at once; signs one JWKS max-age plus the clock leeway later. */
  private start(key: StoredKey): number {
    if (key.signsAtOnce) return key.createdAt;
    return key.createdAt + this.times.publishAhead;
  }

  /** Published until the last token it signed expires. */
  private end(key: StoredKey): number {
    const next = this.turns[this.turns.indexOf(key) + 1];
    if (!next) return Infinity;
    return this.start(next) + this.times.keepAfter;
  }
  // #endregion
}

// What npm run rotate-key does to the list of keys. It cannot know the
// login service's settings: the service works out from them when each key
// signs and how long it is published, each time it answers.

/** A new key, published now; the login service lets it sign one JWKS max-age later. */
export function rotate(keys: StoredKey[], now: number): StoredKey[] {
  const first = keys.every((k) => k.revokedAt !== undefined); // no API knows a key yet: sign at once
  return forgetOld([...keys, newKey(now, first)], now);
}

/** Withdraw a key at once, and make a new one that signs in its place from now on. */
export function revoke(
  keys: StoredKey[],
  kid: string,
  now: number,
): StoredKey[] {
  const withdrawn = keys.map((k) =>
    k.kid === kid ? { ...k, revokedAt: now } : k,
  );
  return forgetOld([...withdrawn, newKey(now, true)], now);
}

// A key is needed at most MAX_JWKS_MAX_AGE_SECONDS plus MAX_TTL_SECONDS (a day
// and an hour) after a newer key was made: two days is safe for any settings.
const FORGET_AFTER_SECONDS = 2 * 86400;

function forgetOld(keys: StoredKey[], now: number): StoredKey[] {
  const replaced = (key: StoredKey) =>
    keys.some(
      (k) =>
        k.revokedAt === undefined &&
        k.createdAt > key.createdAt &&
        now - k.createdAt > FORGET_AFTER_SECONDS,
    );
  return keys.filter((k) => !replaced(k));
}
