// npm run decode <token>: jwt.io in the terminal, offline. Shows the three
// parts apart, explains each claim, warns about what a server should refuse,
// and with --secret checks the signature.

import jwt from 'jsonwebtoken';
import { bold, cli, cyan, dim, fail, green, isMain, magenta, red, yellow } from './cli.ts';

// RFC 7519 section 4.1 (registered claims) and RFC 7515 section 4.1 (header).
const CLAIMS: Record<string, string> = {
  iss: 'issuer: who made the token',
  sub: 'subject: whom the token is about',
  aud: 'audience: who the token is for',
  exp: 'expiration time: refuse it after this',
  nbf: 'not before: refuse it before this',
  iat: 'issued at',
  jti: 'JWT ID: unique, so a token can be revoked or used once',
};
const HEADERS: Record<string, string> = {
  alg: 'algorithm that signed it',
  typ: 'media type of the token',
  kid: 'key ID: which key signed it',
  jwk: 'a key embedded in the token: never trust it (RFC 8725 section 3.10)',
  jku: 'a URL to fetch keys from: never follow it blindly',
  x5u: 'a URL to fetch a certificate from: never follow it blindly',
  crit: 'extensions the verifier must understand',
};
const KNOWN_ALGS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];
const TIME_CLAIMS = ['exp', 'nbf', 'iat'];

export interface Decoded {
  parts: [string, string, string];
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/** Split and parse a token; throws an Error that says what is wrong with it. */
export function parseToken(token: string): Decoded {
  const parts = token.trim().split('.');
  if (parts.length !== 3)
    throw new Error(`A JWT has three parts separated by dots; this has ${parts.length}.`);
  const json = (part: string, what: string): Record<string, unknown> => {
    if (!/^[A-Za-z0-9_-]*$/.test(part))
      throw new Error(`The ${what} is not base64url (only A-Z a-z 0-9 - _ are allowed).`);
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    } catch {
      throw new Error(`The ${what} does not decode to JSON.`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new Error(`The ${what} must be a JSON object.`);
    return value as Record<string, unknown>;
  };
  return {
    parts: parts as Decoded['parts'],
    header: json(parts[0]!, 'header'),
    payload: json(parts[1]!, 'payload'),
  };
}

/** "in 12 s", "3 min ago": how far a NumericDate is from now. */
export function relative(seconds: number, now: number): string {
  const diff = seconds - now;
  const size = Math.abs(diff);
  const amount =
    size < 120
      ? `${size} s`
      : size < 7200
        ? `${Math.round(size / 60)} min`
        : size < 172800
          ? `${Math.round(size / 3600)} h`
          : `${Math.round(size / 86400)} days`;
  return diff >= 0 ? `in ${amount}` : `${amount} ago`;
}

export interface Report {
  lines: string[];
  warnings: string[];
  /** With a secret: whether the signature is right. */
  valid?: boolean;
  reason?: string;
}

export function explain(token: string, options: { now?: number; secret?: string } = {}): Report {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const { parts, header, payload } = parseToken(token);
  const lines: string[] = [];
  const warnings: string[] = [];

  lines.push(`${cyan(parts[0])}.${magenta(parts[1])}.${yellow(parts[2])}`, '');
  lines.push(cyan(bold('Header')));
  for (const [key, value] of Object.entries(header))
    lines.push(`  ${key.padEnd(5)} ${JSON.stringify(value)}  ${dim(HEADERS[key] ?? '')}`);
  lines.push(magenta(bold('Payload')));
  for (const [key, value] of Object.entries(payload)) {
    let note = CLAIMS[key] ?? 'public or private claim';
    if (TIME_CLAIMS.includes(key) && typeof value === 'number' && Number.isFinite(value)) {
      const date = new Date(value * 1000);
      note += `: ${Number.isNaN(date.getTime()) ? 'not a date' : date.toISOString()} (${relative(value, now)})`;
    }
    lines.push(`  ${key.padEnd(5)} ${JSON.stringify(value)}  ${dim(note)}`);
  }
  lines.push(
    yellow(bold('Signature')),
    `  ${parts[2] || dim('(empty)')}  ${dim(`${Buffer.from(parts[2], 'base64url').length} bytes`)}`,
  );

  const alg = String(header.alg);
  if (alg.toLowerCase() === 'none')
    warnings.push(
      `"alg": "${alg}" means no signature: anyone can write this token. A server must refuse it.`,
    );
  else if (!KNOWN_ALGS.includes(alg))
    warnings.push(
      `Unknown algorithm ${JSON.stringify(header.alg)}: no JWA algorithm has that name (RFC 7518).`,
    );
  if (!('exp' in payload)) warnings.push('No exp: this token never expires.');
  else if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp))
    warnings.push('exp is not a number of seconds: libraries disagree on what that means.');
  else if (payload.exp <= now) warnings.push(`Expired ${relative(payload.exp, now)}.`);
  if (typeof payload.nbf === 'number' && payload.nbf > now)
    warnings.push(`Not valid yet: nbf is ${relative(payload.nbf, now)}.`);
  for (const key of ['jwk', 'jku', 'x5u', 'x5c']) {
    if (key in header)
      warnings.push(
        `The header carries ${key}: a verifier that uses it lets the token choose its own key.`,
      );
  }

  const report: Report = { lines, warnings };
  if (options.secret !== undefined) {
    if (!/^HS(256|384|512)$/.test(alg)) {
      report.valid = false;
      report.reason = `--secret checks HMAC tokens (HS256, HS384, HS512); this one says ${JSON.stringify(header.alg)}.`;
    } else {
      try {
        // Expiry is reported above; here only the signature is judged.
        jwt.verify(token.trim(), options.secret, {
          algorithms: [alg as jwt.Algorithm],
          ignoreExpiration: true,
          ignoreNotBefore: true,
        });
        report.valid = true;
      } catch (err) {
        report.valid = false;
        report.reason =
          (err as Error).message === 'invalid signature'
            ? 'the signature does not match: another secret signed it, or the token was changed'
            : (err as Error).message;
      }
    }
  }
  return report;
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

if (isMain(import.meta.url)) {
  const usage = `
Usage: npm run decode <token>                     decode a token, offline
       npm run decode -- <token> --secret <secret> and check its HMAC signature
       echo <token> | npm run decode                 the token on standard input
Options:
  --secret <secret>  the HMAC secret to verify the signature with`;
  const { values, positionals } = cli(
    usage,
    { secret: { type: 'string' } },
    { max: 1, looksLike: (p) => p.includes('.') },
  );
  let token = positionals[0];
  if (!token && !process.stdin.isTTY) token = (await readStdin()).trim();
  if (!token) fail(`Give a token to decode.${usage}`);
  let report: Report;
  try {
    report = explain(token, { secret: values.secret });
  } catch (err) {
    fail(`Not a JWT: ${(err as Error).message}`);
  }
  console.log(report.lines.join('\n'));
  for (const warning of report.warnings) console.log(`${yellow('warning')} ${warning}`);
  if (report.valid === true) console.log(green('Signature valid: this secret signed this token.'));
  if (report.valid === false) console.log(red(`Signature invalid: ${report.reason}`));
  if (report.valid === false) process.exitCode = 1;
}
