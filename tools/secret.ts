// npm run secret: a key for step 06 and later, 32 random bytes as base64url.
// RFC 7518 section 3.2: an HS256 key must be at least 256 bits; random, not
// a password a human chose (RFC 8725 section 3.5).
import { randomBytes } from 'node:crypto';
import { cli } from './cli.ts';

cli(
  '\nUsage: npm run secret     32 random bytes (base64url) to use as JWT_SECRET: JWT_SECRET=$(npm run -s secret)',
  {},
  { max: 0 },
);
const secret = randomBytes(32).toString('base64url');
console.log(secret);
if (process.stdout.isTTY) {
  console.error(
    `Use it: JWT_SECRET=${secret} npm run step 6   (PowerShell: $env:JWT_SECRET="${secret}"; npm run step 6)`,
  );
}
