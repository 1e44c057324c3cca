// npm run repl: the talk's REPL demo, with jsonwebtoken preloaded as `jwt`.
import repl from 'node:repl';
import jwt from 'jsonwebtoken';

console.log(`jwt is jsonwebtoken. The talk's demo, in TypeScript's words:
  token = jwt.sign({ ts: 'TypeScript' }, 'secret')
  jwt.decode(token, { complete: true })
  jwt.verify(token, 'secret')
  jwt.verify(token, 'wrong secret')
.exit (or Ctrl-D) leaves.`);
const session = repl.start({ prompt: 'jwt> ' });
session.context.jwt = jwt;
