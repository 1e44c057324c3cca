// The room's server: attendees join with the room's code and get a token,
// each check posts its result with that token, and the presenter's page reads
// them all and is told of every change as server-sent events. Koa and
// @koa/router, like the steps; JSON in and out, and every refusal says why.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { loadExercise } from '../exercise.ts';
import { qrSvg } from '../qr.ts';
import { steps as allSteps, type Step } from '../steps.ts';
import { answerErrors, bearer, readBody, RoomError, same, servePage } from './http.ts';
import { LiveView } from './live.ts';
import { parseReports } from './report.ts';
import { normalCode, type Attendee, type Room } from './store.ts';
import { endOfDay, issueToken, verifyToken } from './tokens.ts';

export interface Limits {
  /** Wrong codes in a row from one address before joins from it are refused... */
  wrongCodes: number;
  /** ...for this many seconds. */
  blockSeconds: number;
  /** Result posts one token may make... */
  posts: number;
  /** ...in this many seconds. */
  postsWithin: number;
  /** Changes within this many milliseconds reach the page as one event. */
  coalesceMs: number;
}

export const LIMITS: Limits = {
  wrongCodes: 9,
  blockSeconds: 60,
  // A check takes a second or more: twenty in ten seconds is no one's honest pace.
  posts: 20,
  postsWithin: 10,
  coalesceMs: 200,
};

export interface RoomOptions {
  room: Room;
  /** The address attendees join at: shown on the page, and in its QR code. */
  joinUrl: string;
  steps?: Step[];
  now?: () => Date;
  limits?: Partial<Limits>;
}

/** The largest body a check's report may have (a check of every step is a few kilobytes). */
export const MAX_BODY = 64 * 1024;

/** A name as typed, `<>"'` and all; refused only when empty, too long, or holding control characters. */
function attendeeName(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new RoomError(400, 'Give a name: {"code","name"}.');
  if ([...value].length > 60) throw new RoomError(400, 'A name may have 60 characters at most.');
  if (/[\p{Cc}\p{Zl}\p{Zp}]/u.test(value))
    throw new RoomError(400, 'A name is one line of text, without control characters.');
  return value;
}

const view = (a: Attendee) => ({ id: a.id, name: a.name, joined: a.joined, results: a.results });

