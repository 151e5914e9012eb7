import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type {
  ClientHttp2Stream,
  IncomingHttpHeaders as H2Headers,
  IncomingHttpStatusHeader,
} from 'node:http2';
import { ChannelHeader } from '../channel/protocol.js';
import { answerRefusal } from './answer.js';
import { BodyLimit, BodyTooLargeError } from './body-limit.js';
import type { GatewayChannel } from './channel.js';
import { Refusal, type RefusalKind } from './refusals.js';

export interface ForwardRequest {
  channel: GatewayChannel;
  req: IncomingMessage;
  res: ServerResponse;
  /** The client's method (CCM_POST...), whatever Node's parser was given. */
  method: string;
  target: string;
  authority: string;
  endpoint: string;
  requestId: string;
  headers: [string, string][];
  maxContentLength: number;
  /** From the end of the upload to the start of the answer (requestTimeoutMs). */
  timeoutMs: number;
  /** No byte either way for this long while a body moves ends the request (idleTimeoutMs). */
  idleTimeoutMs: number;
}

export interface ForwardOutcome {
  status: number;
  bytesIn: number;
  bytesOut: number;
  /** The stable code when the request failed (ours, or the connection point's `x-cmg-error`). */
  error?: string;
  reason?: string;
}

/** Does the client's request carry a body? The framer admitted only Content-Length or exactly `chunked`. */
function hasBody(headers: IncomingHttpHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const cl = headers['content-length'];
  return cl !== undefined && cl !== '0';
}

/** Request headers for the channel stream: HTTP/2 wants lower-case names; repeated ones become lists. */
function channelHeaders(f: ForwardRequest): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {
    ':method': f.method,
    ':path': f.target,
    ':authority': f.authority,
    ':scheme': 'https',
    [ChannelHeader.endpoint]: f.endpoint,
    [ChannelHeader.requestId]: f.requestId,
  };
  for (const [name, value] of f.headers) {
    const lower = name.toLowerCase();
    const prev = out[lower];
    if (prev === undefined) out[lower] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[lower] = [prev, value];
  }
  return out;
}

/** The connection point's answer headers for the client: everything but HTTP/2's pseudo-headers. */
function responseHeaders(h: H2Headers & IncomingHttpStatusHeader): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(h)) {
    if (name.startsWith(':') || value === undefined) continue;
    out[name] = value as string | string[];
  }
  return out;
}

/**
 * Carries one request over a channel stream and its answer back, bodies
 * streamed both ways with backpressure. Failures are prompt and never leave
 * a broken request looking complete: the stream is reset (never ended
 * cleanly) when the client's body breaks or passes the limit, and a client
 * gets `502` when the channel fails before the answer, `504` when the answer
 * does not start within the timeout, and a cut connection when the answer
 * breaks part-way.
 */
