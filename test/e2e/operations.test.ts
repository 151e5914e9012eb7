/**
 * Operating the daemons, with real processes: the admin endpoint (/healthz,
 * /readyz, /metrics, /status) of both, traffic reports, SIGHUP reloading the
 * web certificate (and keeping the old one when the new files are broken),
 * SIGTERM draining an upload in flight, and a connection point that reaches
 * its gateway through an HTTP CONNECT proxy.
 */
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer as createNetServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { StandInMp } from '../../src/demo/management-point.js';
import {
  adminGet,
  adminUrlOf,
  clientRequest,
  type Daemon,
  editConfig,
  freePort,
  type GatewayPorts,
  generatedBody,
  issueWebCertificate,
  killAll,
  type LabPki,
  MP_BASE,
  makeLabPki,
  metricValue,
  rawConnection,
  readUntil,
  SERVICE,
  servedCertificate,
  sha256Of,
  startDaemon,
  startMp,
  statusLines,
  tempLabDir,
  waitUntil,
  writeConnectorConfig,
  writeGatewayConfig,
} from '../helpers/cluster.js';

const test = suite('operations: admin endpoint, reports, reload, drain, proxy (e2e)');

const ENDPOINT = `${MP_BASE}/CCM_System`;
const ECHO = `${ENDPOINT}/echo`;
const BIG = 32 * 1024 * 1024;

interface World {
  pki: LabPki;
  mp: StandInMp;
  /** Gateway A (trafficReportSeconds 1) and gateway B; cp01 dials both. */
  ports: { a: GatewayPorts; b: GatewayPorts };
  configs: Record<string, string>;
  daemons: Record<string, Daemon>;
  admin: Record<string, string>;
  remove(): void;
}
let w: World;

/** Starts `cmg serve`/`cmg connect` with the config written under `name` and learns its admin URL. */
async function start(name: string, kind: 'serve' | 'connect'): Promise<Daemon> {
  const d = startDaemon(name, [kind, '--config', w.configs[name] as string], w.pki.dir);
  w.daemons[name] = d;
  w.admin[name] = await adminUrlOf(d);
  return d;
}

const daemon = (name: string) => w.daemons[name] as Daemon;
const admin = (name: string) => w.admin[name] as string;

async function scrape(name: string): Promise<string> {
  const a = await adminGet(admin(name), '/metrics');
  assert.is(a.status, 200, `${name} /metrics`);
  return a.text;
}

async function readiness(name: string): Promise<{ status: number; ready: boolean; reasons: string[] }> {
  const a = await adminGet(admin(name), '/readyz');
  return { status: a.status, ...a.json<{ ready: boolean; reasons: string[] }>() };
}

/** Until a GET through the gateway is served (200). */
async function waitServed(port: number, what: string): Promise<void> {
  await waitUntil(
    what,
    async () => (await clientRequest(w.pki, { port, path: ECHO, cert: 'client' })).status === 200,
    20_000,
    100,
  );
}

/** A GET on an open keep-alive connection; the answer is read whole (Content-Length). */
async function getOn(socket: Awaited<ReturnType<typeof rawConnection>>, path: string): Promise<number[]> {
  socket.write(`GET ${path} HTTP/1.1\r\nHost: ${SERVICE}\r\n\r\n`);
  const text = await readUntil(socket, (t) => {
    const end = t.indexOf('\r\n\r\n');
    const length = /\r\ncontent-length: (\d+)/i.exec(t.slice(0, end));
    return end >= 0 && length !== null && t.length - end - 4 >= Number(length[1]);
  });
  return statusLines(text);
}

