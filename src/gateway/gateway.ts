import { EventEmitter } from 'node:events';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from 'node:tls';
import { secureContextOf } from '../certs/tls-identity.js';
import { CHANNEL_ALPN } from '../channel/protocol.js';
import type { GatewayConfig } from '../config/gateway.js';
import { boundAddress, listenOn } from '../listen.js';
import { Recent, TrafficStats } from '../telemetry/traffic.js';
import { answerRefusal } from './answer.js';
import { GatewayChannel } from './channel.js';
import { checkConnectionPoint, refuseChannel } from './channel-acceptor.js';
import { ChannelRegistry } from './channel-registry.js';
import { ClientAuthenticator } from './client-auth.js';
import { forwardRequest } from './forward.js';
import { forwardHeaders } from './forward-headers.js';
import { attachFramedConnection, clientSocketOf, takeFramedRequest } from './framed-connection.js';
import { peerChain } from './peer-chain.js';
import { type PipelineParts, type RequestContext, runPipeline } from './pipeline.js';
import { Refusal } from './refusals.js';
import type { GatewayTrust } from './trust.js';

/** One line of CMGHttpHandler.log. */
export interface RequestRecord {
  id: string;
  method: string;
  url: string;
  status: number;
  bytesIn: number;
  bytesOut: number;
  ms: number;
  clientIp: string;
  /** The client certificate's thumbprint, when one was presented and verified. */
  thumbprint?: string;
  connectionPoint?: string;
  /** The published prefix it was routed to, when it was. */
  endpoint?: string;
  error?: string;
  reason?: string;
}

/** Requests not routed to an endpoint (refused before routing, or unknown paths), in traffic figures. */
export const UNROUTED = '(not routed)';

export interface GatewayEvents {
  listening: [{ clients: string; channels?: string }];
  request: [RequestRecord];
  'channel-up': [GatewayChannel];
  'channel-down': [GatewayChannel, string];
  'channel-refused': [{ remote: string; reason: string; subject?: string }];
  'tls-error': [{ remote: string; reason: string; code: string }];
  'route-conflict': [{ channel: GatewayChannel; prefix: string; site: string }];
  'internal-error': [{ where: string; error: Error }];
}

/** How long a verified client chain's verdict is reused (a CRL change is seen within this). */
const AUTH_CACHE_MS = 60_000;
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
export const STRONG_CIPHERS = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
].join(':');
const MANIFEST_TIMEOUT_MS = 10_000;

/**
 * One gateway instance: the HTTPS listener for clients, the channel listener
 * (its own port, or the client port told apart by ALPN), the channel
 * registry, and the request path. It emits events; the daemon logs them.
 */
export class Gateway extends EventEmitter<GatewayEvents> {
  readonly registry = new ChannelRegistry();
  readonly traffic = new TrafficStats();
  readonly recentErrors = new Recent<RequestRecord & { at: string }>(20);
  readonly startedAt = Date.now();
  private readonly clientServer: TlsServer;
  private readonly channelServer: TlsServer | undefined;
  private readonly http: Server;
  private auth: ClientAuthenticator;
  private readonly parts: PipelineParts;
  private readonly sites: Set<string>;
  private readonly inFlight = new Map<TLSSocket, number>();
  private seq = 0;
  private readonly idPrefix = process.pid.toString(36);
  readonly instance: string;
  private stopping = false;

  constructor(
    private readonly config: GatewayConfig,
    private trust: GatewayTrust,
  ) {
    super();
    this.instance = `${hostname()}:${config.listen.port}`;
    this.sites = new Set(config.channel.sites.map((s) => s.toUpperCase()));
    this.auth = this.makeAuthenticator();
    this.registry.on('conflict', (c) => this.emit('route-conflict', c));
    this.parts = {
      maxUrlLength: config.limits.maxUrlLength,
      defaultMaxContentLength: config.limits.defaultMaxContentLength,
      auth: () => this.auth,
      registry: this.registry,
    };
    // Our framer enforces maxHeaderBytes (431) and maxUrlLength (414) itself; llhttp only needs room for what passed.
    this.http = createHttpServer(
      { maxHeaderSize: config.limits.maxHeaderBytes * 2 + 4096, requestTimeout: 0, headersTimeout: 0 },
      (req, res) => {
        this.onRequest(req, res).catch((err: Error) => this.internalError(err, req, res));
      },
    );
    // The Keep-Alive header Node sends advertises this: the gateway's own idle timeout, not Node's 5 s.
    this.http.keepAliveTimeout = config.limits.idleTimeoutMs;
    const shared = config.channel.port === undefined;
    this.clientServer = createTlsServer(
      {
        ...this.tlsOptions(),
        // The acceptable CAs in the certificate request tell clients which certificate to send.
        ca: trust.clients.roots.map((c) => c.toPem()),
        ALPNProtocols: shared ? ['http/1.1', CHANNEL_ALPN] : ['http/1.1'],
        allowHalfOpen: true,
      },
      (socket) =>
        socket.alpnProtocol === CHANNEL_ALPN ? void this.onChannel(socket) : this.onClient(socket),
    );
    this.watchTlsErrors(this.clientServer);
    if (!shared) {
      this.channelServer = createTlsServer(
        {
          ...this.tlsOptions(),
          ca: trust.channels.roots.map((c) => c.toPem()),
          ALPNProtocols: [CHANNEL_ALPN],
        },
        (socket) => this.channelSafely(socket),
      );
      this.watchTlsErrors(this.channelServer);
    }
  }

