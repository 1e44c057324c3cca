// npm run repl: the talk's REPL demo, with jsonwebtoken preloaded as `jwt`.
import repl from 'node:repl';
import jwt from 'jsonwebtoken';
import { cli } from './cli.ts';

cli(
  "\nUsage: npm run repl       a Node REPL with jwt (jsonwebtoken) loaded, for the talk's REPL demo",
  {},
  { max: 0 },
);

console.log(`jwt is jsonwebtoken. The talk's demo, in TypeScript's words:
  jwt.sign({ jwt: 'JSON Web Token' }, 'secret')
  token = jwt.sign({ ts: 'TypeScript' }, 'secret')
  jwt.verify(token, 'secret')             checks the signature, then decodes
  jwt.verify(token, 'wrong secret')       throws: invalid signature
  jwt.decode(token, { complete: true })   decodes only: it checks nothing (PyJWT's decode did check)
.exit (or Ctrl-D) leaves.`);
const session = repl.start({ prompt: 'jwt> ' });
session.context.jwt = jwt;