/** True when a TCP connection to the port is refused (nothing listens any more). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: Error & { code?: string }) => resolve(err.code === 'ECONNREFUSED'));
  });
}

test.before(async () => {
  const tmp = tempLabDir('cmg-e2e-operations-');
  const pki = await makeLabPki(tmp.dir);
  const mp = await startMp(pki);
  const ports = {
    a: { listen: await freePort(), channel: await freePort() },
    b: { listen: await freePort(), channel: await freePort() },
  };
  const reportEverySecond = (c: Record<string, unknown>) => {
    c.trafficReportSeconds = 1;
    c.drainSeconds = 5;
  };
  const configs: Record<string, string> = {
    'gateway-a': editConfig(writeGatewayConfig(pki, 'gateway-a', ports.a), reportEverySecond),
    'gateway-b': writeGatewayConfig(pki, 'gateway-b', ports.b),
    cp01: editConfig(
      writeConnectorConfig(pki, 'cp01', {
        cert: 'cp01',
        gatewayPorts: [ports.a.channel, ports.b.channel],
        mpUrl: mp.url,
      }),
      reportEverySecond,
    ),
  };
  w = { pki, mp, ports, configs, daemons: {}, admin: {}, remove: tmp.remove };
  await Promise.all([start('gateway-a', 'serve'), start('gateway-b', 'serve')]);
  await start('cp01', 'connect');
  await waitServed(ports.a.listen, 'cp01 to serve through gateway A');
  await waitServed(ports.b.listen, 'cp01 to serve through gateway B');
});

test.after(async () => {
  await killAll();
  await w?.mp.close();
  w?.remove();
});

test('admin endpoint of both daemons: /healthz, /status, 404 for other paths, GET and HEAD only', async () => {
  for (const name of ['gateway-a', 'cp01']) {
    const health = await adminGet(admin(name), '/healthz');
    assert.is(health.status, 200, name);
    assert.is(health.text, 'ok\n');
    const other = await adminGet(admin(name), '/nothing-here');
    assert.is(other.status, 404, name);
    assert.is((await adminGet(admin(name), '/readyz', 'POST')).status, 405, name);
    const head = await adminGet(admin(name), '/healthz', 'HEAD');
    assert.equal([head.status, head.text], [200, ''], name);
  }
  const g = (await adminGet(admin('gateway-a'), '/status')).json<{
    role: string;
    draining: boolean;
    sites: { site: string; connectionPoints: { id: string; channels: { state: string }[] }[] }[];
    endpoints: { endpoint: string; site: string | null; healthyConnectionPoints: number }[];
  }>();
  assert.is(g.role, 'gateway');
  assert.is(g.draining, false);
  assert.equal(
    g.sites.map((s) => [s.site, s.connectionPoints.map((p) => [p.id, p.channels.map((c) => c.state)])]),
    [['PS1', [['cp01', ['ready']]]]],
  );
  const e = g.endpoints.find((x) => x.endpoint === ENDPOINT);
  assert.equal(e && [e.site, e.healthyConnectionPoints], ['PS1', 1], JSON.stringify(g.endpoints));
  const c = (await adminGet(admin('cp01'), '/status')).json<{
    role: string;
    site: string;
    id: string;
    proxy: string | null;
    channels: { gateway: string; state: string }[];
  }>();
  assert.equal([c.role, c.site, c.id, c.proxy], ['connector', 'PS1', 'cp01', null]);
  assert.equal(
    c.channels.map((ch) => [ch.gateway, ch.state]),
    [
      [`127.0.0.1:${w.ports.a.channel}`, 'up'],
      [`127.0.0.1:${w.ports.b.channel}`, 'up'],
    ],
  );
});

test('metrics move with real traffic: requests, body bytes and latency on both daemons, a 403 with its code, the channel ready', async () => {
  const N = 5;
  const body = 'x'.repeat(300);
  const gw0 = await scrape('gateway-a');
  const cp0 = await scrape('cp01');
  let out = 0;
  for (let i = 0; i < N; i++) {
    const a = await clientRequest(w.pki, {
      port: w.ports.a.listen,
      method: 'CCM_POST',
      path: `${ECHO}/metrics`,
      body,
      cert: 'client',
    });
    assert.is(a.status, 200);
    out += a.bytes;
  }
  const denied = await clientRequest(w.pki, { port: w.ports.a.listen, path: ECHO });
  assert.is(denied.status, 403);
  assert.is(denied.headers['x-cmg-error'], 'CMGService_ClientCertificateRequired');
  const gw1 = await scrape('gateway-a');
  const cp1 = await scrape('cp01');

  // The exact rendering a Prometheus scrape sees.
  assert.match(
    gw1,
    new RegExp(
      `\\ncmg_gateway_requests_total\\{endpoint="${ENDPOINT}",status="200",error=""\\} ${metricValue(gw1, 'cmg_gateway_requests_total', { endpoint: ENDPOINT, status: '200', error: '' })}\\n`,
    ),
  );
  const ok = { endpoint: ENDPOINT, status: '200', error: '' };
  const delta = (before: string, after: string, name: string, labels: Record<string, string>) =>
    metricValue(after, name, labels) - metricValue(before, name, labels);
  assert.is(delta(gw0, gw1, 'cmg_gateway_requests_total', ok), N, 'gateway requests');
  assert.is(
    delta(gw0, gw1, 'cmg_gateway_body_bytes_total', { endpoint: ENDPOINT, direction: 'in' }),
    N * body.length,
  );
  assert.is(delta(gw0, gw1, 'cmg_gateway_body_bytes_total', { endpoint: ENDPOINT, direction: 'out' }), out);
  assert.is(delta(gw0, gw1, 'cmg_gateway_request_duration_seconds_count', { endpoint: ENDPOINT }), N);
  // Authentication comes before routing: a refused request is not counted against an endpoint.
  assert.is(
    delta(gw0, gw1, 'cmg_gateway_requests_total', {
      endpoint: '(not routed)',
      status: '403',
      error: 'CMGService_ClientCertificateRequired',
    }),
    1,
    gw1
      .split('\n')
      .filter((l) => l.startsWith('cmg_gateway_requests_total'))
      .join('\n'),
  );
  assert.is(
    delta(cp0, cp1, 'cmg_connector_requests_total', ok),
    N,
    'connector requests (the 403 never got there)',
  );
  assert.is(
    delta(cp0, cp1, 'cmg_connector_body_bytes_total', { endpoint: ENDPOINT, direction: 'in' }),
    N * body.length,
  );
  assert.is(delta(cp0, cp1, 'cmg_connector_body_bytes_total', { endpoint: ENDPOINT, direction: 'out' }), out);
  assert.is(
    metricValue(gw1, 'cmg_gateway_channels', { site: 'PS1', connection_point: 'cp01', state: 'ready' }),
    1,
  );
  assert.is(metricValue(gw1, 'cmg_gateway_requests_in_flight'), 0);
  for (const p of [w.ports.a.channel, w.ports.b.channel]) {
    assert.is(metricValue(cp1, 'cmg_connector_channels', { gateway: `127.0.0.1:${p}`, state: 'up' }), 1);
  }
});

interface Report {
  endpoint: string;
  requests: number;
  failed: number;
  bytesIn: number;
  bytesOut: number;
}

const REPORT =
  /traffic report \(1 s\): (\S+): (\d+) requests, (\d+) failed, (\d+) bytes in, (\d+) bytes out, at most (\d+) at once/g;

function reports(log: string): Report[] {
  return [...log.matchAll(REPORT)].map((m) => ({
    endpoint: m[1] as string,
    requests: Number(m[2]),
    failed: Number(m[3]),
    bytesIn: Number(m[4]),
    bytesOut: Number(m[5]),
  }));
}

/** Where in the log a whole report period without any request has just ended. */
async function afterQuietPeriod(d: Daemon, file: string): Promise<number> {
  const from = d.log(file).length;
  return waitUntil(`a quiet period in ${file}`, () => {
    const log = d.log(file);
    const at = log.indexOf('traffic report (1 s): no requests', from);
    return at >= 0 ? log.indexOf('\n', at) + 1 : undefined;
  });
}

