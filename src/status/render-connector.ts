import { humanBytes, humanCount, humanDuration } from './format.js';
import type { ConnectorSource } from './report.js';
import {
  certificateLine,
  headline,
  INDENT,
  paintBad,
  paintState,
  type RenderOptions,
  recentErrorsTable,
  titledTable,
  versionLine,
} from './view-parts.js';

/** One connection point for people: readiness, channels to each gateway, endpoints, recent errors. */
export function renderConnector(source: ConnectorSource, o: RenderOptions): string[] {
  const p = o.paint;
  const s = source.status;
  const lines = [
    ...headline(o, 'Connection point', `${s.site}/${s.id}`, source.url, source.readiness),
    versionLine(o, s.version, s.uptimeSeconds, s.startedAt),
    certificateLine(o, 'certificate', s.certificate),
  ];
  if (s.proxy) lines.push(`${' '.repeat(INDENT)}through the web proxy ${s.proxy}`);

  lines.push(
    ...titledTable(
      o,
      'Channels',
      [
        { header: 'GATEWAY' },
        { header: '#', align: 'right' },
        { header: 'STATE' },
        { header: 'UP FOR', align: 'right' },
        { header: 'RECONNECTS', align: 'right' },
        { header: 'INSTANCE' },
        { header: 'LAST ERROR' },
      ],
      s.channels.map((c) => [
        c.gateway,
        String(c.index),
        paintState(o, c.state),
        humanDuration(c.upSeconds),
        String(c.reconnects),
        c.gatewayInstance ?? p.dim('-'),
        c.lastError === null ? p.dim('-') : c.state === 'up' ? p.dim(c.lastError) : p.red(c.lastError),
      ]),
      'no gateway port configured',
    ),
  );

  lines.push(
    ...titledTable(
      o,
      'Endpoints',
      [
        { header: 'ENDPOINT' },
        { header: 'REQUESTS', align: 'right' },
        { header: 'FAILED', align: 'right' },
        { header: 'BYTES IN', align: 'right' },
        { header: 'BYTES OUT', align: 'right' },
        { header: 'MAX CONC', align: 'right' },
        { header: 'IN FLIGHT', align: 'right' },
        { header: 'INTERNAL' },
      ],
      s.endpoints.map((e) => [
        e.endpoint,
        humanCount(e.requests),
        paintBad(o, e.failed, humanCount(e.failed)),
        humanBytes(e.bytesIn),
        humanBytes(e.bytesOut),
        String(e.maxConcurrent),
        String(e.inFlight),
        e.internal ?? p.dim('(no longer published)'),
      ]),
      'none published',
    ),
  );

  lines.push(
    ...recentErrorsTable(
      o,
      s.recentErrors.map((r) => ({ ...r, request: `${r.method} ${r.internalUrl}` })),
    ),
  );
  return lines;
}
