// Tokens whose signature, header and claims passed, by their exact text: the
// same bytes pass the same checks again. Only what depends on the time is
// checked again, by the same function as for a new token (tokens.ts). Without
// this, verifying takes more of a request's time than all the rest of Koa
// (npm run bench).
import type { Claims } from './tokens.ts';

const MAX_TOKENS = 1000;

// #region verified-tokens
export class VerifiedTokens {
  private claims = new Map<string, Claims>();

  get(token: string): Claims | undefined {
    return this.claims.get(token);
  }

  add(token: string, claims: Claims): void {
    // A Map iterates in insertion order: the first key is the oldest entry.
    if (this.claims.size >= MAX_TOKENS)
      this.claims.delete(this.claims.keys().next().value!);
    this.claims.set(token, claims);
  }
}
// #endregion
