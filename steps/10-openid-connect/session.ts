// The web app's sessions, kept on the server: the backend-for-frontend
// pattern. The browser holds one cookie with a random session id; the tokens
// stay here, out of reach of any script in the page.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';

export interface Tokens {
  access: string;
  refresh?: string;
  /** When the access token expires, by the app's clock (from expires_in). */
  expiresAt: number;
  /** The scopes the provider granted, which may be fewer than asked. */
  scope: string;
}

export interface Session {
  id: string;
  /** Goes in every form; a post without it is refused (cross-site request forgery). */
  csrf: string;
  expiresAt: number;
  /** A sign-in on its way: what the callback must see again, usable once. */
  pending?: { state: string; nonce: string; verifier: string; expiresAt: number };
  user?: { sub: string };
  tokens?: Tokens;
  /** A refresh on its way, which other requests of the session wait for. */
  refreshing?: Promise<string | undefined>;
}

const COOKIE = 'webapp_session';
const MAX_SESSIONS = 10_000;
const random = () => randomBytes(32).toString('base64url');

export class Sessions {
  private sessions = new Map<string, Session>();

  constructor(
    private ttlSeconds: number,
    private now: () => number,
  ) {}

  /** The request's session, if its cookie names one that has not expired. */
  get(ctx: Koa.Context): Session | undefined {
    const id = ctx.cookies.get(COOKIE);
    const session = id === undefined ? undefined : this.sessions.get(id);
    if (session && session.expiresAt <= this.now()) {
      this.sessions.delete(session.id);
      return undefined;
    }
    return session;
  }

  /** A new session, with a new id: never one the browser chose. */
  start(ctx: Koa.Context, from: Partial<Session> = {}): Session {
    const old = ctx.cookies.get(COOKIE);
    if (old !== undefined) this.sessions.delete(old);
    const session = { ...from, id: random(), csrf: random(), expiresAt: this.now() + this.ttlSeconds };
    this.store(session);
    // #region session-cookie
    // The browser gets a random id; the tokens stay in
    // this.sessions, on the server.
    ctx.cookies.set(COOKIE, session.id, {
      httpOnly: true, // no script can read it
      sameSite: 'lax', // not sent on cross-site posts
      secure: ctx.secure, // https only, when served over https
      maxAge: this.ttlSeconds * 1000,
    });
    // #endregion
    return session;
  }

  end(ctx: Koa.Context): void {
    const id = ctx.cookies.get(COOKIE);
    if (id !== undefined) this.sessions.delete(id);
    ctx.cookies.set(COOKIE, null, { httpOnly: true, sameSite: 'lax' });
  }

  /** Does the form carry the session's CSRF token? */
  static formIsOurs(session: Session, sent: string | null): boolean {
    const a = Buffer.from(session.csrf);
    const b = Buffer.from(sent ?? '');
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private store(session: Session): void {
    // Memory is bounded: anyone can start sessions by visiting /login.
    if (this.sessions.size >= MAX_SESSIONS) {
      const now = this.now();
      for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
      if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    }
    this.sessions.set(session.id, session);
  }
}
