import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BodyLimit, BodyTooLargeError, checkDeclaredLength } from '../../src/gateway/body-limit.js';

test('a declared length over the limit is refused with 413 before anything is read', () => {
  assert.is(checkDeclaredLength('1048577', 1048576)?.refused, 'contentTooLarge');
  assert.is(checkDeclaredLength('1048576', 1048576), undefined);
  assert.is(checkDeclaredLength(undefined, 10), undefined);
});

function sink(): { stream: Writable; received: () => number } {
  let n = 0;
  return {
    stream: new Writable({
      write(chunk: Buffer, _e, done) {
        n += chunk.length;
        done();
      },
    }),
    received: () => n,
  };
}

test('a streamed body within the limit passes through whole', async () => {
  const s = sink();
  const limit = new BodyLimit(10_000);
  await pipeline(Readable.from([Buffer.alloc(4000), Buffer.alloc(6000)]), limit, s.stream);
  assert.is(s.received(), 10_000);
  assert.is(limit.bytes, 10_000);
});

test('a streamed body that passes the limit fails the stream: the chunk that crosses it is not forwarded', async () => {
  const s = sink();
  let error: unknown;
  try {
    await pipeline(
      Readable.from([Buffer.alloc(6000), Buffer.alloc(6000), Buffer.alloc(6000)]),
      new BodyLimit(10_000),
      s.stream,
    );
  } catch (err) {
    error = err;
  }
  assert.instance(error, BodyTooLargeError);
  assert.is((error as BodyTooLargeError).refusal.refused, 'contentTooLarge');
  assert.is(s.received(), 6000);
});

test.run();
