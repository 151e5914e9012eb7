import { Chalk } from 'chalk';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ConnectorStatus } from '../../src/connector/observe.js';
import type { GatewayStatus } from '../../src/gateway/observe.js';
import { renderReport, stdoutPaint, summaryLine } from '../../src/status/render.js';
import type { ConnectorSource, GatewaySource, StatusReport } from '../../src/status/report.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');
const DAY = 86_400_000;
const plain = { paint: new Chalk({ level: 0 }), now: NOW };
const coloured = { paint: new Chalk({ level: 1 }), now: NOW };
const EP = '/CCM_Proxy_MutualAuth/72057594037927939';

function gatewayStatus(over: Partial<GatewayStatus> = {}): GatewayStatus {
  return {
    role: 'gateway',
    instance: 'gw01:8443',
    version: '0.1.0',
    startedAt: '2025-06-01T09:46:00.000Z',
    uptimeSeconds: 8040,
    draining: false,
    webCertificate: {
      subject: 'CN=cmg.contoso.com',
      thumbprint: 'AB',
      notAfter: new Date(NOW + 212 * DAY).toISOString(),
    },
    sites: [
      {
        site: 'PS1',
        connectionPoints: [
          {
            id: 'cp01',
            channels: [
              {
                channel: 1,
                remote: '10.0.0.5:50312',
                state: 'ready',
                ageSeconds: 7980,
                inFlight: 0,
                software: 'cmg/0.1.0',
              },
              {
                channel: 4,
                remote: '10.0.0.5:50320',
                state: 'draining',
                ageSeconds: 12,
                inFlight: 2,
                software: 'cmg/0.1.0',
              },
            ],
          },
          {
            id: 'cp02',
            channels: [
              {
                channel: 2,
                remote: '10.0.0.6:41000',
                state: 'ready',
                ageSeconds: 7900,
                inFlight: 1,
                software: 'cmg/0.1.0',
              },
            ],
          },
        ],
      },
      { site: 'PS2', connectionPoints: [] },
    ],
    endpoints: [
      {
        endpoint: `${EP}/CCM_System`,
        site: 'PS1',
        healthyConnectionPoints: 2,
        requests: 12_345,
        failed: 3,
        bytesIn: 3_500_000,
        bytesOut: 123_456_789,
        maxConcurrent: 7,
        inFlight: 1,
      },
      {
        endpoint: `${EP}/SMS_MP`,
        site: 'PS1',
        healthyConnectionPoints: 0,
        requests: 0,
        failed: 0,
        bytesIn: 0,
        bytesOut: 0,
        maxConcurrent: 0,
        inFlight: 0,
      },
    ],
    recentErrors: Array.from({ length: 7 }, (_, i) => ({
      at: new Date(NOW - (7 - i) * 60_000).toISOString(),
      id: `r${i}`,
      method: 'GET',
      url: `${EP}/SMS_MP/request-${i}`,
      status: 503,
      error: 'CMGService_NoHealthyConnectionPoint',
      reason: 'no healthy connection point',
    })),
    ...over,
  };
}

function connectorStatus(over: Partial<ConnectorStatus> = {}): ConnectorStatus {
  return {
    role: 'connector',
    site: 'PS1',
    id: 'cp01',
    version: '0.1.0',
    startedAt: '2025-06-01T09:47:00.000Z',
    uptimeSeconds: 7980,
    draining: false,
    certificate: { subject: 'CN=cp01', thumbprint: 'CD', notAfter: new Date(NOW + 400 * DAY).toISOString() },
    proxy: null,
    channels: [
      {
        gateway: 'cmg.contoso.com:10140',
        index: 0,
        state: 'up',
        upSeconds: 7980,
        reconnects: 0,
        lastError: null,
        gatewayInstance: 'gw01:8443',
      },
      {
        gateway: 'cmg.contoso.com:10141',
        index: 0,
        state: 'waiting',
        upSeconds: null,
        reconnects: 14,
        lastError: 'ECONNREFUSED: connect ECONNREFUSED 10.0.0.2:10141',
        gatewayInstance: null,
      },
    ],
    endpoints: [
      {
        endpoint: `${EP}/CCM_System`,
        internal: 'https://mp01.corp.contoso.com/CCM_System',
        requests: 12_345,
        failed: 0,
        bytesIn: 1536,
        bytesOut: 2048,
        maxConcurrent: 3,
        inFlight: 0,
      },
    ],
    recentErrors: [
      {
        at: new Date(NOW - 30_000).toISOString(),
        requestId: 'q1',
        method: 'POST',
        internalUrl: 'https://mp01.corp.contoso.com/CCM_System/request',
        status: 502,
        error: 'CMGConnector_InternalRoleFailed',
      },
    ],
    ...over,
  };
}

function gateway(over: Partial<GatewayStatus> = {}, reasons: string[] = []): GatewaySource {
  const readiness = { ready: reasons.length === 0, reasons };
  return {
    url: 'http://127.0.0.1:9443',
    kind: 'gateway',
    ready: readiness.ready,
    readiness,
    status: gatewayStatus(over),
  };
}

