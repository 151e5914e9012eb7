import { EventEmitter } from 'node:events';
import { type ClientHttp2Session, type ClientHttp2Stream, connect, constants } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { ConnectionPointIdentity } from '../certs/identity.js';
import { LineSplitter, type Manifest, parseControl } from '../channel/control.js';
import { Heartbeat, type HeartbeatTimers } from '../channel/heartbeat.js';
import { ChannelHeader, CONTROL_PATH, gatewaySessionOptions, SESSION_WINDOW } from '../channel/protocol.js';

export type ChannelState = 'handshake' | 'ready' | 'draining' | 'closed';

export interface ChannelOptions {
  socket: TLSSocket;
  identity: ConnectionPointIdentity;
  /** This gateway instance's name, sent to the connection point for its logs. */
  instance: string;
  /** How long the connection point has to send its manifest. */
  manifestTimeoutMs: number;
  timers?: HeartbeatTimers;
}

let nextChannelId = 1;

/**
 * One channel seen from the gateway: the TLS connection a connection point
 * dialed, on which the gateway is the HTTP/2 client. It opens the control
 * stream, takes the manifest, keeps the heartbeat, and carries requests as
 * streams. Events: `ready` (manifest), `manifest` (an update), `drain`,
 * `closed` (reason, clean).
 */
export class GatewayChannel extends EventEmitter {
  readonly id = nextChannelId++;
  readonly identity: ConnectionPointIdentity;
  readonly remote: string;
  readonly openedAt = Date.now();
  state: ChannelState = 'handshake';
  manifest: Manifest | undefined;
  /** Requests in flight on this channel: a draining channel closes when it reaches 0. */
  inFlight = 0;
  private readonly session: ClientHttp2Session;
  private heartbeat: Heartbeat | undefined;
  private closeReason: string | undefined;

  constructor(private readonly options: ChannelOptions) {
    super();
    this.identity = options.identity;
    this.remote = `${options.socket.remoteAddress}:${options.socket.remotePort}`;
    this.session = connect(`https://${options.identity.id}.${options.identity.site}.cmg-channel`, {
      ...gatewaySessionOptions,
      createConnection: () => options.socket,
    });
    this.session.on('connect', () => this.session.setLocalWindowSize(SESSION_WINDOW));
    this.session.on('error', (err) => this.end(`channel error: ${err.message}`, false));
    this.session.on('goaway', (code: number) => {
      // The connection point is leaving: no new streams; those in flight finish.
      if (this.state !== 'closed') this.setDraining(`connection point sent GOAWAY (code ${code})`);
    });
    this.session.on('close', () =>
      this.end(this.closeReason ?? 'connection closed by the connection point', false),
    );
    this.openControl();
  }

  get label(): string {
    return `${this.identity.site}/${this.identity.id} #${this.id} (${this.remote})`;
  }

  get usable(): boolean {
    return this.state === 'ready' && !this.session.destroyed && !this.session.closed;
  }

  private openControl(): void {
    const timer = setTimeout(
      () => this.close(`no manifest within ${this.options.manifestTimeoutMs} ms`),
      this.options.manifestTimeoutMs,
    );
    timer.unref();
    const control = this.session.request(
      { ':method': 'GET', ':path': CONTROL_PATH, [ChannelHeader.gatewayInstance]: this.options.instance },
      { endStream: true },
    );
    control.setEncoding('utf8');
    const lines = new LineSplitter((line) => {
      const parsed = parseControl(line);
      if (!parsed.ok) {
        this.refuse(parsed.reason);
        return;
      }
      const msg = parsed.message;
      if (msg.type === 'manifest') {
        clearTimeout(timer);
        if (this.manifest && msg.serial <= this.manifest.serial) return;
        const previous = this.manifest;
        this.manifest = msg;
        if (!previous) {
          this.state = 'ready';
          this.startHeartbeat(msg.heartbeatSeconds * 1000);
          this.emit('ready', msg);
        } else {
          this.emit('manifest', msg, previous);
        }
      } else if (msg.type === 'drain') {
        this.setDraining(`connection point is draining: ${msg.reason}`);
      }
    });
    control.on('data', (chunk: string) => {
      if (!lines.push(chunk)) this.refuse('control message longer than the limit');
    });
    control.on('response', (headers) => {
      if (headers[':status'] !== 200) this.close(`control stream answered ${headers[':status']}`);
    });
    control.on('error', () => undefined);
    control.on('close', () => {
      clearTimeout(timer);
      // A session that fails destroys its streams first and reports why a tick later: let that reason win.
      setImmediate(() => {
        if (this.state !== 'closed' && this.state !== 'draining') {
          this.close(`control stream ended (reset code ${control.rstCode ?? 'none'})`);
        }
      });
    });
  }