test('traffic reports (trafficReportSeconds 1) in CMGService.log and SMS_CLOUD_PROXYCONNECTOR.log count the requests', async () => {
  const gw = daemon('gateway-a');
  const cp = daemon('cp01');
  const gwFrom = await afterQuietPeriod(gw, 'CMGService.log');
  const cpFrom = await afterQuietPeriod(cp, 'SMS_CLOUD_PROXYCONNECTOR.log');
  const K = 7;
  const body = 'report body '.repeat(10);
  let out = 0;
  for (let i = 0; i < K; i++) {
    const a = await clientRequest(w.pki, {
      port: w.ports.a.listen,
      method: 'CCM_POST',
      path: `${ECHO}/report`,
      body,
      cert: 'client',
    });
    assert.is(a.status, 200);
    out += a.bytes;
  }
  const sums = async (d: Daemon, file: string, from: number) =>
    waitUntil(`${file} to report the ${K} requests and then a quiet period`, () => {
      const log = d.log(file).slice(from);
      const mine = reports(log).filter((r) => r.endpoint === ENDPOINT);
      const total = mine.reduce((s, r) => s + r.requests, 0);
      const lastTraffic = log.lastIndexOf(`traffic report (1 s): ${ENDPOINT}:`);
      if (total < K || log.indexOf('traffic report (1 s): no requests', lastTraffic) < 0) return undefined;
      return {
        requests: total,
        failed: mine.reduce((s, r) => s + r.failed, 0),
        bytesIn: mine.reduce((s, r) => s + r.bytesIn, 0),
        bytesOut: mine.reduce((s, r) => s + r.bytesOut, 0),
        lines: mine.length,
      };
    });
  const expected = { requests: K, failed: 0, bytesIn: K * body.length, bytesOut: out };
  const g = await sums(gw, 'CMGService.log', gwFrom);
  const c = await sums(cp, 'SMS_CLOUD_PROXYCONNECTOR.log', cpFrom);
  assert.equal({ ...g, lines: undefined }, { ...expected, lines: undefined }, 'gateway report');
  assert.equal({ ...c, lines: undefined }, { ...expected, lines: undefined }, 'connection point report');
  // One period covers them all unless the burst straddled a report: at most two lines each.
  assert.ok(g.lines <= 2 && c.lines <= 2, JSON.stringify({ g, c }));
  assert.match(
    gw.log('CMGService.log'),
    new RegExp(
      `traffic report \\(1 s\\): ${ENDPOINT}: \\d+ requests, 0 failed, \\d+ bytes in, \\d+ bytes out, at most 1 at once\\]LOG\\]`,
    ),
  );
});