  private makeAuthenticator(): ClientAuthenticator {
    return new ClientAuthenticator({
      trust: this.trust.clients,
      requireCrl: this.config.clientAuth.checkCrl,
      cacheMs: AUTH_CACHE_MS,
    });
  }

  private tlsOptions() {
    return {
      ...secureContextOf(this.trust.identity),
      // Asked for, verified by us: a refusal is a clear 403 with a reason, not a bare TLS alert.
      requestCert: true,
      rejectUnauthorized: false,
      handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
      // Answers leave in several small writes: Nagle's algorithm would hold them for the client's delayed ACK.
      noDelay: true,
      minVersion: 'TLSv1.2' as const,
      // TLS 1.2: forward secrecy and AEAD only (Node's default list also offers static RSA and CBC
      // suites). TLS 1.3's three suites are all strong and stay as they are.
      ciphers: STRONG_CIPHERS,
      honorCipherOrder: true,
    };
  }

  private watchTlsErrors(server: TlsServer): void {
    server.on('tlsClientError', (err, socket) => {
      this.emit('tls-error', {
        remote: `${socket.remoteAddress}:${socket.remotePort}`,
        reason: err.message,
        // A bounded label for metrics: Node's or OpenSSL's code, not the free text.
        code: (err as { code?: string }).code ?? 'UNKNOWN',
      });
    });
  }

  async start(): Promise<{ clients: string; channels?: string }> {
    const { listen, channel } = this.config;
    await listenOn(this.clientServer, listen.port, listen.host, 'clients', 'listen.port');
    const out: { clients: string; channels?: string } = {
      clients: boundAddress(this.clientServer),
    };
    if (this.channelServer) {
      try {
        await listenOn(this.channelServer, channel.port as number, channel.host, 'channels', 'channel.port');
      } catch (err) {
        this.clientServer.close();
        throw err;
      }
      out.channels = boundAddress(this.channelServer);
    }
    this.emit('listening', out);
    return out;
  }

  /**
   * Drains: stops accepting clients and connection points, tells every
   * connection point to move (GOAWAY: no new requests on its channels), lets
   * requests in flight finish within `graceMs`, then closes what is left.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.clientServer.close();
    this.channelServer?.close();
    for (const ch of this.registry.channels) ch.close('the gateway is stopping');
    // Idle keep-alive connections go now; busy ones close after their answer.
    for (const [socket, n] of this.inFlight) if (n === 0) socket.destroy();
    const deadline = Date.now() + graceMs;
    while (this.requestsInFlight() > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const ch of this.registry.channels) ch.destroy('the gateway is stopping');
    for (const socket of this.inFlight.keys()) socket.destroy();
  }

  /** Open client connections (TLS), for metrics. */
  get clientConnections(): number {
    return this.inFlight.size;
  }

  /**
   * New certificate material (SIGHUP): new connections get the new web
   * certificate and trust; connections and channels already up keep theirs.
   */
  reload(trust: GatewayTrust): void {
    this.trust = trust;
    this.clientServer.setSecureContext({
      ...this.tlsOptions(),
      ca: trust.clients.roots.map((c) => c.toPem()),
    });
    this.channelServer?.setSecureContext({
      ...this.tlsOptions(),
      ca: trust.channels.roots.map((c) => c.toPem()),
    });
    this.auth = this.makeAuthenticator();
  }

  get webCertificate(): GatewayTrust['identity']['leaf'] {
    return this.trust.identity.leaf;
  }

  requestsInFlight(): number {
    let n = 0;
    for (const v of this.inFlight.values()) n += v;
    return n;
  }

  private onClient(socket: TLSSocket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    this.inFlight.set(socket, 0);
    socket.setTimeout(this.config.limits.idleTimeoutMs);
    // Idle only counts between requests: a held notification request keeps its connection.
    socket.on('timeout', () => {
      if ((this.inFlight.get(socket) ?? 0) === 0) socket.destroy();
    });
    socket.on('close', () => this.inFlight.delete(socket));
    socket.on('error', () => undefined);
    attachFramedConnection(this.http, socket, {
      maxHeaderBytes: this.config.limits.maxHeaderBytes,
      maxUrlLength: this.config.limits.maxUrlLength,
      headTimeoutMs: this.config.limits.headersTimeoutMs,
    });
  }

