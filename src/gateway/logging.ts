import type { CmtraceLogger } from '../logs/logger.js';
import type { Gateway, RequestRecord } from './gateway.js';

export type OpenLog = (file: string, component: string) => CmtraceLogger;

/** One CMGHttpHandler.log line: everything needed to follow a request at 3 a.m. */
export function requestLine(r: RequestRecord): string {
  return (
    `${r.id} ${r.method} ${r.url} -> ${r.status || 'no answer'} in ${r.ms} ms, ` +
    `${r.bytesIn} bytes in, ${r.bytesOut} bytes out, client ${r.clientIp}, ` +
    `certificate ${r.thumbprint ?? 'none'}, connection point ${r.connectionPoint ?? '-'}` +
    (r.error ? `, error ${r.error}${r.reason ? ` (${r.reason})` : ''}` : '')
  );
}

/** The gateway daemon's logs: CMGHttpHandler.log (requests) and CMGService.log (service, channels). */
export function logGatewayEvents(gateway: Gateway, open: OpenLog): { service: CmtraceLogger } {
  const http = open('CMGHttpHandler.log', 'CMGHttpHandler');
  const service = open('CMGService.log', 'CMGService');
  gateway.on('request', (r) => {
    const line = requestLine(r);
    if (r.status >= 500 || r.status === 0) http.error(line);
    else if (r.error) http.warning(line);
    else http.info(line);
  });
  gateway.on('listening', (a) =>
    service.info(
      `gateway ${gateway.instance} listening for clients on ${a.clients}` +
        (a.channels
          ? `, for connection points on ${a.channels}`
          : ', connection points on the same port (ALPN)'),
    ),
  );
  gateway.on('channel-up', (ch) =>
    service.info(
      `channel up: connection point ${ch.label}, ${ch.manifest?.endpoints.length ?? 0} endpoints published (${ch.manifest?.software ?? '?'}, heartbeat ${ch.manifest?.heartbeatSeconds ?? '?'} s)`,
    ),
  );
  gateway.on('channel-down', (ch, reason) =>
    service.warning(`channel down: connection point ${ch.label}: ${reason}`),
  );
  gateway.on('channel-refused', (e) =>
    service.error(
      `connection point refused from ${e.remote}${e.subject ? ` (${e.subject})` : ''}: ${e.reason}`,
    ),
  );
  gateway.on('route-conflict', (c) =>
    service.error(
      `connection point ${c.channel.label} published ${c.prefix}, which site ${c.site} already publishes: not routed to it`,
    ),
  );
  gateway.on('internal-error', (e) =>
    service.error(
      `unexpected error (a bug in cmg; please report it with this line) in ${e.where}: ${e.error.stack ?? e.error.message}`,
    ),
  );
  gateway.on('tls-error', (e) => service.warning(`TLS handshake with ${e.remote} failed: ${e.reason}`));
  return { service };
}