test('gateway /readyz: 503 naming site PS1 once its last connection point stops, 200 when it is back; connector /readyz follows its gateways', async () => {
  for (const g of ['gateway-a', 'gateway-b']) {
    assert.equal(await readiness(g), { status: 200, ready: true, reasons: [] }, g);
  }
  assert.equal(await readiness('cp01'), { status: 200, ready: true, reasons: [] });

  assert.is(await daemon('cp01').stop('SIGTERM'), 0);
  for (const g of ['gateway-a', 'gateway-b']) {
    const r = await waitUntil(`${g} /readyz to go 503`, async () => {
      const x = await readiness(g);
      return x.status === 503 ? x : undefined;
    });
    assert.equal(r, { status: 503, ready: false, reasons: ['no healthy channel for site PS1'] }, g);
  }

  await start('cp01', 'connect');
  for (const g of ['gateway-a', 'gateway-b']) {
    await waitUntil(`${g} /readyz back to 200`, async () => (await readiness(g)).status === 200, 20_000);
  }
  await waitUntil('cp01 /readyz 200 (a channel up to both gateways)', async () => {
    const x = await readiness('cp01');
    return x.status === 200 && x.ready && x.reasons.length === 0;
  });

  assert.is(await daemon('gateway-b').stop('SIGTERM'), 0);
  const down = await waitUntil('cp01 /readyz to go 503 with gateway B stopped', async () => {
    const x = await readiness('cp01');
    return x.status === 503 ? x : undefined;
  });
  assert.equal(down, {
    status: 503,
    ready: false,
    reasons: [`no channel up to gateway 127.0.0.1:${w.ports.b.channel}`],
  });
  assert.equal(await readiness('gateway-a'), { status: 200, ready: true, reasons: [] }, 'A is unaffected');

  await start('gateway-b', 'serve');
  await waitUntil('cp01 /readyz back to 200', async () => (await readiness('cp01')).status === 200, 30_000);
  await waitUntil('gateway B /readyz 200', async () => (await readiness('gateway-b')).status === 200);
  await waitServed(w.ports.b.listen, 'gateway B to serve again');
});

