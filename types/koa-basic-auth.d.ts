// koa-basic-auth 4 ships no types, and @types/koa-basic-auth (2.0) describes an
// older API: it requires `name` and has no `realm`. This is the API as
// node_modules/koa-basic-auth/index.js implements it.
declare module 'koa-basic-auth' {
  import type { Middleware } from 'koa';

  interface Options {
    /** User name to require; any user name is accepted when it is left out. */
    name?: string;
    /** Password to require; at least one of name and pass must be given. */
    pass?: string;
    /** Realm of the WWW-Authenticate challenge; "Secure Area" by default. */
    realm?: string;
  }

  export default function basicAuth(options: Options): Middleware;
}
