import { humanBytes, humanCount, humanDuration } from './format.js';
import type { GatewaySource } from './report.js';
import {
  certificateLine,
  headline,
  paintBad,
  paintState,
  type RenderOptions,
  recentErrorsTable,
  titledTable,
  versionLine,
} from './view-parts.js';

/** One gateway instance for people: readiness, certificate, sites and channels, endpoints, recent errors. */
export function renderGateway(source: GatewaySource, o: RenderOptions): string[] {
  const p = o.paint;
  const s = source.status;
  const lines = [
    ...headline(o, 'Gateway', s.instance, source.url, source.readiness),
    versionLine(o, s.version, s.uptimeSeconds, s.startedAt),
    certificateLine(o, 'web certificate', s.webCertificate),
  ];

  const channelRows: string[][] = [];
  for (const site of s.sites) {
    if (site.connectionPoints.length === 0) {
      channelRows.push([site.site, p.red('none connected')]);
      continue;
    }
    site.connectionPoints.forEach((cp, i) => {
      cp.channels.forEach((ch, j) => {
        channelRows.push([
          i === 0 && j === 0 ? site.site : '',
          j === 0 ? cp.id : '',
          `#${ch.channel}`,
          paintState(o, ch.state),
          humanDuration(ch.ageSeconds),
          String(ch.inFlight),
          ch.remote,
          ch.software,
        ]);
      });
    });
  }
  lines.push(
    ...titledTable(
      o,
      'Sites and connection points',
      [
        { header: 'SITE' },
        { header: 'CONNECTION POINT' },
        { header: 'CHANNEL' },
        { header: 'STATE' },
        { header: 'AGE', align: 'right' },
        { header: 'IN FLIGHT', align: 'right' },
        { header: 'REMOTE' },
        { header: 'SOFTWARE' },
      ],
      channelRows,
      'no site served',
    ),
  );

  lines.push(
    ...titledTable(
      o,
      'Endpoints',
      [
        { header: 'ENDPOINT' },
        { header: 'SITE' },
        { header: 'HEALTHY CPS', align: 'right' },
        { header: 'REQUESTS', align: 'right' },
        { header: 'FAILED', align: 'right' },
        { header: 'BYTES IN', align: 'right' },
        { header: 'BYTES OUT', align: 'right' },
        { header: 'MAX CONC', align: 'right' },
        { header: 'IN FLIGHT', align: 'right' },
      ],
      s.endpoints.map((e) => [
        e.endpoint,
        e.site ?? p.dim('-'),
        e.healthyConnectionPoints > 0 ? String(e.healthyConnectionPoints) : p.red('0'),
        humanCount(e.requests),
        paintBad(o, e.failed, humanCount(e.failed)),
        humanBytes(e.bytesIn),
        humanBytes(e.bytesOut),
        String(e.maxConcurrent),
        String(e.inFlight),
      ]),
      'none published yet',
    ),
  );

  lines.push(
    ...recentErrorsTable(
      o,
      s.recentErrors.map((r) => ({ ...r, request: `${r.method} ${r.url}` })),
    ),
  );
  return lines;
}
