// The provider's secrets: an EC P-256 key pair that signs ID tokens and
// access tokens (ES256), and the keys that sign its cookies. Made at first
// start, kept in a file only its owner can read, so that tokens and sessions
// survive a restart.
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  sign,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import {
  ConfigError,
  clientIdSetting,
  keysFileSetting,
  nowInSeconds,
  urlSetting,
} from './config.ts';

export interface ProviderKeys {
  /** Private JWKs (with `d`): oidc-provider publishes their public half at its jwks_uri. */
  signing: JsonWebKey[];
  /** Keys for the provider's signed cookies, newest first. */
  cookies: string[];
}

/** RFC 7638 JWK thumbprint: a kid that names the key by its own bytes. */
function thumbprint(jwk: JsonWebKey): string {
  return createHash('sha256')
    .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))
    .digest('base64url');
}

function newKeys(): ProviderKeys {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  return {
    signing: [{ ...jwk, kid: thumbprint(jwk), alg: 'ES256', use: 'sig' }],
    cookies: [randomBytes(32).toString('base64url')],
  };
}

/** The key file, created on first use: written to a temporary file beside it, then renamed, so it is never half-written. */
export function loadKeys(file: string): ProviderKeys {
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(newKeys(), null, 2)}\n`, {
      mode: 0o600,
    });
    renameSync(temporary, file);
  }
  let keys: Partial<ProviderKeys> | null = null;
  try {
    keys = JSON.parse(readFileSync(file, 'utf8')) as Partial<ProviderKeys>;
  } catch {
    // Not JSON: the checks below say what to do.
  }
  if (
    !Array.isArray(keys?.signing) ||
    keys.signing.length === 0 ||
    !Array.isArray(keys.cookies) ||
    keys.cookies.length === 0
  ) {
    throw new ConfigError(
      `KEYS_FILE ${file} is not a key file of this step: delete it, and the provider makes a new one.`,
    );
  }
  return keys as ProviderKeys;
}

/** The key that signs, as the provider uses it. */
export function signingKey(file: string): {
  kid: string;
  privateKey: KeyObject;
} {
  const jwk = loadKeys(file).signing[0]!;
  return {
    kid: String(jwk.kid),
    privateKey: createPrivateKey({ key: jwk, format: 'jwk' }),
  };
}

export interface InsiderToken {
  /** Claims to add or replace; `undefined` removes one. */
  claims?: Record<string, unknown>;
  /** Header parameters to add or replace. */
  header?: Record<string, unknown>;
  /** The clock, in seconds: iat is now, exp now + 300. */
  now?: number;
  keysFile?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * An access token for alice exactly as the provider issues one (RFC 9068:
 * typ at+jwt, ES256, iss, aud, sub, client_id, scope, iat, exp, jti), signed
 * with the provider's private key read from its key file: what an insider
 * with the file could mint. Tests and the attack lab start from it and
 * change one thing at a time.
 */
export function insiderAccessToken(options: InsiderToken = {}): string {
  const env = options.env ?? process.env;
  const { kid, privateKey } = signingKey(
    options.keysFile ?? keysFileSetting(env),
  );
  const iat = options.now ?? nowInSeconds();
  const header = { alg: 'ES256', typ: 'at+jwt', kid, ...options.header };
  const claims: Record<string, unknown> = {
    iss: urlSetting(env, 'ISSUER_URL'),
    aud: urlSetting(env, 'API_URL'),
    sub: 'alice',
    client_id: clientIdSetting(env),
    scope: 'read:messages write:messages',
    iat,
    exp: iat + 300,
    jti: randomUUID(),
    ...options.claims,
  };
  const part = (value: object) =>
    Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${part(header)}.${part(claims)}`;
  // ES256 signatures are r || s, 64 bytes (RFC 7518 section 3.4), not DER.
  const signature = sign('sha256', Buffer.from(input), {
    key: privateKey,
    dsaEncoding: 'ieee-p1363',
  });
  return `${input}.${signature.toString('base64url')}`;
}
