// The attendees' tokens, made the way the workshop teaches: HS256 with the
// room's own key (a KeyObject of 32 random bytes, step 06), the algorithm
// pinned when verifying (step 04), the audience this room (RFC 7519 section
// 4.1.3: a token of another room is refused), and an expiry at the end of the
// day, which jsonwebtoken checks.
import jwt from 'jsonwebtoken';
import type { Room } from './store.ts';

/** Midnight after `now`, local time: a workshop's day. */
export function endOfDay(now: Date): Date {
  const end = new Date(now);
  end.setHours(24, 0, 0, 0);
  return end;
}

export function issueToken(room: Room, attendee: string, now = new Date()): string {
  return jwt.sign(
    {
      iat: Math.floor(now.getTime() / 1000),
      exp: Math.floor(endOfDay(now).getTime() / 1000),
    },
    room.key,
    { algorithm: 'HS256', audience: room.audience, subject: attendee },
  );
}

/** The attendee a token was issued to; throws jsonwebtoken's error for any other token. */
export function verifyToken(room: Room, token: string, now = new Date()): string {
  const claims = jwt.verify(token, room.key, {
    algorithms: ['HS256'],
    audience: room.audience,
    clockTimestamp: Math.floor(now.getTime() / 1000),
  });
  if (typeof claims === 'string' || typeof claims.sub !== 'string')
    throw new jwt.JsonWebTokenError('the token names no attendee');
  return claims.sub;
}
