import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { type ConnectionPointIdentity, connectionPointIdentity } from '../certs/identity.js';
import { readCertificates } from '../certs/read.js';
import { loadTlsIdentity, secureContextOf } from '../certs/tls-identity.js';
import type { Manifest } from '../channel/control.js';
import { CHANNEL_PROTOCOL_VERSION } from '../channel/protocol.js';
import type { ConnectorConfig } from '../config/connector.js';
import { ConfigError } from '../errors.js';
import { Backoff } from './backoff.js';
import { ChannelSlot, type SlotEvents } from './channel-slot.js';
import { publishedEndpoints } from './endpoints.js';
import { Forwarder, type ForwarderEvents } from './forwarder.js';

export interface ConnectorEvents {
  'channel-up': [SlotEvents['up'][0] & { index: number }];
  'channel-down': [SlotEvents['down'][0] & { index: number }];
  forwarding: ForwarderEvents['forwarding'];
  forwarded: ForwarderEvents['forwarded'];
}

/** Backoff between attempts to dial a gateway port: from half a second up to half a minute. */
const BACKOFF = { baseMs: 500, maxMs: 30_000 };

/**
 * One connection point: `connectionsPerInstance` channels to every gateway
 * port, one forwarder behind them. Its identity (site and id) comes from its
 * own certificate; a config whose siteCode differs is refused at start.
 */
export class Connector extends EventEmitter<ConnectorEvents> {
  private readonly slots: ChannelSlot[] = [];
  private serial = 0;

  private constructor(
    readonly config: ConnectorConfig,
    readonly identity: ConnectionPointIdentity,
    private readonly forwarder: Forwarder,
    private readonly tls: { cert: string; key: string; ca?: string[] | undefined },
    readonly version: string,
  ) {
    super();
    forwarder.on('forwarding', (e) => this.emit('forwarding', e));
    forwarder.on('forwarded', (e) => this.emit('forwarded', e));
  }

  static async create(config: ConnectorConfig, version: string, env = process.env): Promise<Connector> {
    if (config.gateway.proxy !== undefined) {
      // Accepting the key and dialing direct would quietly bypass the proxy an admin asked for.
      throw new ConfigError(
        config.source,
        [
          {
            path: 'gateway.proxy',
            message: 'outbound proxy support is not in this version of cmg connect yet',
          },
        ],
        { hint: 'Remove gateway.proxy and allow the connection point to reach the gateway ports directly.' },
      );
    }
    const own = await loadTlsIdentity(config.tls, env);
    const identity = connectionPointIdentity(own.leaf);
    const certFile = config.tls.kind === 'pem' ? config.tls.certFile : config.tls.pfxFile;
    if (!identity || identity.site !== config.siteCode.toUpperCase()) {
      throw new ConfigError(
        config.source,
        [
          {
            path: 'siteCode',
            message: identity
              ? `is ${config.siteCode.toUpperCase()}, but the certificate ${certFile} is for site ${identity.site} (${own.leaf.subject})`
              : `the certificate ${certFile} (${own.leaf.subject}) has no urn:cmg:site:<SITE>:connection-point:<ID> name`,
          },
        ],
        {
          hint: identity
            ? 'Use the certificate issued for this site, or correct siteCode.'
            : 'Issue a connection point certificate with: cmg certs issue --profile connection-point ...',
        },
      );
    }
    const [gatewayCas, internalCas] = await Promise.all([
      config.gateway.caFiles ? readCertificates(config.gateway.caFiles) : Promise.resolve(undefined),
      config.internalCaFiles.length > 0
        ? readCertificates(config.internalCaFiles)
        : Promise.resolve(undefined),
    ]);
    const forwarder = new Forwarder({
      endpoints: publishedEndpoints(config),
      ca: internalCas?.map((c) => c.toPem()),
      via: `${identity.id}.${identity.site}.cmg`,
    });
    return new Connector(
      config,
      identity,
      forwarder,
      { ...secureContextOf(own), ca: gatewayCas?.map((c) => c.toPem()) },
      version,
    );
  }

  manifest(): Manifest {
    return {
      type: 'manifest',
      protocol: CHANNEL_PROTOCOL_VERSION,
      serial: this.serial,
      software: `cmg ${this.version} on ${hostname()}`,
      heartbeatSeconds: this.config.heartbeatSeconds,
      // Only the external prefixes and limits: internal host names stay on premises.
      endpoints: publishedEndpoints(this.config).map((e) => ({
        external: e.external,
        ...(e.maxContentLength === undefined ? {} : { maxContentLength: e.maxContentLength }),
      })),
    };
  }

  start(): void {
    const { gateway, connectionsPerInstance } = this.config;
    for (const port of gateway.ports) {
      for (let index = 0; index < connectionsPerInstance; index++) {
        const slot = new ChannelSlot({
          host: gateway.host,
          port,
          index,
          tls: { ...this.tls, servername: gateway.serverName },
          manifest: () => this.manifest(),
          forwarder: this.forwarder,
          heartbeatMs: this.config.heartbeatSeconds * 1000,
          backoff: new Backoff(BACKOFF),
        });
        slot.on('up', (e) => this.emit('channel-up', { ...e, index }));
        slot.on('down', (e) => this.emit('channel-down', { ...e, index }));
        this.slots.push(slot);
        slot.start();
      }
    }
  }

  get channelsUp(): number {
    return this.slots.filter((s) => s.up).length;
  }

  /** Drains: the gateways stop sending new requests, those in flight finish (within graceMs), then the channels close. */
  async stop(graceMs: number): Promise<void> {
    for (const slot of this.slots) slot.drain('the connection point is stopping');
    const deadline = Date.now() + graceMs;
    while (this.forwarder.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const slot of this.slots) slot.stop();
    await this.forwarder.close().catch(() => undefined);
  }
}
