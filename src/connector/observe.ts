import { Counter, Gauge, Registry } from 'prom-client';
import type { Readiness } from '../telemetry/admin-server.js';
import { requestMetrics } from '../telemetry/request-metrics.js';
import type { Connector } from './connector.js';

/** What /status shows of a connection point (and what `cmg status` reads). */
export interface ConnectorStatus {
  role: 'connector';
  site: string;
  id: string;
  version: string;
  startedAt: string;
  uptimeSeconds: number;
  draining: boolean;
  certificate: { subject: string; thumbprint: string; notAfter: string };
  proxy: string | null;
  channels: ReturnType<Connector['slots'][number]['describe']>[];
  endpoints: {
    endpoint: string;
    internal: string | null;
    requests: number;
    failed: number;
    bytesIn: number;
    bytesOut: number;
    maxConcurrent: number;
    inFlight: number;
  }[];
  recentErrors: {
    at: string;
    requestId: string;
    method: string;
    internalUrl: string;
    status: number;
    error?: string;
    reason?: string;
  }[];
}

export function connectorStatus(c: Connector, draining: boolean): ConnectorStatus {
  const traffic = new Map(c.forwarder.traffic.lifetime().map((t) => [t.endpoint, t]));
  const endpoints: ConnectorStatus['endpoints'] = c.forwarder.mappings().map((m) => {
    const t = traffic.get(m.external);
    traffic.delete(m.external);
    return {
      endpoint: m.external,
      internal: m.internal,
      requests: t?.requests ?? 0,
      failed: t?.failed ?? 0,
      bytesIn: t?.bytesIn ?? 0,
      bytesOut: t?.bytesOut ?? 0,
      maxConcurrent: t?.maxConcurrent ?? 0,
      inFlight: t?.inFlight ?? 0,
    };
  });
  for (const t of traffic.values()) endpoints.push({ ...t, internal: null });
  return {
    role: 'connector',
    site: c.identity.site,
    id: c.identity.id,
    version: c.version,
    startedAt: new Date(c.startedAt).toISOString(),
    uptimeSeconds: Math.round((Date.now() - c.startedAt) / 1000),
    draining,
    certificate: c.certificate,
    proxy: c.config.gateway.proxy ?? null,
    channels: c.slots.map((s) => s.describe()),
    endpoints: endpoints.sort((a, b) => a.endpoint.localeCompare(b.endpoint)),
    recentErrors: c.forwarder.recentErrors.list().map((r) => ({
      at: r.at,
      requestId: r.requestId,
      method: r.method,
      internalUrl: r.internalUrl,
      status: r.status,
      ...(r.error ? { error: r.error } : {}),
      ...(r.reason ? { reason: r.reason } : {}),
    })),
  };
}

/** Ready: a channel up to every gateway instance (port). */
export function connectorReadiness(c: Connector, draining: boolean): Readiness {
  const up = new Set(c.slots.filter((s) => s.up).map((s) => s.gateway));
  const all = [...new Set(c.slots.map((s) => s.gateway))];
  const reasons = all.filter((g) => !up.has(g)).map((g) => `no channel up to gateway ${g}`);
  if (draining) reasons.unshift('draining');
  return { ready: reasons.length === 0, reasons };
}

export function connectorMetrics(c: Connector): Registry {
  const registry = new Registry();
  const record = requestMetrics(registry, 'cmg_connector', {
    requests: 'Requests forwarded to internal roles, by endpoint (published prefix), status and error code',
    bytes: 'Request and answer body bytes, by endpoint and direction (in: towards the role, out: from it)',
    latency: 'Time from the request on the channel to the end of the answer, by endpoint',
  });
  const reconnects = new Counter({
    name: 'cmg_connector_reconnects_total',
    help: 'Channels that ended and are dialed again, by gateway instance (host:port)',
    labelNames: ['gateway'],
    registers: [registry],
  });
  new Gauge({
    name: 'cmg_connector_channels',
    help: 'Channels to gateway instances, by gateway and state',
    labelNames: ['gateway', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of c.slots) this.inc({ gateway: s.gateway, state: s.describe().state });
    },
  });
  new Gauge({
    name: 'cmg_connector_requests_in_flight',
    help: 'Requests being forwarded',
    registers: [registry],
    collect() {
      this.set(c.forwarder.inFlight);
    },
  });
  c.on('forwarded', record);
  c.on('channel-down', (e) => reconnects.inc({ gateway: e.gateway }));
  return registry;
}
