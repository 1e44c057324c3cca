// The web app's sessions, kept on the server: the backend-for-frontend
// pattern. The browser holds one cookie with a random session id; the tokens
// stay here, out of reach of any script in the page.
//
// Anyone can start a sign-in by visiting /login, so a sign-in on its way
// is kept apart from signed-in sessions: a flood of them pushes out only
// each other, never someone who is signed in.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import { HttpError, readForm, unavailable } from './http.ts';

export interface Tokens {
  access: string;
  refresh?: string;
  /** When the access token expires, by the app's clock (from expires_in). */
  expiresAt: number;
  /** The scopes the provider granted, which may be fewer than asked. */
  scope: string;
}

/** A sign-in on its way: what the callback must see again, usable once. */
export interface Pending {
  state: string;
  nonce: string;
  verifier: string;
  expiresAt: number;
}

export interface Session {
  id: string;
  /** Goes in every form; a post without it is refused (cross-site request forgery). */
  csrf: string;
  expiresAt: number;
  pending?: Pending;
  user?: { sub: string };
  tokens?: Tokens;
  /** A refresh on its way, which other requests of the session wait for. */
  refreshing?: Promise<string | undefined>;
}

export interface SessionLimits {
  /** Sign-ins on their way; when full, the oldest is dropped. */
  signingIn: number;
  /** Signed-in sessions; when full, a new sign-in is refused (503), nobody is signed out. */
  signedIn: number;
  /** Signed-in sessions of one user; a new one ends that user's oldest. */
  perUser: number;
}

export const SESSION_LIMITS: SessionLimits = {
  signingIn: 10_000,
  signedIn: 10_000,
  perUser: 20,
};

/** How long a sign-in may take, from /login to the callback. */
export const SIGN_IN_SECONDS = 600;

const COOKIE = 'webapp_session';
const random = () => randomBytes(32).toString('base64url');

export class Sessions {
  /** Signed-in sessions, oldest first. */
  private sessions = new Map<string, Session>();
  /** Sessions that only carry a sign-in on its way, oldest first. */
  private signingIn = new Map<string, Session>();

  constructor(
    private ttlSeconds: number,
    private now: () => number,
    readonly limits: SessionLimits = SESSION_LIMITS,
  ) {}

  /** The request's session, if its cookie names one that has not expired. */
  get(ctx: Koa.Context): Session | undefined {
    const id = ctx.cookies.get(COOKIE);
    if (id === undefined) return undefined;
    const session = this.sessions.get(id) ?? this.signingIn.get(id);
    if (session && session.expiresAt <= this.now()) {
      this.drop(session.id);
      return undefined;
    }
    return session;
  }

  /**
   * A sign-in begins. A signed-in user stays signed in until the new
   * sign-in succeeds: a link to /login from another site must not sign
   * anyone out. Anyone else gets a short session that holds only `pending`.
   */
  beginSignIn(ctx: Koa.Context, pending: Pending): void {
    const current = this.get(ctx);
    if (current?.user) {
      current.pending = pending;
      return;
    }
    if (current) this.drop(current.id);
    const now = this.now();
    // Oldest first, and all live as long: the first ones are the expired.
    for (const [id, old] of this.signingIn) {
      if (old.expiresAt > now && this.signingIn.size < this.limits.signingIn)
        break;
      this.signingIn.delete(id);
    }
    const session = {
      id: random(),
      csrf: random(),
      expiresAt: now + SIGN_IN_SECONDS,
      pending,
    };
    this.signingIn.set(session.id, session);
    this.setCookie(ctx, session);
  }

  /** The sign-in on its way, taken out of the session: it is used once. */
  takePending(ctx: Koa.Context): Pending | undefined {
    const session = this.get(ctx);
    const pending = session?.pending;
    if (!session) return undefined;
    delete session.pending;
    if (!session.user) this.end(ctx);
    return pending && pending.expiresAt > this.now() ? pending : undefined;
  }

  /** A signed-in session, with a new id: never one the browser chose (session fixation). */
  signIn(ctx: Koa.Context, user: { sub: string }, tokens: Tokens): Session {
    const old = ctx.cookies.get(COOKIE);
    if (old !== undefined) this.drop(old);
    this.sweep();
    const own = [...this.sessions.values()].filter(
      (s) => s.user?.sub === user.sub,
    );
    if (own.length >= this.limits.perUser) this.sessions.delete(own[0]!.id);
    else if (this.sessions.size >= this.limits.signedIn)
      throw unavailable(
        'The app has as many signed-in users as it can hold: try again later.',
      );
    const session: Session = {
      id: random(),
      csrf: random(),
      expiresAt: this.now() + this.ttlSeconds,
      user,
      tokens,
    };
    this.sessions.set(session.id, session);
    this.setCookie(ctx, session);
    return session;
  }

  end(ctx: Koa.Context): void {
    const id = ctx.cookies.get(COOKIE);
    if (id !== undefined) this.drop(id);
    ctx.cookies.set(COOKIE, null, { httpOnly: true, sameSite: 'lax' });
  }

  /** The signed-in session of a form post that carries its CSRF token, and the form. */
  async posted(
    ctx: Koa.Context,
  ): Promise<{ session: Session; form: URLSearchParams }> {
    const form = await readForm(ctx);
    const session = this.get(ctx);
    if (!session?.tokens)
      throw new HttpError(
        401,
        'unauthorized',
        'You are not signed in: sign in first.',
      );
    const a = Buffer.from(session.csrf);
    const b = Buffer.from(form.get('csrf') ?? '');
    if (a.length !== b.length || !timingSafeEqual(a, b))
      throw new HttpError(
        403,
        'invalid_request',
        "This form is not from this app's page: reload the page.",
      );
    return { session, form };
  }

  private setCookie(ctx: Koa.Context, session: Session): void {
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
  }

  private drop(id: string): void {
    this.sessions.delete(id);
    this.signingIn.delete(id);
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, session] of this.sessions)
      if (session.expiresAt <= now) this.sessions.delete(id);
  }
}
