import { EventEmitter } from 'node:events';
import { request as httpRequest } from 'node:http';
import { constants, createServer, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { encodeControl, type Manifest } from '../channel/control.js';
import { Heartbeat } from '../channel/heartbeat.js';
import {
  CHANNEL_ALPN,
  ChannelHeader,
  CONTROL_PATH,
  connectorSessionOptions,
  SESSION_WINDOW,
} from '../channel/protocol.js';
import type { Backoff } from './backoff.js';
import type { Forwarder } from './forwarder.js';

/** How long a channel must stay up to count as healthy again (backoff reset, immediate redial after a drain). */
const STABLE_MS = 10_000;

export interface SlotOptions {
  host: string;
  port: number;
  /** Which of the `connectionsPerInstance` channels to this port. */
  index: number;
  /** Read at each dial, so that a reload (SIGHUP) applies to the next channel. */
  tls: () => { cert: string; key: string; ca?: string[] | undefined; servername: string };
  /** `http://host:port` of an outbound web proxy: the channel is tunnelled with CONNECT. */
  proxy?: string | undefined;
  manifest: () => Manifest;
  forwarder: Forwarder;
  heartbeatMs: number;
  backoff: Backoff;
  connectTimeoutMs?: number;
}

export interface SlotEvents {
  up: [{ gateway: string; instance: string }];
  down: [{ gateway: string; reason: string; retryMs: number; refused: boolean }];
}

/**
 * One channel the connection point keeps to one gateway port: it dials,
 * serves HTTP/2 on the socket it dialed (the gateway is the client), sends
 * its manifest on the control stream, keeps the heartbeat, and when the
 * channel ends dials again: at once after a clean GOAWAY (the gateway is
 * draining), else after a backoff.
 */
export class ChannelSlot extends EventEmitter<SlotEvents> {
  private socket: TLSSocket | undefined;
  private session: ServerHttp2Session | undefined;
  private control: ServerHttp2Stream | undefined;
  private heartbeat: Heartbeat | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;
  private downReason: string | undefined;
  private cleanGoaway = false;
  private refused = false;
  private isUp = false;
  private upAt = 0;
  private state: 'connecting' | 'waiting' | 'stopped' = 'connecting';
  private instance: string | undefined;
  private lastError: string | undefined;
  reconnects = 0;

  constructor(private readonly options: SlotOptions) {
    super();
  }

  get gateway(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  get up(): boolean {
    return this.isUp;
  }

  start(): void {
    this.dial();
  }

  private dial(): void {
    if (this.stopped) return;
    this.downReason = undefined;
    this.cleanGoaway = false;
    this.refused = false;
    this.state = 'connecting';
    const proxy = this.options.proxy;
    if (!proxy) {
      this.startTls(undefined);
      return;
    }
    // The original's TCP-TLS channel could not cross a web proxy; this one tunnels through HTTP CONNECT.
    const u = new URL(proxy);
    const target = `${this.options.host}:${this.options.port}`;
    const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
    const req = httpRequest({
      host: u.hostname,
      port: Number(u.port),
      method: 'CONNECT',
      path: target,
      headers: { host: target },
      timeout: timeoutMs,
    });
    req.once('connect', (res, raw) => {
      if (res.statusCode !== 200) {
        raw.destroy();
        // The proxy's refusal (407, 403) needs an admin, like the gateway's: logged as an error.
        this.refused = true;
        this.notConnected(
          `the proxy ${u.host} answered ${res.statusCode} ${res.statusMessage ?? ''} to CONNECT ${target}`,
        );
        return;
      }
      this.startTls(raw);
    });
    req.once('timeout', () => req.destroy(new Error(`no answer to CONNECT within ${timeoutMs} ms`)));
    req.once('error', (err: Error & { code?: string }) =>
      this.notConnected(`the proxy ${u.host} failed: ${err.code ? `${err.code}: ` : ''}${err.message}`),
    );
    req.end();
  }

  private startTls(raw: Duplex | undefined): void {
    if (this.stopped) {
      raw?.destroy();
      return;
    }
    const tls = this.options.tls();
    const socket = tlsConnect({
      ...(raw ? { socket: raw } : { host: this.options.host, port: this.options.port }),
      servername: tls.servername,
      cert: tls.cert,
      key: tls.key,
      ...(tls.ca ? { ca: tls.ca } : {}),
      ALPNProtocols: [CHANNEL_ALPN],
      minVersion: 'TLSv1.2',
    });
    this.socket = socket;
    // Requests and answers are many small frames: Nagle's algorithm would hold them for the peer's delayed ACK.
    (raw as { setNoDelay?: (v: boolean) => void } | undefined)?.setNoDelay?.(true);
    socket.setNoDelay(true);
    socket.setTimeout(this.options.connectTimeoutMs ?? 10_000, () =>
      this.fail(socket, `no channel established within ${this.options.connectTimeoutMs ?? 10_000} ms`),
    );
    socket.on('error', (err: Error & { code?: string }) =>
      this.fail(socket, err.code ? `${err.code}: ${err.message}` : err.message),
    );
    socket.on('close', () => {
      raw?.destroy();
      this.down(socket);
    });
    socket.once('secureConnect', () => {
      if (socket.alpnProtocol !== CHANNEL_ALPN) {
        this.fail(
          socket,
          `${this.gateway} did not accept the channel protocol ${CHANNEL_ALPN} (is it a cmg gateway, and is this its channel port?)`,
        );
        return;
      }
      const server = createServer(connectorSessionOptions);
      server.on('session', (session) => this.onSession(socket, session));
      server.on('stream', (stream, headers) => {
        if (headers[':path'] === CONTROL_PATH)
          this.onControl(socket, stream, String(headers[ChannelHeader.gatewayInstance] ?? ''));
        else this.options.forwarder.handle(stream, headers);
      });
      server.emit('connection', socket);
    });
  }

  /** The dial failed before any TLS socket existed (the proxy): retry as for a closed channel. */
  private notConnected(reason: string): void {
    this.downReason = reason;
    this.retryLater(false);
  }

  private onSession(socket: TLSSocket, session: ServerHttp2Session): void {
    this.session = session;
    session.on('error', (err) => this.fail(socket, `channel error: ${err.message}`));
    session.on('goaway', (code: number, _last: number, data?: Buffer) => {
      if (this.refused) return; // a refusal's reason stands; a GOAWAY that may follow it says less
      // Node closes the session after a GOAWAY, and a closing session cancels pings: not a dead peer.
      this.heartbeat?.stop();
      const said = data && data.length > 0 ? `: ${data.toString('utf8')}` : '';
      if (code === constants.NGHTTP2_REFUSED_STREAM) {
        this.refused = true;
        this.downReason = `the gateway refused this connection point${said}`;
      } else {
        this.cleanGoaway = code === constants.NGHTTP2_NO_ERROR;
        this.downReason = `the gateway closed the channel (GOAWAY code ${code}${said})`;
      }
    });
    session.on('close', () => socket.destroy());
    session.on('connect', () => session.setLocalWindowSize(SESSION_WINDOW));
  }

  private onControl(socket: TLSSocket, stream: ServerHttp2Stream, instance: string): void {
    stream.on('error', () => undefined);
    this.control = stream;
    stream.respond({ ':status': 200, 'content-type': 'application/x-ndjson' });
    stream.write(encodeControl(this.options.manifest()));
    socket.setTimeout(0);
    this.isUp = true;
    this.upAt = Date.now();
    this.instance = instance;
    this.heartbeat = new Heartbeat({
      intervalMs: this.options.heartbeatMs,
      ping: (done) => {
        const session = this.session;
        let sent = false;
        try {
          sent = session !== undefined && !session.destroyed && session.ping((err) => done(err));
        } catch {
          // the session went between its close and its socket's
        }
        if (!sent) done(new Error('the channel cannot send a ping'));
      },
      onDead: (reason) => this.fail(socket, reason),
      bytesRead: () => socket.bytesRead,
    });
    this.heartbeat.start();
    this.emit('up', { gateway: this.gateway, instance });
  }

  /** Sends a newer manifest on the open control stream (endpoints changed). */
  publish(manifest: Manifest): void {
    this.control?.write(encodeControl(manifest));
  }

  private fail(socket: TLSSocket, reason: string): void {
    this.downReason ??= reason;
    socket.destroy();
  }

  private down(socket: TLSSocket): void {
    if (socket !== this.socket) return;
    this.heartbeat?.stop();
    this.session?.destroy();
    this.session = undefined;
    this.control = undefined;
    const wasUp = this.isUp;
    this.isUp = false;
    this.retryLater(wasUp);
  }

  private retryLater(wasUp: boolean): void {
    if (this.stopped) return;
    // Only a channel that stayed up a while resets the backoff or earns an immediate redial: one the
    // gateway ends at once (a refused manifest, a crash loop) must not be dialed again in a tight loop.
    const stable = wasUp && Date.now() - this.upAt >= STABLE_MS;
    if (stable) this.options.backoff.reset();
    const retryMs = this.cleanGoaway && stable ? 0 : this.options.backoff.next();
    this.state = 'waiting';
    this.reconnects++;
    this.lastError =
      this.downReason ??
      (wasUp ? 'the gateway closed the connection' : 'the connection closed before the channel was up');
    this.emit('down', { gateway: this.gateway, reason: this.lastError, retryMs, refused: this.refused });
    this.retry = setTimeout(() => this.dial(), retryMs);
  }

  /** What /status shows of this slot. */
  describe(): {
    gateway: string;
    index: number;
    state: string;
    upSeconds: number | null;
    reconnects: number;
    lastError: string | null;
    gatewayInstance: string | null;
  } {
    return {
      gateway: this.gateway,
      index: this.options.index,
      state: this.isUp ? 'up' : this.state,
      upSeconds: this.isUp ? Math.round((Date.now() - this.upAt) / 1000) : null,
      reconnects: this.reconnects,
      lastError: this.lastError ?? null,
      gatewayInstance: this.instance ?? null,
    };
  }

  /** Tells the gateway this channel is going (it stops sending requests), then ends it when its streams are done. */
  drain(reason: string): void {
    this.control?.write(encodeControl({ type: 'drain', reason }));
    this.heartbeat?.stop();
  }

  /** Closes the channel: GOAWAY, then the socket; no reconnect. */
  stop(): void {
    this.stopped = true;
    this.state = 'stopped';
    clearTimeout(this.retry);
    this.heartbeat?.stop();
    this.control?.end();
    const socket = this.socket;
    if (this.session && !this.session.destroyed) this.session.close(() => socket?.destroy());
    else socket?.destroy();
    setTimeout(() => socket?.destroy(), 2000).unref();
  }
}