test('SIGHUP with a renewed web certificate: new connections get it, an open keep-alive connection keeps serving', async () => {
  const gw = daemon('gateway-a');
  const port = w.ports.a.listen;
  const before = await servedCertificate(w.pki, port);
  const kept = await rawConnection(w.pki, port);
  try {
    assert.equal(await getOn(kept, ECHO), [200]);
    const renewed = await issueWebCertificate(w.pki);
    assert.is.not(renewed.fingerprint256, before.fingerprint256);
    writeFileSync(w.pki.pem('web'), renewed.cert);
    writeFileSync(w.pki.key('web'), renewed.key, { mode: 0o600 });
    const logFrom = gw.log('CMGService.log').length;
    gw.child.kill('SIGHUP');
    await waitUntil('CMGService.log to say the certificates were reloaded', () =>
      /reloaded certificates: web certificate CN=cmg\.test\.contoso\.com/.test(
        gw.log('CMGService.log').slice(logFrom),
      ),
    );
    const after = await servedCertificate(w.pki, port);
    assert.is(after.fingerprint256, renewed.fingerprint256, 'a new connection sees the renewed certificate');
    assert.is(after.serialNumber, renewed.serialNumber);
    assert.equal(await getOn(kept, ECHO), [200], 'the connection opened before SIGHUP still serves');
    assert.is(kept.getPeerCertificate().fingerprint256, before.fingerprint256);
    const status = (await adminGet(admin('gateway-a'), '/status')).json<{
      webCertificate: { thumbprint: string };
    }>();
    const sha1 = new X509Certificate(renewed.cert).fingerprint.replace(/:/g, '');
    assert.is(
      status.webCertificate.thumbprint.toUpperCase(),
      sha1.toUpperCase(),
      '/status shows the new one',
    );
    assert.is(gw.child.exitCode, null, 'SIGHUP does not stop the gateway');
    const a = await clientRequest(w.pki, { port, path: ECHO, cert: 'client' });
    assert.is(a.status, 200, 'requests still go through on new connections');
  } finally {
    kept.destroy();
  }
});

test('SIGHUP with a broken web certificate file: the previous certificate stays in use and the log says why', async () => {
  const gw = daemon('gateway-a');
  const port = w.ports.a.listen;
  const good = { cert: w.pki.text('web.pem'), key: w.pki.text('web.key') };
  const before = await servedCertificate(w.pki, port);
  try {
    writeFileSync(w.pki.pem('web'), 'this is not a certificate\n');
    const logFrom = gw.log('CMGService.log').length;
    gw.child.kill('SIGHUP');
    const line = await waitUntil(
      'CMGService.log to report the failed reload',
      () =>
        /<!\[LOG\[(reload failed, still using the previous certificates: [^\]]*)\]LOG\]!>[^\n]*type="(\d)"/.exec(
          gw.log('CMGService.log').slice(logFrom),
        ) ?? undefined,
    );
    assert.match(line[1] as string, /web\.pem/, 'the reason names the file');
    assert.is(line[2], '3', 'logged as an error');
    assert.not.match(gw.log('CMGService.log').slice(logFrom), /reloaded certificates/);
    const after = await servedCertificate(w.pki, port);
    assert.is(
      after.fingerprint256,
      before.fingerprint256,
      'new connections still get the previous certificate',
    );
    const a = await clientRequest(w.pki, { port, path: ECHO, cert: 'client' });
    assert.is(a.status, 200);
    assert.is(gw.child.exitCode, null, 'a failed reload does not stop the gateway');
  } finally {
    writeFileSync(w.pki.pem('web'), good.cert);
    writeFileSync(w.pki.key('web'), good.key, { mode: 0o600 });
  }
});

