// Checkpoint 00: a token built by hand is the token jsonwebtoken builds.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import jwt from 'jsonwebtoken';
import { checkpoint, importStep } from './helpers/step.ts';

interface Anatomy {
  header: object;
  payload: object;
  secret: string;
  base64url(data: string | Buffer): string;
  signByHand(claims: object, key: string): string;
  signWithLibrary(claims: object, key: string): string;
  decodePart(part: string): unknown;
  tamper(token: string, claims: object): string;
}

checkpoint(0, () => {
  let anatomy: Anatomy;
  before(async () => {
    anatomy = (await importStep(0)) as unknown as Anatomy;
  });

  test('base64url has no +, / or = padding', () => {
    const encoded = anatomy.base64url(Buffer.from([0xfb, 0xff, 0xfe]));
    assert.equal(
      encoded,
      '-__-',
      'base64url uses - and _ where base64 has + and /, and drops the = padding',
    );
  });

  test('the header is {"alg":"HS256","typ":"JWT"} and the payload has iss and user', () => {
    assert.deepEqual(anatomy.header, { alg: 'HS256', typ: 'JWT' });
    assert.ok(
      'iss' in anatomy.payload && 'user' in anatomy.payload,
      'The payload shows a registered claim (iss) and a public one (user)',
    );
  });

  test('a token built by hand has three parts: header.payload.signature', () => {
    const parts = anatomy.signByHand(anatomy.payload, anatomy.secret).split('.');
    assert.equal(
      parts.length,
      3,
      'A JWS in compact form is three base64url parts joined by two dots',
    );
    assert.deepEqual(
      anatomy.decodePart(parts[0]!),
      anatomy.header,
      'The first part decodes to the header',
    );
    assert.deepEqual(
      anatomy.decodePart(parts[1]!),
      anatomy.payload,
      'The second part decodes to the payload',
    );
  });

  test('the hand-made token is byte for byte the one jsonwebtoken makes', () => {
    const byHand = anatomy.signByHand(anatomy.payload, anatomy.secret);
    assert.equal(
      byHand,
      anatomy.signWithLibrary(anatomy.payload, anatomy.secret),
      'Same header, same payload, same key: same token',
    );
    assert.equal(
      byHand,
      jwt.sign(anatomy.payload, anatomy.secret, { noTimestamp: true }),
      'signWithLibrary must be a plain HS256 jwt.sign',
    );
  });

  test('jsonwebtoken verifies the hand-made token', () => {
    const token = anatomy.signByHand(anatomy.payload, anatomy.secret);
    assert.deepEqual(jwt.verify(token, anatomy.secret, { algorithms: ['HS256'] }), anatomy.payload);
  });

  test('a tampered payload fails verification', () => {
    const token = anatomy.signByHand(anatomy.payload, anatomy.secret);
    const forged = anatomy.tamper(token, { ...anatomy.payload, user: 'mallory' });
    assert.notEqual(forged, token, 'tamper() must change the payload');
    assert.equal(forged.split('.')[2], token.split('.')[2], 'tamper() keeps the old signature');
    assert.throws(
      () => jwt.verify(forged, anatomy.secret, { algorithms: ['HS256'] }),
      /invalid signature/,
    );
  });
});