function connector(over: Partial<ConnectorStatus> = {}, reasons: string[] = []): ConnectorSource {
  const readiness = { ready: reasons.length === 0, reasons };
  return {
    url: 'http://127.0.0.1:9444',
    kind: 'connector',
    ready: readiness.ready,
    readiness,
    status: connectorStatus(over),
  };
}

function lines(report: StatusReport, o = plain): string[] {
  return renderReport(report, o).split('\n');
}

/** The line that contains `text`, for asserting on whole lines. */
function lineWith(all: string[], text: string): string {
  const found = all.find((l) => l.includes(text));
  if (found === undefined) throw new Error(`no line with ${JSON.stringify(text)} in:\n${all.join('\n')}`);
  return found;
}

test('gateway: headline with instance, URL and readiness; version, uptime and web certificate', () => {
  const out = lines({ defaults: false, sources: [gateway()] });
  assert.is(out[0], 'Gateway gw01:8443  http://127.0.0.1:9443  ready');
  assert.is(out[1], '  version 0.1.0, up 2h 14m (since 2025-06-01T09:46:00.000Z)');
  assert.is(out[2], '  web certificate CN=cmg.contoso.com, expires 2025-12-30 (in 212 days)');
});

test('gateway: sites with their connection points and channels, one row per channel', () => {
  const out = lines({ defaults: false, sources: [gateway()] });
  assert.is(
    lineWith(out, 'SITE'),
    '  SITE  CONNECTION POINT  CHANNEL  STATE        AGE  IN FLIGHT  REMOTE          SOFTWARE',
  );
  assert.is(
    lineWith(out, '#1 '),
    '  PS1   cp01              #1       ready     2h 13m          0  10.0.0.5:50312  cmg/0.1.0',
  );
  assert.is(
    lineWith(out, '#4 '),
    '                          #4       draining     12s          2  10.0.0.5:50320  cmg/0.1.0',
  );
  assert.is(
    lineWith(out, '#2 '),
    '        cp02              #2       ready     2h 11m          1  10.0.0.6:41000  cmg/0.1.0',
  );
  assert.is(lineWith(out, 'PS2'), '  PS2   none connected');
});

test('gateway: endpoints with counts, human byte units and healthy connection points, aligned', () => {
  const out = lines({ defaults: false, sources: [gateway()] });
  const header = lineWith(out, 'ENDPOINT');
  const row = lineWith(out, `${EP}/CCM_System`);
  assert.match(row, /PS1\s+2\s+12,345\s+3\s+3\.3 MiB\s+118 MiB\s+7\s+1$/);
  assert.match(lineWith(out, `${EP}/SMS_MP`), /PS1\s+0\s+0\s+0\s+0 B\s+0 B\s+0\s+0$/);
  // Right-aligned: each number ends where its header ends.
  assert.is(row.indexOf('12,345') + '12,345'.length, header.indexOf('REQUESTS') + 'REQUESTS'.length);
  assert.is(row.indexOf('118 MiB') + '118 MiB'.length, header.indexOf('BYTES OUT') + 'BYTES OUT'.length);
});

test('gateway: the last five errors, newest first, with their age, request and code', () => {
  const out = lines({ defaults: false, sources: [gateway()] });
  assert.ok(out.includes('  Recent errors (newest first, 5 of 7)'));
  const rows = out.filter((l) => l.includes('/SMS_MP/request-'));
  assert.is(rows.length, 5);
  assert.match(
    rows[0] ?? '',
    /^ {2}1m 0s ago\s+503\s+GET \/CCM_Proxy_MutualAuth\/\d+\/SMS_MP\/request-6\s+CMGService_NoHealthyConnectionPoint: no healthy connection point$/,
  );
  assert.match(rows[4] ?? '', 'request-2');
  assert.ok(
    lines({ defaults: false, sources: [gateway({ recentErrors: [] })] }).includes('  Recent errors: none'),
  );
});

test('gateway: not ready shows NOT READY and each reason; no site, no endpoint say so', () => {
  const out = lines({
    defaults: false,
    sources: [gateway({ sites: [], endpoints: [] }, ['draining', 'no healthy channel for site PS1'])],
  });
  assert.is(out[0], 'Gateway gw01:8443  http://127.0.0.1:9443  NOT READY');
  assert.is(out[1], '  ! draining');
  assert.is(out[2], '  ! no healthy channel for site PS1');
  assert.ok(out.includes('  Sites and connection points: no site served'));
  assert.ok(out.includes('  Endpoints: none published yet'));
});

test('certificates: a warning under 30 days, an error once expired', () => {
  const soon = gateway({
    webCertificate: { subject: 'CN=cmg', thumbprint: 'x', notAfter: new Date(NOW + 12 * DAY).toISOString() },
  });
  assert.ok(
    lines({ defaults: false, sources: [soon] }).includes(
      '  web certificate CN=cmg, expires 2025-06-13 (in 12 days): renew it soon',
    ),
  );
  const yellow = renderReport({ defaults: false, sources: [soon] }, coloured);
  assert.match(yellow, '\x1b[33mexpires 2025-06-13 (in 12 days): renew it soon\x1b[39m');
  const gone = connector({
    certificate: { subject: 'CN=cp01', thumbprint: 'y', notAfter: new Date(NOW - 3 * DAY).toISOString() },
  });
  assert.ok(
    lines({ defaults: false, sources: [gone] }).includes(
      '  certificate CN=cp01, EXPIRED 2025-05-29 (expired 3 days ago)',
    ),
  );
});