test('SIGTERM during a 20 MB upload: no new connections, the upload completes byte-exact, then exit 0', async () => {
  const ports = { listen: await freePort(), channel: await freePort() };
  w.configs['gateway-c'] = editConfig(
    writeGatewayConfig(w.pki, 'gateway-c', ports, { limits: { requestTimeoutMs: 20_000 } }),
    (c) => {
      c.drainSeconds = 20;
    },
  );
  w.configs['cp02-upload'] = writeConnectorConfig(w.pki, 'cp02-upload', {
    cert: 'cp02',
    gatewayPorts: [ports.channel],
    mpUrl: w.mp.url,
    endpoints: [{ external: ENDPOINT, internal: `${w.mp.url}/CCM_System`, maxContentLength: BIG }],
  });
  const gw = await start('gateway-c', 'serve');
  const cp = await start('cp02-upload', 'connect');
  await waitServed(ports.listen, 'cp02 to serve through gateway C');

  const size = 20 * 1024 * 1024;
  const expected = await sha256Of(generatedBody(size, 11));
  let quarter: () => void = () => undefined;
  const quarterSent = new Promise<void>((r) => {
    quarter = r;
  });
  async function* paced(): AsyncGenerator<Buffer> {
    const began = Date.now();
    let sent = 0;
    for await (const chunk of generatedBody(size, 11)) {
      yield chunk;
      sent += chunk.length;
      if (sent >= size / 4) quarter();
      const due = began + (sent / size) * 2000 - Date.now();
      if (due > 0) await new Promise((r) => setTimeout(r, due));
    }
  }
  const before = w.mp.requests.length;
  let answeredAt = 0;
  const upload = clientRequest(w.pki, {
    port: ports.listen,
    method: 'BITS_POST',
    path: `${ECHO}/upload`,
    headers: { 'content-length': size },
    body: paced(),
    cert: 'client',
    timeoutMs: 60_000,
  }).then((a) => {
    answeredAt = Date.now();
    return a;
  });
  upload.catch(() => undefined); // awaited below; a failed assertion before that must not leave it unhandled
  await quarterSent;
  assert.is(
    metricValue(await scrape('gateway-c'), 'cmg_gateway_requests_in_flight'),
    1,
    'the upload is in flight',
  );
  gw.child.kill('SIGTERM');
  const refusedAt = await waitUntil(
    'new connections to be refused',
    async () => ((await refused(ports.listen)) ? Date.now() : undefined),
    1500,
    20,
  );
  // Draining comes first; its channels are being closed too, so the site has none left to route to.
  const draining = await readiness('gateway-c');
  assert.equal([draining.status, draining.ready, draining.reasons[0]], [503, false, 'draining']);

  const a = await upload;
  assert.is(a.status, 200, `the upload finished (${a.headers['x-cmg-error'] ?? ''})`);
  assert.ok(answeredAt > refusedAt, 'the upload was still in flight when new connections were refused');
  const seen = JSON.parse(a.body.toString()) as { bodyBytes: number; bodySha256: string; method: string };
  assert.equal([seen.method, seen.bodyBytes, seen.bodySha256], ['BITS_POST', size, expected]);
  const atMp = w.mp.requests.slice(before).filter((r) => r.url === '/CCM_System/echo/upload');
  assert.equal(
    atMp.map((r) => [r.complete, r.bodyBytes, r.bodySha256]),
    [[true, size, expected]],
  );
  assert.is(await gw.exited, 0, 'the gateway exits 0 once the upload is done');
  const log = gw.log('CMGService.log');
  assert.match(log, /SIGTERM: draining: no new clients or channels; 1 requests in flight get up to 20 s/);
  assert.match(log, /stopped\]LOG\]/);
  assert.match(
    gw.log('CMGHttpHandler.log'),
    /BITS_POST \S+\/echo\/upload -> 200 in [\d.]+ ms, 20971520 bytes in/,
  );
  assert.is(await cp.stop('SIGTERM'), 0);
});

