import { Transform, type TransformCallback } from 'node:stream';
import type { Refused } from './refusals.js';

/**
 * The endpoint's content-length limit. A declared length over the limit is
 * refused before anything is forwarded (413). A chunked body is counted while
 * it streams: once it passes the limit the stream fails, so whatever carries
 * it aborts and the internal role sees a broken request, never a complete one.
 */
export function checkDeclaredLength(contentLength: string | undefined, limit: number): Refused | undefined {
  if (contentLength === undefined) return undefined;
  const n = Number(contentLength);
  if (n > limit) {
    return {
      refused: 'contentTooLarge',
      reason: `declared body of ${n} bytes; this endpoint takes at most ${limit}`,
    };
  }
  return undefined;
}

export class BodyTooLargeError extends Error {
  readonly refusal: Refused;
  constructor(limit: number) {
    super(`request body passed ${limit} bytes while streaming`);
    this.refusal = { refused: 'contentTooLarge', reason: this.message };
  }
}

/** Passes a body through, failing once more than `limit` bytes have gone by. */
export class BodyLimit extends Transform {
  private seen = 0;

  constructor(private readonly limit: number) {
    super();
  }

  get bytes(): number {
    return this.seen;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) {
      done(new BodyTooLargeError(this.limit));
      return;
    }
    done(null, chunk);
  }
}
