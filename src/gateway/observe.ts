import { Counter, Gauge, Registry } from 'prom-client';
import type { Readiness } from '../telemetry/admin-server.js';
import { requestMetrics } from '../telemetry/request-metrics.js';
import { type Gateway, UNROUTED } from './gateway.js';

/** What /status shows of a gateway (and what `cmg status` reads). */
export interface GatewayStatus {
  role: 'gateway';
  instance: string;
  version: string;
  startedAt: string;
  uptimeSeconds: number;
  draining: boolean;
  webCertificate: { subject: string; thumbprint: string; notAfter: string };
  sites: {
    site: string;
    connectionPoints: {
      id: string;
      channels: {
        channel: number;
        remote: string;
        state: string;
        ageSeconds: number;
        inFlight: number;
        software: string;
      }[];
    }[];
  }[];
  endpoints: {
    endpoint: string;
    site: string | null;
    healthyConnectionPoints: number;
    requests: number;
    failed: number;
    bytesIn: number;
    bytesOut: number;
    maxConcurrent: number;
    inFlight: number;
  }[];
  recentErrors: {
    at: string;
    id: string;
    method: string;
    url: string;
    status: number;
    error?: string;
    reason?: string;
  }[];
}

export function gatewayStatus(
  g: Gateway,
  sites: string[],
  version: string,
  draining: boolean,
): GatewayStatus {
  const now = Date.now();
  const bySite = new Map<string, Map<string, GatewayStatus['sites'][number]['connectionPoints'][number]>>();
  for (const site of sites) bySite.set(site, new Map());
  for (const ch of g.registry.channels) {
    const points = bySite.get(ch.identity.site) ?? new Map();
    bySite.set(ch.identity.site, points);
    const point = points.get(ch.identity.id) ?? { id: ch.identity.id, channels: [] };
    points.set(ch.identity.id, point);
    point.channels.push({
      channel: ch.id,
      remote: ch.remote,
      state: ch.state,
      ageSeconds: Math.round((now - ch.openedAt) / 1000),
      inFlight: ch.inFlight,
      software: ch.manifest?.software ?? '',
    });
  }
  const traffic = new Map(g.traffic.lifetime().map((t) => [t.endpoint, t]));
  const endpoints: GatewayStatus['endpoints'] = [];
  for (const { prefix, value } of g.registry.routes.values()) {
    const t = traffic.get(prefix);
    traffic.delete(prefix);
    endpoints.push({
      endpoint: prefix,
      site: value.site,
      healthyConnectionPoints: new Set([...value.channels].filter((c) => c.usable).map((c) => c.identity.id))
        .size,
      requests: t?.requests ?? 0,
      failed: t?.failed ?? 0,
      bytesIn: t?.bytesIn ?? 0,
      bytesOut: t?.bytesOut ?? 0,
      maxConcurrent: t?.maxConcurrent ?? 0,
      inFlight: t?.inFlight ?? 0,
    });
  }
  for (const t of traffic.values()) endpoints.push({ ...t, site: null, healthyConnectionPoints: 0 });
  const cert = g.webCertificate;
  return {
    role: 'gateway',
    instance: g.instance,
    version,
    startedAt: new Date(g.startedAt).toISOString(),
    uptimeSeconds: Math.round((now - g.startedAt) / 1000),
    draining,
    webCertificate: {
      subject: cert.subject,
      thumbprint: cert.thumbprint,
      notAfter: cert.notAfter.toISOString(),
    },
    sites: [...bySite].map(([site, points]) => ({ site, connectionPoints: [...points.values()] })),
    endpoints: endpoints.sort((a, b) => a.endpoint.localeCompare(b.endpoint)),
    recentErrors: g.recentErrors.list().map((r) => ({
      at: r.at,
      id: r.id,
      method: r.method,
      url: r.url,
      status: r.status,
      ...(r.error ? { error: r.error } : {}),
      ...(r.reason ? { reason: r.reason } : {}),
    })),
  };
}

/** Ready: every served site has at least one usable channel. */
export function gatewayReadiness(g: Gateway, sites: string[], draining: boolean): Readiness {
  const healthy = g.registry.healthyPoints();
  const reasons = sites.filter((s) => !healthy.has(s)).map((s) => `no healthy channel for site ${s}`);
  if (draining) reasons.unshift('draining');
  return { ready: reasons.length === 0, reasons };
}

/** The gateway's Prometheus metrics, fed by its events and read from its state at scrape time. */
export function gatewayMetrics(g: Gateway): Registry {
  const registry = new Registry();
  const record = requestMetrics(registry, 'cmg_gateway', {
    requests: 'Client requests answered, by endpoint (published prefix), status and error code',
    bytes: 'Request and answer body bytes, by endpoint and direction (in: from clients, out: to clients)',
    latency: 'Time from the request head to the end of the answer, by endpoint',
  });
  const tlsFailures = new Counter({
    name: 'cmg_gateway_tls_handshake_failures_total',
    help: 'Client and connection point TLS handshakes that failed, by reason',
    labelNames: ['reason'],
    registers: [registry],
  });
  const channelEvents = new Counter({
    name: 'cmg_gateway_channel_events_total',
    help: 'Channels opened, closed and refused, by site',
    labelNames: ['site', 'event'],
    registers: [registry],
  });
  new Gauge({
    name: 'cmg_gateway_client_connections',
    help: 'Open client connections',
    registers: [registry],
    collect() {
      this.set(g.clientConnections);
    },
  });
  new Gauge({
    name: 'cmg_gateway_requests_in_flight',
    help: 'Client requests being answered',
    registers: [registry],
    collect() {
      this.set(g.requestsInFlight());
    },
  });
  new Gauge({
    name: 'cmg_gateway_channels',
    help: 'Channels from connection points, by site, connection point and state',
    labelNames: ['site', 'connection_point', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const ch of g.registry.channels)
        this.inc({ site: ch.identity.site, connection_point: ch.identity.id, state: ch.state });
    },
  });
  g.on('request', (r) => record({ ...r, endpoint: r.endpoint ?? UNROUTED }));
  g.on('tls-error', (e) => tlsFailures.inc({ reason: e.code }));
  g.on('channel-up', (ch) => channelEvents.inc({ site: ch.identity.site, event: 'up' }));
  g.on('channel-down', (ch) => channelEvents.inc({ site: ch.identity.site, event: 'down' }));
  g.on('channel-refused', () => channelEvents.inc({ site: '', event: 'refused' }));
  return registry;
}