test('SIGTERM to a connection point while a request is held on it: no new requests go to it, the held one finishes, then exit 0', async () => {
  const role = '72057594037990003';
  const base = `/CCM_Proxy_MutualAuth/${role}/CCM_System`;
  w.configs['cp02-drain'] = writeConnectorConfig(w.pki, 'cp02-drain', {
    cert: 'cp02',
    roleId: role,
    gatewayPorts: [w.ports.a.channel],
    mpUrl: w.mp.url,
  });
  const cp = await start('cp02-drain', 'connect');
  const port = w.ports.a.listen;
  await waitUntil(
    'cp02 to serve its role through gateway A',
    async () => (await clientRequest(w.pki, { port, path: `${base}/echo`, cert: 'client' })).status === 200,
    20_000,
    100,
  );
  const before = w.mp.requests.length;
  const started = Date.now();
  const held = clientRequest(w.pki, {
    port,
    path: `${base}/hold?ms=2000`,
    cert: 'client',
    timeoutMs: 15_000,
  });
  held.catch(() => undefined); // awaited below
  await waitUntil('the held request to reach the management point', () =>
    w.mp.requests.slice(before).some((r) => r.url.startsWith('/CCM_System/hold')),
  );
  cp.child.kill('SIGTERM');
  // The gateway stops routing to a draining connection point at once: a new request finds nobody.
  const next = await waitUntil('a new request to find no connection point', async () => {
    const a = await clientRequest(w.pki, { port, path: `${base}/echo`, cert: 'client' });
    return a.status === 503 ? a : undefined;
  });
  assert.is(next.headers['x-cmg-error'], 'CMGService_NoHealthyConnectionPoint');
  const a = await held;
  assert.is(a.status, 200, `the held request finished (${a.headers['x-cmg-error'] ?? ''})`);
  assert.is(a.body.toString(), 'held');
  // Gateway A answers 504 after its requestTimeoutMs (3 s): the hold stays below it.
  assert.ok(Date.now() - started >= 1900, 'it was not cut short');
  assert.is(await cp.exited, 0);
  assert.match(
    cp.log('SMS_CLOUD_PROXYCONNECTOR.log'),
    /SIGTERM: draining: gateways stop sending requests; 1 in flight get up to 30 s/,
  );
});

interface ConnectProxy {
  port: number;
  /** Request lines received, in order (`CONNECT host:port HTTP/1.1`). */
  requests: string[];
  /** For each tunnel opened: the local port of its connection to the target (the gateway sees it as the channel's remote port). */
  upstreamPorts: number[];
  /** Bytes relayed through tunnels, both ways. */
  relayed(): number;
  close(): Promise<void>;
}