  private startHeartbeat(intervalMs: number): void {
    this.heartbeat = new Heartbeat({
      intervalMs,
      ping: (done) => {
        let sent = false;
        try {
          sent = !this.session.destroyed && this.session.ping((err) => done(err));
        } catch {
          // the session went between two events
        }
        if (!sent) done(new Error('the channel cannot send a ping'));
      },
      onDead: (reason) => this.destroy(reason),
      bytesRead: () => this.options.socket.bytesRead,
      ...(this.options.timers ? { timers: this.options.timers } : {}),
    });
    this.heartbeat.start();
  }

  /**
   * No new requests on this channel (GOAWAY); those in flight finish, then it
   * closes. The gateway's own timeouts bound how long that takes.
   */
  private setDraining(reason: string): void {
    if (this.state === 'closed' || this.state === 'draining') return;
    this.state = 'draining';
    this.closeReason = reason;
    this.emit('drain', reason);
    // A closing session cancels pings ("ping cancelled"), which must not read as a dead peer and cut
    // the requests the drain is waiting for; drainSeconds and the request timeouts bound the wait.
    this.heartbeat?.stop();
    try {
      this.session.close();
    } catch {
      // already closing
    }
    this.closeIfIdle();
  }

  /** A request's stream on this channel. */
  request(headers: Record<string, string | string[]>, endStream: boolean): ClientHttp2Stream {
    const stream = this.session.request(headers, { endStream });
    this.inFlight++;
    stream.once('close', () => {
      this.inFlight--;
      this.closeIfIdle();
    });
    return stream;
  }

  private closeIfIdle(): void {
    if (this.state !== 'draining' || this.inFlight > 0) return;
    // The control stream never ends on its own: once the requests are done, the channel goes (after a moment for the GOAWAY to leave).
    setTimeout(() => this.destroy(this.closeReason ?? 'drained'), 100).unref();
  }

  /**
   * Ends the channel for something the connection point sent: GOAWAY with
   * REFUSED_STREAM and the reason as debug data, so that it logs why and backs
   * off instead of reconnecting at once.
   */
  refuse(reason: string): void {
    if (this.state === 'closed') return;
    try {
      this.session.goaway(constants.NGHTTP2_REFUSED_STREAM, 0, Buffer.from(reason.slice(0, 1000)));
    } catch {
      // the session is already going
    }
    this.close(reason);
  }

  /** Clean close: GOAWAY, streams in flight finish, then the channel closes. */
  close(reason: string): void {
    this.setDraining(reason);
  }

  /** At once: streams in flight fail (502), the socket goes. */
  destroy(reason: string): void {
    this.closeReason ??= reason;
    this.session.destroy();
    this.options.socket.destroy();
    this.end(reason, false);
  }

  private end(reason: string, clean: boolean): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.heartbeat?.stop();
    if (!this.session.destroyed) this.session.destroy();
    this.emit('closed', this.closeReason ?? reason, clean);
  }
}

/** The error code an aborted request stream sends: the connection point then aborts its side. */
export const CANCEL = constants.NGHTTP2_CANCEL;