export function forwardRequest(f: ForwardRequest): Promise<ForwardOutcome> {
  const { req, res } = f;
  return new Promise((resolve) => {
    const disconnected = {
      error: 'CMGService_ClientDisconnected',
      reason: 'the client went away before the answer was complete',
    };
    // The client may have left while the pipeline awaited (a CRL check): nothing to forward for.
    if (res.destroyed || req.socket.destroyed) {
      resolve({ status: 0, bytesIn: 0, bytesOut: 0, ...disconnected });
      return;
    }
    const body = hasBody(req.headers);
    // Only a request with a body needs the counting stream (most requests are GETs).
    const limit = body ? new BodyLimit(f.maxContentLength) : undefined;
    let stream: ClientHttp2Stream;
    try {
      stream = f.channel.request(channelHeaders(f), !body);
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      // Node refuses some headers HTTP/2 cannot carry (a single-value header twice, an invalid value): the client's fault.
      const clientFault =
        code.startsWith('ERR_HTTP2_HEADER') ||
        code === 'ERR_HTTP2_INVALID_HEADER_VALUE' ||
        code === 'ERR_INVALID_CHAR';
      const kind: RefusalKind = clientFault ? 'badRequest' : 'connectionPointFailed';
      resolve({
        status: answerRefusal(res, kind, { close: body }),
        bytesIn: 0,
        bytesOut: 0,
        error: Refusal[kind].code,
        reason: clientFault
          ? `request headers cannot be forwarded: ${(err as Error).message}`
          : `the channel to ${f.channel.label} could not take the request: ${(err as Error).message}`,
      });
      return;
    }
    let responded = false;
    let settled = false;
    let bodySent = !body;
    let bytesOut = 0;
    let status = 0;
    let upstreamError: string | undefined;
    let answerTimer: NodeJS.Timeout | undefined;
    let idleTimer: NodeJS.Timeout | undefined;
    /** The answer's headers, sent on their own unless body bytes come first (see 'response'). */
    let flush: NodeJS.Immediate | undefined;

    const settle = (outcome: Omit<ForwardOutcome, 'bytesIn' | 'bytesOut'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(answerTimer);
      clearTimeout(idleTimer);
      resolve({ ...outcome, bytesIn: limit?.bytes ?? 0, bytesOut });
    };
    const fail = (kind: RefusalKind, reason: string, close = false) => {
      if (settled) return;
      if (!stream.destroyed) stream.destroy();
      if (!responded && !res.headersSent && !res.destroyed) {
        // A request body still unread leaves the connection out of step: close it after the answer.
        settle({
          status: answerRefusal(res, kind, { close: close || !bodySent }),
          error: Refusal[kind].code,
          reason,
        });
      } else {
        // The answer had begun: cut it, so the client sees a broken answer, never a complete one.
        res.destroy();
        settle({ status, error: Refusal[kind].code, reason });
      }
    };
    // Neither side may stall a request for ever: no byte either way for idleTimeoutMs while the
    // body is uploading or the answer is streaming ends it (a client that stopped reading, a role
    // that stopped writing). The wait for the answer to start is requestTimeoutMs instead.
    const progress = () => {
      clearTimeout(idleTimer);
      if (settled || (bodySent && !responded)) return;
      idleTimer = setTimeout(
        () =>
          fail(
            'timeout',
            responded
              ? `the answer made no progress for ${f.idleTimeoutMs} ms`
              : `the request body made no progress for ${f.idleTimeoutMs} ms`,
          ),
        f.idleTimeoutMs,
      );
    };
    const startAnswerTimer = () => {
      bodySent = true;
      clearTimeout(idleTimer);
      if (responded || settled) return;
      // Counted from the end of the upload: a slow client's upload is not the role's delay.
      answerTimer = setTimeout(
        () => fail('timeout', `the internal role did not answer within ${f.timeoutMs} ms`),
        f.timeoutMs,
      );
    };

    if (limit) {
      progress();
      req.pipe(limit).pipe(stream);
      limit.on('data', progress);
      limit.on('end', startAnswerTimer);
      limit.on('error', (err) => {
        if (err instanceof BodyTooLargeError) fail('contentTooLarge', err.message, true);
        else fail('badRequest', err.message, true);
      });
      req.on('aborted', () => {
        stream.destroy();
        settle({ status: 0, error: disconnected.error, reason: 'the client went away mid-request' });
      });
    } else {
      startAnswerTimer();
    }

    stream.on('response', (headers) => {
      responded = true;
      clearTimeout(answerTimer);
      status = Number(headers[':status']);
      const code = headers[ChannelHeader.error];
      if (typeof code === 'string') upstreamError = code;
      res.writeHead(status, responseHeaders(headers));
      // Headers go with the first body bytes when those come at once (one write for a small answer),
      // else on their own: a role that answers and then stalls is seen as such by the client.
      flush = setImmediate(() => res.flushHeaders());
      progress();
      stream.on('data', (chunk: Buffer) => {
        clearImmediate(flush);
        bytesOut += chunk.length;
        progress();
      });
      res.on('drain', progress);
      stream.pipe(res);
    });
    stream.on('end', () => {
      clearImmediate(flush);
      if (responded) {
        res.once('finish', () =>
          settle({
            status,
            ...(upstreamError
              ? {
                  error: upstreamError,
                  reason: `answered by connection point ${f.channel.identity.site}/${f.channel.identity.id}; its log (SMS_CLOUD_PROXYCONNECTOR.log, request ${f.requestId}) has the cause`,
                }
              : {}),
          }),
        );
      }
    });
    stream.on('error', () => undefined);
    stream.on('close', () => {
      if (settled) return;
      if (!responded) {
        fail(
          'connectionPointFailed',
          `the channel to ${f.channel.label} failed before the answer (stream reset ${stream.rstCode ?? '?'})`,
        );
      } else if (!stream.readableEnded) {
        fail('connectionPointFailed', `the answer from ${f.channel.label} broke off after ${bytesOut} bytes`);
      }
    });
    res.on('close', () => {
      if (!res.writableFinished && !settled) {
        stream.destroy();
        settle({ status, ...disconnected });
      }
    });
  });
}