/** A minimal HTTP CONNECT proxy: tunnels, or answers every CONNECT with `answer` (e.g. a 407). */
async function startConnectProxy(answer?: string): Promise<ConnectProxy> {
  const requests: string[] = [];
  const upstreamPorts: number[] = [];
  const sockets = new Set<Socket>();
  let relayed = 0;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  };
  const server: Server = createNetServer((client) => {
    track(client);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.off('data', onData);
      client.pause();
      const line = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      requests.push(line);
      const target = /^CONNECT ([^\s:]+):(\d+) HTTP\/1\.[01]$/.exec(line);
      if (answer !== undefined || !target) {
        client.end(answer ?? 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const upstream = netConnect(Number(target[2]), target[1] as string, () => {
        upstreamPorts.push(upstream.localPort as number);
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        const rest = head.subarray(end + 4);
        if (rest.length > 0) upstream.write(rest);
        client.on('data', (c: Buffer) => {
          relayed += c.length;
        });
        upstream.on('data', (c: Buffer) => {
          relayed += c.length;
        });
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      track(upstream);
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
    };
    client.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    port: (server.address() as { port: number }).port,
    requests,
    upstreamPorts,
    relayed: () => relayed,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

test('a connection point behind an HTTP CONNECT proxy serves through its tunnel; a proxy answering 407 is logged and nothing is served', async () => {
  const proxy = await startConnectProxy();
  const refusing = await startConnectProxy(
    'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="corp"\r\nContent-Length: 0\r\n\r\n',
  );
  try {
    const d = { listen: await freePort(), channel: await freePort() };
    const e = { listen: await freePort(), channel: await freePort() };
    w.configs['gateway-d'] = writeGatewayConfig(w.pki, 'gateway-d', d);
    w.configs['gateway-e'] = writeGatewayConfig(w.pki, 'gateway-e', e);
    const proxyUrl = `http://127.0.0.1:${proxy.port}`;
    w.configs['cp02-proxy'] = editConfig(
      writeConnectorConfig(w.pki, 'cp02-proxy', { cert: 'cp02', gatewayPorts: [d.channel], mpUrl: w.mp.url }),
      (c) => {
        (c.gateway as Record<string, unknown>).proxy = proxyUrl;
      },
    );
    await Promise.all([start('gateway-d', 'serve'), start('gateway-e', 'serve')]);
    const cp = await start('cp02-proxy', 'connect');
    await waitServed(d.listen, 'cp02 to serve through gateway D over the proxy');

    const a = await clientRequest(w.pki, { port: d.listen, path: ECHO, cert: 'client' });
    assert.is(a.status, 200);
    assert.is(
      (JSON.parse(a.body.toString()) as { headers: { via?: string } }).headers.via,
      '1.1 cp02.PS1.cmg',
    );
    assert.ok(proxy.requests.length >= 1);
    assert.equal([...new Set(proxy.requests)], [`CONNECT 127.0.0.1:${d.channel} HTTP/1.1`]);
    assert.ok(proxy.relayed() > 0, 'the channel bytes went through the proxy');
    // The gateway sees the channel coming from the proxy's side of the tunnel.
    const status = (await adminGet(admin('gateway-d'), '/status')).json<{
      sites: { connectionPoints: { id: string; channels: { remote: string; state: string }[] }[] }[];
    }>();
    const remotes = status.sites.flatMap((s) =>
      s.connectionPoints.flatMap((p) => p.channels.filter((c) => c.state === 'ready').map((c) => c.remote)),
    );
    assert.ok(remotes.length >= 1, JSON.stringify(status));
    for (const r of remotes) assert.ok(proxy.upstreamPorts.map((p) => `127.0.0.1:${p}`).includes(r), r);
    const cpStatus = (await adminGet(admin('cp02-proxy'), '/status')).json<{ proxy: string | null }>();
    assert.is(cpStatus.proxy, proxyUrl);
    assert.match(cp.log('SMS_CLOUD_PROXYCONNECTOR.log'), new RegExp(`through the proxy ${proxyUrl}`));
    assert.is(await cp.stop('SIGTERM'), 0);

    // The same connection point behind a proxy that wants credentials, dialing D (which knows the path) and E (which never saw it).
    w.configs['cp02-407'] = editConfig(
      writeConnectorConfig(w.pki, 'cp02-407', {
        cert: 'cp02',
        gatewayPorts: [d.channel, e.channel],
        mpUrl: w.mp.url,
      }),
      (c) => {
        (c.gateway as Record<string, unknown>).proxy = `http://127.0.0.1:${refusing.port}`;
      },
    );
    const blocked = await start('cp02-407', 'connect');
    for (const port of [d.channel, e.channel]) {
      await waitUntil(`the connection point to log the 407 for port ${port}`, () =>
        new RegExp(
          `channel 0 to 127\\.0\\.0\\.1:${port} down: the proxy 127\\.0\\.0\\.1:${refusing.port} answered 407 Proxy Authentication Required to CONNECT 127\\.0\\.0\\.1:${port}`,
        ).test(blocked.log('SMS_CLOUD_PROXYCONNECTOR.log')),
      );
    }
    assert.ok(
      refusing.requests.includes(`CONNECT 127.0.0.1:${d.channel} HTTP/1.1`),
      refusing.requests.join(),
    );
    assert.ok(
      refusing.requests.includes(`CONNECT 127.0.0.1:${e.channel} HTTP/1.1`),
      refusing.requests.join(),
    );
    const r = await readiness('cp02-407');
    assert.is(r.status, 503);
    assert.equal(
      r.reasons.sort(),
      [
        `no channel up to gateway 127.0.0.1:${d.channel}`,
        `no channel up to gateway 127.0.0.1:${e.channel}`,
      ].sort(),
    );
    const channels = (await adminGet(admin('cp02-407'), '/status')).json<{
      channels: { lastError: string | null }[];
    }>().channels;
    for (const ch of channels) assert.match(ch.lastError ?? '', /answered 407 Proxy Authentication Required/);

    const seenBefore = w.mp.requests.length;
    // D learned the path from cp02 before it stopped: known, nobody to serve it now.
    const known = await clientRequest(w.pki, { port: d.listen, path: ECHO, cert: 'client' });
    assert.is(known.status, 503);
    assert.is(known.headers['x-cmg-error'], 'CMGService_NoHealthyConnectionPoint');
    // E never had a channel: the path was never published there.
    const unknown = await clientRequest(w.pki, { port: e.listen, path: ECHO, cert: 'client' });
    assert.is(unknown.status, 404);
    assert.is(unknown.headers['x-cmg-error'], 'CMGService_NotFound');
    assert.is(w.mp.requests.length, seenBefore, 'nothing reached the management point');
    assert.is(await blocked.stop('SIGTERM'), 0);
  } finally {
    await proxy.close();
    await refusing.close();
  }
});

test.run();
