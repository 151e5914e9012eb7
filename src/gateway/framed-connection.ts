import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { type FramedRequest, type FramerLimits, HttpFramer } from './http-framer.js';

export interface FramedConnectionOptions extends FramerLimits {
  /**
   * How long part of a request head may sit unfinished. A server fed through
   * `emit('connection')` never arms Node's own headers timeout (it was not
   * `listen()`ed), so a slow client would otherwise hold the socket forever.
   */
  headTimeoutMs: number;
  /** The client's socket went away or broke its framing (for logs). */
  onAbort?: (reason: string) => void;
}

const framers = new WeakMap<object, HttpFramer>();

/**
 * Puts an HttpFramer between a client socket (TCP or TLS) and Node's HTTP
 * server: the server parses the framer's output through a Duplex whose writes
 * go back to the client. Backpressure runs both ways: the socket pauses while
 * the parser side is full.
 */
export function attachFramedConnection(
  server: Server,
  socket: Socket,
  options: FramedConnectionOptions,
): Duplex {
  // When its input ends, Node's HTTP server ends the socket at once unless this is set, dropping the answers
  // to pipelined requests still in progress: a client that sends its requests and half-closes, or the
  // in-order refusal, would get nothing. With it, the socket ends after the last answer.
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  let headTimer: NodeJS.Timeout | undefined;
  const parserSide = new Duplex({
    allowHalfOpen: true,
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _enc, done) {
      // The HTTP server ends every answer with an empty write (for its 'finish' callback): a system call of nothing.
      if (socket.destroyed || chunk.length === 0) return done();
      socket.write(chunk, () => done());
    },
    // What the HTTP server wrote while the last write was on its way (status line, headers, body)
    // leaves as one write: one TLS record and one system call instead of one per piece.
    writev(chunks, done) {
      const bufs = chunks.map((c) => c.chunk as Buffer).filter((b) => b.length > 0);
      if (socket.destroyed || bufs.length === 0) return done();
      socket.cork();
      for (let i = 0; i < bufs.length - 1; i++) socket.write(bufs[i] as Buffer);
      socket.write(bufs[bufs.length - 1] as Buffer, () => done());
      socket.uncork();
    },
    final(done) {
      socket.end();
      done();
    },
    destroy(err, done) {
      clearTimeout(headTimer);
      socket.destroy();
      done(err);
    },
  });
  // Node's HTTP server reads these from its socket (logging, req.socket.remoteAddress, TLS state).
  for (const key of [
    'remoteAddress',
    'remotePort',
    'remoteFamily',
    'localAddress',
    'localPort',
    'encrypted',
  ] as const) {
    Object.defineProperty(parserSide, key, {
      get: () => (socket as unknown as Record<string, unknown>)[key],
    });
  }
  Object.defineProperty(parserSide, 'clientSocket', { value: socket });

  const abort = (reason: string) => {
    options.onAbort?.(reason);
    socket.destroy();
    parserSide.destroy();
  };
  const framer = new HttpFramer(options, {
    forward: (chunk) => {
      if (!parserSide.push(chunk)) socket.pause();
    },
    end: () => parserSide.push(null),
    abort,
  });
  framers.set(parserSide, framer);

  // A deadline from the head's first byte, not an inactivity timer: a client trickling one byte
  // at a time must not hold the connection longer than headTimeoutMs.
  const armHeadTimer = () => {
    if (!framer.awaitingHead) {
      clearTimeout(headTimer);
      headTimer = undefined;
      return;
    }
    if (headTimer) return;
    headTimer = setTimeout(
      () => abort(`request head not complete after ${options.headTimeoutMs} ms`),
      options.headTimeoutMs,
    );
    headTimer.unref();
  };
  socket.on('data', (chunk: Buffer) => {
    framer.push(chunk);
    armHeadTimer();
  });
  socket.on('end', () => {
    clearTimeout(headTimer);
    framer.finish();
  });
  socket.on('error', () => parserSide.destroy());
  socket.on('close', () => {
    clearTimeout(headTimer);
    if (!parserSide.destroyed) parserSide.destroy();
  });
  server.emit('connection', parserSide);
  return parserSide;
}

/** The client socket under a framed request (for TLS details: the peer certificate). */
export function clientSocketOf(req: IncomingMessage): Socket | undefined {
  return (req.socket as unknown as { clientSocket?: Socket }).clientSocket;
}

/**
 * The framer's entry for this request: its original method, or the refusal it
 * stands for. The parsers must agree on every message; if they ever do not,
 * the connection is closed rather than served out of step.
 */
export function takeFramedRequest(req: IncomingMessage): FramedRequest | undefined {
  const framer = framers.get(req.socket);
  const entry = framer?.queue.shift();
  if (!entry || entry.target !== req.url || (entry.method !== req.method && req.method !== 'POST')) {
    req.socket.destroy();
    return undefined;
  }
  return entry;
}