  /** A bug must cost one request or one channel, never the gateway: answer 500, log it with its stack. */
  private internalError(err: Error, req: IncomingMessage, res: ServerResponse): void {
    this.emit('internal-error', { where: `${req.method} ${req.url}`, error: err });
    if (!res.headersSent && !res.destroyed) answerRefusal(res, 'internalError', { close: true });
    else res.destroy();
  }

  private channelSafely(socket: TLSSocket): void {
    this.onChannel(socket).catch((err: Error) => {
      this.emit('internal-error', {
        where: `channel from ${socket.remoteAddress}:${socket.remotePort}`,
        error: err,
      });
      socket.destroy();
    });
  }

  private async onChannel(socket: TLSSocket): Promise<void> {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.on('error', () => undefined);
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const verdict = await checkConnectionPoint(socket, this.trust.channels, this.sites);
    if (!verdict.ok) {
      this.emit('channel-refused', {
        remote,
        reason: verdict.reason,
        ...(verdict.subject ? { subject: verdict.subject } : {}),
      });
      refuseChannel(socket, verdict.reason);
      return;
    }
    const channel = new GatewayChannel({
      socket,
      identity: verdict.identity,
      instance: this.instance,
      manifestTimeoutMs: MANIFEST_TIMEOUT_MS,
    });
    channel.once('ready', () => {
      this.registry.add(channel);
      this.emit('channel-up', channel);
    });
    channel.once('closed', (reason: string) => this.emit('channel-down', channel, reason));
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const entry = takeFramedRequest(req);
    if (!entry) return;
    const started = performance.now();
    const socket = clientSocketOf(req) as TLSSocket;
    const id = `${this.idPrefix}-${(++this.seq).toString(36)}`;
    const clientIp = socket.remoteAddress ?? '';
    this.inFlight.set(socket, (this.inFlight.get(socket) ?? 0) + 1);
    res.once('close', () => {
      if (this.inFlight.has(socket)) this.inFlight.set(socket, (this.inFlight.get(socket) ?? 1) - 1);
    });
    const record: RequestRecord = {
      id,
      method: entry.method,
      url: entry.target,
      status: 0,
      bytesIn: 0,
      bytesOut: 0,
      ms: 0,
      clientIp,
    };
    let counted = false;
    const done = () => {
      record.ms = Math.round((performance.now() - started) * 10) / 10;
      const endpoint = record.endpoint ?? UNROUTED;
      if (!counted) this.traffic.begin(endpoint);
      this.traffic.end(endpoint, {
        failed: record.error !== undefined || record.status >= 500 || record.status === 0,
        bytesIn: record.bytesIn,
        bytesOut: record.bytesOut,
      });
      if (record.error) this.recentErrors.push({ at: new Date().toISOString(), ...record });
      this.emit('request', record);
    };
    // While draining, every answer closes its connection: clients move to another instance.
    if (this.stopping) res.shouldKeepAlive = false;
    if (entry.refusal) {
      record.status = answerRefusal(res, entry.refusal.refused, { close: true });
      record.error = Refusal[entry.refusal.refused].code;
      record.reason = entry.refusal.reason;
      return done();
    }
    const ctx: RequestContext = {
      method: entry.method,
      target: entry.target,
      contentLength: req.headers['content-length'],
      presented: () => peerChain(socket),
    };
    const refused = await runPipeline(ctx, this.parts);
    if (ctx.certificate) record.thumbprint = ctx.certificate.thumbprint;
    if (ctx.route) record.endpoint = ctx.route.prefix;
    if (refused) {
      const close = refused.refused === 'contentTooLarge';
      record.status = res.destroyed ? 0 : answerRefusal(res, refused.refused, { close });
      record.error = Refusal[refused.refused].code;
      record.reason = ctx.certificateError ? `${refused.reason}` : refused.reason;
      return done();
    }
    const channel = ctx.channel as GatewayChannel;
    record.connectionPoint = `${channel.identity.site}/${channel.identity.id}`;
    this.traffic.begin(record.endpoint ?? UNROUTED);
    counted = true;
    const outcome = await forwardRequest({
      channel,
      req,
      res,
      method: entry.method,
      target: entry.target,
      // The service name, not the client's Host: a malformed Host must not break the channel's :authority.
      authority: this.config.serviceName,
      endpoint: ctx.route?.prefix ?? '',
      requestId: id,
      headers: forwardHeaders(req.rawHeaders, {
        clientIp,
        ...(ctx.certificate ? { clientCertificate: ctx.certificate } : {}),
      }),
      maxContentLength: ctx.maxContentLength ?? this.config.limits.defaultMaxContentLength,
      timeoutMs: this.config.limits.requestTimeoutMs,
      idleTimeoutMs: this.config.limits.idleTimeoutMs,
    });
    Object.assign(record, outcome);
    done();
  }
}