export function createRoomApp(options: RoomOptions): {
  app: Koa;
  /** Ends the page's event streams and timers. */
  stop(): void;
} {
  const { room, joinUrl } = options;
  const steps = options.steps ?? allSteps;
  const now = options.now ?? (() => new Date());
  const limits = { ...LIMITS, ...options.limits };
  // Only wrong codes count: a room of 200 behind one address joins at once.
  const wrongCodes = new RateLimiterMemory({
    points: limits.wrongCodes,
    duration: 15 * 60,
    blockDuration: limits.blockSeconds,
  });
  // Per token, never per address: one attendee's loop slows no one else.
  const posts = new RateLimiterMemory({ points: limits.posts, duration: limits.postsWithin });
  const hints = Object.fromEntries(
    steps.map((s) => [
      s.number,
      Object.fromEntries((loadExercise(s)?.hints ?? []).map((h) => [h.number, h.title])),
    ]),
  );
  const about = () => ({
    code: room.code,
    join: joinUrl,
    steps: steps.map((s) => ({ number: s.number, title: s.title })),
    hints,
  });
  const qr = qrSvg(joinUrl);

  const tooMany = (refused: RateLimiterRes, message: string) => {
    const seconds = Math.max(1, Math.ceil(refused.msBeforeNext / 1000));
    return new RoomError(429, message.replace('{s}', String(seconds)), {
      'Retry-After': String(seconds),
    });
  };

  function attendee(ctx: Koa.Context): Attendee {
    const token = bearer(ctx);
    if (token === undefined)
      throw new RoomError(401, 'Send your token: Authorization: Bearer <token> (npm run join).', {
        'WWW-Authenticate': 'Bearer realm="room"',
      });
    let id: string;
    try {
      id = verifyToken(room, token, now());
    } catch (err) {
      const why = err instanceof Error && err.name !== 'SyntaxError' ? err.message : 'malformed';
      throw new RoomError(401, `Not a token of this room (${why}): npm run join again.`, {
        'WWW-Authenticate': 'Bearer realm="room", error="invalid_token"',
      });
    }
    const found = room.find(id);
    if (!found) throw new RoomError(401, 'This room no longer knows you: npm run join again.');
    return found;
  }

  function presenter(ctx: Koa.Context): void {
    // The fragment of the printed address, key=..., works as it is.
    const given = bearer(ctx)?.replace(/^key=/, '');
    if (given === undefined)
      throw new RoomError(401, "Send the presenter's key: Authorization: Bearer <key>.", {
        'WWW-Authenticate': 'Bearer realm="room"',
      });
    if (same(given, room.secret)) return;
    let attendeeToken = false;
    try {
      verifyToken(room, given, now());
      attendeeToken = true;
    } catch {
      // not an attendee's either
    }
    if (attendeeToken)
      throw new RoomError(403, "That is an attendee's token: the page needs the presenter's key.");
    throw new RoomError(
      401,
      "That is not this room's presenter key: see what npm run room printed.",
    );
  }

  const live = new LiveView(
    room,
    view,
    () => ({ room: about(), attendees: room.attendees().map(view) }),
    limits.coalesceMs,
  );

  const router = new Router();

  router.post('/api/join', async (ctx) => {
    const body = (await readBody(ctx, 4096)) as Record<string, unknown> | null;
    const address = ctx.ip;
    const blocked = await wrongCodes.get(address);
    if (blocked && blocked.consumedPoints > limits.wrongCodes)
      throw tooMany(blocked, 'Too many wrong codes from this network: try again in {s} s.');
    const code = typeof body?.code === 'string' ? normalCode(body.code) : '';
    if (!same(code, room.code)) {
      const refused = await wrongCodes.consume(address).then(
        () => undefined,
        (res: unknown) => {
          if (res instanceof RateLimiterRes) return res;
          throw res;
        },
      );
      if (refused)
        throw tooMany(refused, 'Too many wrong codes from this network: try again in {s} s.');
      throw new RoomError(401, "Wrong room code: use the one on the presenter's screen.");
    }
    await wrongCodes.delete(address);
    const name = attendeeName(body?.name);
    // Joining again with the token of before: the same attendee, renamed.
    let before: string | undefined;
    if (typeof body?.token === 'string') {
      try {
        before = verifyToken(room, body.token, now());
      } catch {
        // another room's, or expired: a new attendee
      }
    }
    const joined = room.join(name, before, now());
    ctx.status = 201;
    ctx.body = {
      token: issueToken(room, joined.id, now()),
      name: joined.name,
      expires: endOfDay(now()).toISOString(),
    };
  });

  router.post('/api/results', async (ctx) => {
    const who = attendee(ctx);
    await posts.consume(who.id).catch((res: unknown) => {
      if (res instanceof RateLimiterRes)
        throw tooMany(res, 'Too many results from this token: try again in {s} s.');
      throw res;
    });
    const reports = parseReports(await readBody(ctx, MAX_BODY), steps);
    if (typeof reports === 'string') throw new RoomError(400, reports);
    room.record(who.id, reports, now());
    ctx.status = 204;
  });

  router.post('/api/leave', (ctx) => {
    room.leave(attendee(ctx).id);
    ctx.status = 204;
  });

  router.get('/api/attendees', (ctx) => {
    presenter(ctx);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { room: about(), attendees: room.attendees().map(view) };
  });

  router.get('/api/events', (ctx) => {
    presenter(ctx);
    live.open(ctx);
  });

  router.get('/favicon.ico', (ctx) => {
    ctx.status = 204;
  });

  router.get('/join.svg', async (ctx) => {
    ctx.type = 'image/svg+xml';
    ctx.body = await qr;
  });

  const app = new Koa();
  // A page closed while its event stream is open is no error of the room's.
  app.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ERR_STREAM_PREMATURE_CLOSE') console.error(err);
  });
  app.use(answerErrors);
  app.use(servePage);
  app.use(router.routes());
  app.use(router.allowedMethods());

  return {
    app,
    stop() {
      live.stop();
      room.flush();
    },
  };
}

export interface RunningRoom {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/**
 * The room listening on `port` (0: any free one), on every interface unless
 * `host` says; joined at `joinUrl` (given the port it listens on), or at its
 * loopback address when not given.
 */
export function listenRoom(
  options: Omit<RoomOptions, 'joinUrl'> & {
    joinUrl?: string | ((port: number) => string);
    port: number;
    host?: string;
  },
): Promise<RunningRoom> {
  const server = createServer();
  // A kept-alive connection the server drops just as a client reuses it is
  // an error at the client ("other side closed"), likelier on a busy
  // laptop: keep idle connections well past any client's own timeout.
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      const { app, stop } = createRoomApp({
        ...options,
        joinUrl:
          typeof options.joinUrl === 'function'
            ? options.joinUrl(port)
            : (options.joinUrl ?? `http://127.0.0.1:${port}`),
      });
      server.on('request', app.callback());
      resolve({
        server,
        port,
        close: () =>
          new Promise((done) => {
            stop();
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