test('connection point: site/id, readiness with reasons, channels to each gateway with last error', () => {
  const out = lines({
    defaults: false,
    sources: [connector({}, ['no channel up to gateway cmg.contoso.com:10141'])],
  });
  assert.is(out[0], 'Connection point PS1/cp01  http://127.0.0.1:9444  NOT READY');
  assert.is(out[1], '  ! no channel up to gateway cmg.contoso.com:10141');
  assert.is(
    lineWith(out, 'GATEWAY'),
    '  GATEWAY                #  STATE    UP FOR  RECONNECTS  INSTANCE   LAST ERROR',
  );
  assert.is(
    lineWith(out, ':10140  0'),
    '  cmg.contoso.com:10140  0  up       2h 13m           0  gw01:8443  -',
  );
  assert.is(
    lineWith(out, ':10141  0'),
    '  cmg.contoso.com:10141  0  waiting       -          14  -          ECONNREFUSED: connect ECONNREFUSED 10.0.0.2:10141',
  );
});

test('connection point: endpoints with traffic and internal URL; recent errors; the proxy when there is one', () => {
  const out = lines({ defaults: false, sources: [connector({ proxy: 'http://proxy.corp:3128' })] });
  assert.match(
    lineWith(out, `${EP}/CCM_System  `),
    /12,345\s+0\s+1\.5 KiB\s+2 KiB\s+3\s+0\s+https:\/\/mp01\.corp\.contoso\.com\/CCM_System$/,
  );
  assert.match(
    lineWith(out, 'POST'),
    /30s ago\s+502\s+POST https:\/\/mp01\S+\/request\s+CMGConnector_InternalRoleFailed$/,
  );
  assert.ok(out.includes('  through the web proxy http://proxy.corp:3128'));
});

test('a source that did not answer: NO ANSWER and the error; with defaults, one quiet line', () => {
  const error = 'cannot reach the gateway at http://127.0.0.1:9450: connection refused (ECONNREFUSED)';
  const failed = { url: 'http://127.0.0.1:9450', kind: 'gateway' as const, error };
  const out = lines({ defaults: false, sources: [connector(), failed] });
  assert.ok(out.includes('Gateway http://127.0.0.1:9450  NO ANSWER'));
  assert.ok(out.includes(`  ${error}`));
  const quiet = lines({
    defaults: true,
    sources: [
      gateway(),
      { url: 'http://127.0.0.1:9444', kind: 'connector', error: 'cannot reach the connection point at x' },
    ],
  });
  assert.ok(quiet.includes('cannot reach the connection point at x (the default connection point address)'));
});

test('sections are separated by a blank line; the summary comes last', () => {
  const out = lines({ defaults: false, sources: [gateway(), connector()] });
  const at = out.indexOf('Connection point PS1/cp01  http://127.0.0.1:9444  ready');
  assert.ok(at > 0);
  assert.is(out[at - 1], '');
  assert.is(out.at(-2), 'All 2 sources ready');
  assert.is(out.at(-1), '', 'ends with a newline');
});

test('summary: counts ready, not ready and not answering; defaults count only what answered', () => {
  const failed = { url: 'http://x:1', kind: 'gateway' as const, error: 'e' };
  assert.is(summaryLine({ defaults: false, sources: [gateway()] }, plain), '1 source, ready');
  assert.is(
    summaryLine({ defaults: false, sources: [gateway(), connector({}, ['r']), failed] }, plain),
    '1 ready, 1 not ready, 1 not answering (of 3 sources)',
  );
  assert.is(
    summaryLine({ defaults: true, sources: [gateway(), failed] }, plain),
    '1 ready (asked the default admin addresses)',
  );
  assert.match(
    summaryLine({ defaults: true, sources: [failed, failed] }, plain),
    /^No gateway or connection point answered/,
  );
});

test('colour: states and readiness are coloured at level 1, nothing is at level 0', () => {
  const report: StatusReport = { defaults: false, sources: [gateway({}, ['x']), connector()] };
  const text = renderReport(report, coloured);
  assert.match(text, '\x1b[31m\x1b[1mNOT READY');
  assert.match(text, '\x1b[32mready\x1b[39m');
  assert.match(text, '\x1b[33mdraining\x1b[39m');
  assert.match(text, '\x1b[31mwaiting\x1b[39m');
  assert.not.match(renderReport(report, plain), '\x1b[');
});

test('stdoutPaint: NO_COLOR (not empty) turns colour off; otherwise the detected level stands', () => {
  assert.is(stdoutPaint({ NO_COLOR: '1' }, 3).level, 0);
  assert.is(stdoutPaint({ NO_COLOR: '' }, 2).level, 2);
  assert.is(stdoutPaint({}, 1).level, 1);
  assert.is(stdoutPaint({}, 0).level, 0);
});

test.run();
