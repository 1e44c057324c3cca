// npm run rotate-key: a new signing key for the step 07 login service. It is
// published at once and signs one JWKS max-age later, when every API has it;
// the key before it stays published until the last token it signed expires.
// npm run rotate-key -- --revoke <kid>: withdraw a key that leaked. It leaves
// the JWKS at once, APIs refuse it within one max-age, and a new key signs.
import { parseArgs } from 'node:util';
import { ConfigError } from './errors.ts';
import { keyFile, updateKeyFile } from './key-file.ts';
import { revoke, rotate } from './keys.ts';

const usage = `Usage: npm run rotate-key                     a new key, signing once the APIs have it
       npm run rotate-key -- --revoke <kid>   withdraw a key now (its first 8 characters will do)`;

try {
  const { values } = parseArgs({
    options: { revoke: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const file = keyFile(process.env);
  const now = Math.floor(Date.now() / 1000);
  let message = '';
  updateKeyFile(file, (keys = []) => {
    if (values.revoke === undefined) {
      const next = rotate(keys, now);
      const kid = next.at(-1)!.kid;
      message =
        `New key ${kid.slice(0, 8)}... published now. It signs one JWKS max-age and 5 s from now (65 s with the ` +
        'default JWKS_MAX_AGE_SECONDS of 60), when every API has it. The key before stays published until its tokens expire.';
      return next;
    }
    const wanted = values.revoke;
    const found = keys.filter(
      (k) =>
        k.revokedAt === undefined &&
        (k.kid === wanted || (wanted.length >= 8 && k.kid.startsWith(wanted))),
    );
    if (found.length !== 1) {
      const known = keys
        .filter((k) => k.revokedAt === undefined)
        .map((k) => k.kid)
        .join(', ');
      throw new ConfigError(
        `${found.length === 0 ? 'No' : 'More than one'} key in ${file} is ${JSON.stringify(wanted)}: the keys in use are ${known || 'none'}.`,
      );
    }
    const next = revoke(keys, found[0]!.kid, now);
    message = `Key ${found[0]!.kid.slice(0, 8)}... withdrawn: it is out of the JWKS now, and APIs refuse its tokens within one JWKS max-age. New key ${next.at(-1)!.kid.slice(0, 8)}... signs from now on.`;
    return next;
  });
  console.log(message);
  console.log(
    `The running login service picks it up on its next request: curl http://localhost:${Number(process.env.PORT) || 3000}/.well-known/jwks.json`,
  );
} catch (err) {
  // One line saying what is wrong, never a stack trace.
  if (err instanceof ConfigError) console.error(err.message);
  else if (
    String((err as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')
  )
    console.error(`${(err as Error).message}\n${usage}`);
  else throw err;
  process.exit(1);
}
