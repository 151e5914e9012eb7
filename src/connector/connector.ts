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

/** Everything the connection point reads from certificate files: what SIGHUP reloads as one piece. */
export interface ConnectorMaterial {
  identity: ConnectionPointIdentity;
  subject: string;
  thumbprint: string;
  notAfter: Date;
  /** Its own certificate and key, and the roots that verify the gateway (absent: the system's). */
  tls: { cert: string; key: string; ca?: string[] | undefined };
  /** Roots that verify internal roles (absent: the system's). */
  internalCa: string[] | undefined;
}

/**
 * Reads the connection point's certificate material and checks it against
 * its config: a certificate whose site is not `siteCode` (or that names no
 * connection point) is refused, at start and at reload alike.
 */
export async function loadConnectorMaterial(
  config: ConnectorConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ConnectorMaterial> {
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
    config.internalCaFiles.length > 0 ? readCertificates(config.internalCaFiles) : Promise.resolve(undefined),
  ]);
  return {
    identity,
    subject: own.leaf.subject,
    thumbprint: own.leaf.thumbprint,
    notAfter: own.leaf.notAfter,
    tls: { ...secureContextOf(own), ca: gatewayCas?.map((c) => c.toPem()) },
    internalCa: internalCas?.map((c) => c.toPem()),
  };
}

/**
 * One connection point: `connectionsPerInstance` channels to every gateway
 * port, one forwarder behind them. Its identity (site and id) comes from its
 * own certificate.
 */
export class Connector extends EventEmitter<ConnectorEvents> {
  readonly slots: ChannelSlot[] = [];
  private serial = 0;
  readonly startedAt = Date.now();

  private constructor(
    readonly config: ConnectorConfig,
    private material: ConnectorMaterial,
    readonly forwarder: Forwarder,
    readonly version: string,
  ) {
    super();
    forwarder.on('forwarding', (e) => this.emit('forwarding', e));
    forwarder.on('forwarded', (e) => this.emit('forwarded', e));
  }

  static async create(config: ConnectorConfig, version: string, env = process.env): Promise<Connector> {
    const material = await loadConnectorMaterial(config, env);
    const { identity } = material;
    const forwarder = new Forwarder({
      endpoints: publishedEndpoints(config),
      ca: material.internalCa,
      via: `${identity.id}.${identity.site}.cmg`,
    });
    return new Connector(config, material, forwarder, version);
  }

  get identity(): ConnectionPointIdentity {
    return this.material.identity;
  }

  get certificate(): { subject: string; thumbprint: string; notAfter: string } {
    const m = this.material;
    return { subject: m.subject, thumbprint: m.thumbprint, notAfter: m.notAfter.toISOString() };
  }

  /**
   * New certificate material (SIGHUP): the next channels dial with it and new
   * internal requests verify with it; channels already up stay up. The
   * identity must stay the same: another site or id would need new channels
   * everywhere, which is a restart.
   */
  reload(material: ConnectorMaterial): void {
    const { site, id } = material.identity;
    if (site !== this.identity.site || id !== this.identity.id) {
      throw new Error(
        `the new certificate is for ${site}/${id}, not ${this.identity.site}/${this.identity.id}: restart the connection point to change its identity`,
      );
    }
    this.material = material;
    this.forwarder.setCa(material.internalCa);
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
          tls: () => ({ ...this.material.tls, servername: gateway.serverName }),
          proxy: gateway.proxy,
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

  /**
   * Drains: tells every gateway to stop sending requests on its channels,
   * lets the requests in flight finish (within graceMs) so the gateways'
   * streams complete first, then closes the channels.
   */
  async stop(graceMs: number): Promise<void> {
    for (const slot of this.slots) slot.drain('the connection point is stopping');
    const deadline = Date.now() + graceMs;
    while (this.forwarder.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const slot of this.slots) slot.stop();
    await this.forwarder.close().catch(() => undefined);
  }
}
