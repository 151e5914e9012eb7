import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { PassThrough } from 'node:stream';
import { Agent } from 'undici';
import { isHopByHop } from '../channel/hop-by-hop.js';
import { restAfterPrefix } from '../channel/paths.js';
import { ChannelHeader, ConnectorErrorCode, isChannelHeader } from '../channel/protocol.js';
import { Recent, TrafficStats } from '../telemetry/traffic.js';
import type { PublishedEndpoint } from './endpoints.js';

export interface ForwardRecord {
  requestId: string;
  /** The published prefix, or NOT_PUBLISHED. */
  endpoint: string;
  bytesIn: number;
  bytesOut: number;
  method: string;
  internalUrl: string;
  status: number;
  ms: number;
  error?: string;
  reason?: string;
}

export interface ForwarderEvents {
  forwarding: [{ requestId: string; internalUrl: string; method: string }];
  forwarded: [ForwardRecord];
}

export interface ForwarderOptions {
  endpoints: PublishedEndpoint[];
  /** PEM roots that verify the internal roles; absent: the system's roots. */
  ca?: string[] | undefined;
  /** Who forwards (the Via pseudonym): `<id>.<site>.cmg`. */
  via: string;
}

/**
 * Answers on a stream unless the gateway already reset it: `destroyed` turns
 * true only a tick after a reset arrives (`closed` at once), and respond() on
 * such a stream throws, which must never take the daemon down. Returns true
 * when answered, false when the stream is gone, the error when the headers
 * cannot be sent (a single-value header twice, an invalid value).
 */
function respond(
  stream: ServerHttp2Stream,
  headers: Record<string, string | string[] | number>,
  end = false,
): boolean | Error {
  if (stream.destroyed || stream.closed || stream.headersSent) return false;
  try {
    stream.respond(headers, { endStream: end });
    return true;
  } catch (err) {
    return stream.destroyed || stream.closed ? false : (err as Error);
  }
}

/**
 * What cancels one request to the internal role. undici takes an EventEmitter with `aborted` as
 * its signal; an AbortController (an EventTarget) cost about 4% of the connection point's CPU,
 * one per request.
 */
class Cancel extends EventEmitter<{ abort: [] }> {
  aborted = false;

  /** Read by undici once aborted (an Error made per request would cost its stack trace). */
  get reason(): Error | undefined {
    return this.aborted ? new Error('the gateway cancelled the request') : undefined;
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
  }
}

/** The endpoint of a request whose prefix this connection point does not publish (the gateway's view was stale). */
export const NOT_PUBLISHED = '(not published)';

interface Target {
  origin: string;
  basePath: string;
}

/**
 * The connection point's side of a request: the stream the gateway opened is
 * mapped from its published prefix to the internal URL and sent on a
 * keep-alive pool per internal origin (undici), the client's method restored,
 * bodies streamed both ways. Pooled connections are what let one connection
 * point serve far more clients than the original's one connection per client.
 */
export class Forwarder extends EventEmitter<ForwarderEvents> {
  private agent: Agent;
  private readonly byPrefix = new Map<string, { endpoint: PublishedEndpoint; target: Target }>();
  inFlight = 0;
  readonly traffic = new TrafficStats();
  readonly recentErrors = new Recent<ForwardRecord & { at: string }>(20);

  constructor(private readonly options: ForwarderOptions) {
    super();
    for (const e of options.endpoints) {
      const u = new URL(e.internal);
      this.byPrefix.set(e.external.toLowerCase(), {
        endpoint: e,
        target: { origin: u.origin, basePath: u.pathname.replace(/\/+$/, '') },
      });
    }
    this.agent = Forwarder.agentFor(options.ca);
  }

