// npm run rotate-key: a new signing key for the step 07 login service. Tokens
// signed with the old key stay valid: the JWKS publishes it until they expire.
import { defaultKeyFile, loadKeyRing, saveKeyRing } from './keys.ts';

const now = Math.floor(Date.now() / 1000);
const grace = Number(process.env.TOKEN_TTL_SECONDS ?? 40) + 5;
const file = defaultKeyFile(process.env);
const ring = loadKeyRing(file, now);
const kid = ring.rotate(now, grace);
saveKeyRing(file, ring);
console.log(`New signing key ${kid.slice(0, 8)}...; the old one is published for ${grace} s more, until its tokens expire.`);
console.log(`The running login service picks it up on its next request: curl http://localhost:3000/.well-known/jwks.json`);