  private static agentFor(ca: string[] | undefined): Agent {
    return new Agent({
      ...(ca ? { connect: { ca } } : {}),
      keepAliveTimeout: 30_000,
      // The gateway times requests out (requestTimeoutMs) and resets the stream, which aborts ours;
      // notification requests are held open on purpose, so no timer of our own cuts them short.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  /** New internal roots (SIGHUP): new requests use a new pool; the old one closes once its requests are done. */
  setCa(ca: string[] | undefined): void {
    const old = this.agent;
    this.agent = Forwarder.agentFor(ca);
    void old.close().catch(() => undefined);
  }

  /** The mappings, for /status: external prefix -> internal URL. */
  mappings(): { external: string; internal: string }[] {
    return [...this.byPrefix.values()].map((m) => ({
      external: m.endpoint.external,
      internal: m.endpoint.internal,
    }));
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  handle(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    const started = performance.now();
    const requestId = String(headers[ChannelHeader.requestId] ?? '');
    const method = String(headers[':method'] ?? 'GET');
    const rawPath = String(headers[':path'] ?? '');
    const prefix = String(headers[ChannelHeader.endpoint] ?? '').toLowerCase();
    const mapping = this.byPrefix.get(prefix);
    const rest = mapping ? restAfterPrefix(rawPath, mapping.endpoint.external) : undefined;
    const record: ForwardRecord = {
      requestId,
      endpoint: mapping?.endpoint.external ?? NOT_PUBLISHED,
      method,
      internalUrl: '',
      status: 0,
      ms: 0,
      bytesIn: 0,
      bytesOut: 0,
    };
    this.traffic.begin(record.endpoint);
    const finish = () => {
      record.ms = Math.round((performance.now() - started) * 10) / 10;
      this.traffic.end(record.endpoint, {
        failed: record.error !== undefined || record.status >= 500,
        bytesIn: record.bytesIn,
        bytesOut: record.bytesOut,
      });
      if (record.error) this.recentErrors.push({ at: new Date().toISOString(), ...record });
      this.emit('forwarded', record);
    };
    stream.on('error', () => undefined);
    if (!mapping || rest === undefined) {
      const code = mapping ? ConnectorErrorCode.invalidTarget : ConnectorErrorCode.notPublished;
      record.status = mapping ? 400 : 404;
      record.error = code;
      record.reason = mapping
        ? `${rawPath} is not under ${mapping.endpoint.external}`
        : `${prefix} is not published here`;
      respond(stream, { ':status': record.status, [ChannelHeader.error]: code }, true);
      finish();
      return;
    }
    const path = mapping.target.basePath + rest;
    record.internalUrl = mapping.target.origin + path;
    this.emit('forwarding', { requestId, internalUrl: record.internalUrl, method });

    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (name.startsWith(':') || value === undefined || isHopByHop(name) || isChannelHeader(name)) continue;
      out[name] = value;
    }
    // RFC 9110 7.6.3: a proxy adds itself to Via. It also shows the internal role which connection point forwarded.
    const via = out.via;
    out.via = via
      ? `${Array.isArray(via) ? via.join(', ') : via}, 1.1 ${this.options.via}`
      : `1.1 ${this.options.via}`;

    const cancel = new Cancel();
    let body: PassThrough | null = null;
    if (!stream.endAfterHeaders) {
      // Not the HTTP/2 stream itself: undici destroys a request body when the request ends, and this stream carries the answer too.
      body = new PassThrough();
      // Counted on the channel stream, which pipe() already reads: a 'data' listener on the body
      // itself would start it flowing before undici reads it, and the bytes would be lost.
      stream.on('data', (c: Buffer) => {
        record.bytesIn += c.length;
      });
      stream.pipe(body);
    }
    let answered = false;
    stream.on('close', () => {
      // The gateway reset the stream (client gone, body too long, timeout): the internal role must see a broken request.
      if (!answered || !stream.writableFinished) {
        body?.destroy(new Error('the gateway cancelled the request'));
        cancel.abort();
      }
    });
    stream.on('aborted', () => body?.destroy(new Error('the gateway cancelled the request')));
    const failed = (reason: string) => {
      record.error = ConnectorErrorCode.internalRoleFailed;
      record.reason = reason;
      const sent = respond(stream, {
        ':status': 502,
        [ChannelHeader.error]: ConnectorErrorCode.internalRoleFailed,
        'content-type': 'text/plain',
      });
      if (sent === true) {
        record.status = 502;
        stream.end(`502 Bad Gateway (${ConnectorErrorCode.internalRoleFailed})\n`);
      } else if (!stream.destroyed) {
        stream.destroy();
      }
    };
    this.inFlight++;
    this.agent
      .request({
        origin: mapping.target.origin,
        path,
        method,
        headers: out,
        body,
        signal: cancel,
      })
      .then(
        async (answer) => {
          answered = true;
          record.status = answer.statusCode;
          // A destroyed body may still emit an error; unheard, it would end the process.
          answer.body.on('error', () => undefined);
          const headersOut: Record<string, string | string[] | number> = { ':status': answer.statusCode };
          for (const [name, value] of Object.entries(answer.headers)) {
            if (value === undefined || isHopByHop(name)) continue;
            headersOut[name] = value;
          }
          const sent = respond(stream, headersOut);
          if (sent !== true) {
            answer.body.destroy();
            if (sent instanceof Error)
              failed(`the internal role's answer headers cannot be forwarded: ${sent.message}`);
            return;
          }
          answer.body.on('data', (c: Buffer) => {
            record.bytesOut += c.length;
          });
          // Not stream.pipeline(): it reports "premature close" when the HTTP/2 stream closes in the same
          // tick as it finishes, marking whole answers as failed. The answer failed only when the role's
          // body broke off; a stream reset by the gateway (client gone, timeout) is the gateway's to log.
          await new Promise<void>((done) => {
            let cancelled = false;
            answer.body.once('error', (err) => {
              if (cancelled) return done();
              record.error = ConnectorErrorCode.internalRoleFailed;
              record.reason = `the answer broke off: ${err.message}`;
              // A reset (destroy, not close(code), which ends the stream cleanly first): the client must not take a cut answer for a whole one.
              if (!stream.destroyed) stream.destroy(err);
              done();
            });
            answer.body.once('end', () => done());
            stream.once('close', () => {
              if (!answer.body.readableEnded) {
                cancelled = true;
                answer.body.destroy();
              }
              done();
            });
            answer.body.pipe(stream);
          });
        },
        (err: Error & { code?: string }) =>
          failed(`${record.internalUrl}: ${err.code ? `${err.code} ` : ''}${err.message}`),
      )
      .finally(() => {
        this.inFlight--;
        finish();
      });
  }
}
