import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { collectStatus, probeSource } from '../../src/status/probe.js';
import type { StatusSource } from '../../src/status/sources.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const servers: Server[] = [];

/** A stand-in admin endpoint on 127.0.0.1:0. */
async function serve(handler: Handler): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Answers /status with `status` and /readyz with `readiness` (503 when not ready). */
function admin(status: unknown, readiness = { ready: true, reasons: [] as string[] }): Handler {
  return (req, res) => {
    if (req.url === '/status') json(res, 200, status);
    else if (req.url === '/readyz') json(res, readiness.ready ? 200 : 503, readiness);
    else res.writeHead(404).end();
  };
}

/** A port nothing listens on (taken, then released). */
async function closedPort(): Promise<string> {
  const url = await serve(() => undefined);
  const server = servers.pop() as Server;
  server.close();
  await once(server, 'close');
  return url;
}

const source = (url: string, kind: 'gateway' | 'connector' = 'gateway'): StatusSource => ({
  url,
  kind,
  origin: 'url',
});

test.after.each(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

test('a ready gateway: its /status and /readyz, as they were served', async () => {
  const status = { role: 'gateway', instance: 'gw01:8443', sites: [] };
  const url = await serve(admin(status));
  const r = await probeSource(source(url), { timeoutMs: 3000 });
  assert.equal(r, { url, kind: 'gateway', ready: true, readiness: { ready: true, reasons: [] }, status });
});

test('a connection point whose /readyz answers 503: not ready, with the reasons', async () => {
  const url = await serve(
    admin(
      { role: 'connector', site: 'PS1', id: 'cp01' },
      { ready: false, reasons: ['no channel up to gateway x:1'] },
    ),
  );
  const r = await probeSource(source(url, 'connector'), { timeoutMs: 3000 });
  assert.ok(!('error' in r));
  if ('error' in r) return;
  assert.is(r.kind, 'connector');
  assert.is(r.ready, false);
  assert.equal(r.readiness.reasons, ['no channel up to gateway x:1']);
});

test('the role in /status wins over the flag it was given with', async () => {
  const url = await serve(admin({ role: 'connector', site: 'PS1', id: 'cp01' }));
  const r = await probeSource(source(url, 'gateway'), { timeoutMs: 3000 });
  assert.is(r.kind, 'connector');
});

test('a closed port: cannot reach, naming the kind, the URL and the refusal', async () => {
  const url = await closedPort();
  const r = await probeSource(source(url), { timeoutMs: 3000 });
  assert.equal(r, {
    url,
    kind: 'gateway',
    error: `cannot reach the gateway at ${url}: connection refused (ECONNREFUSED)`,
  });
});

test('no answer within the timeout: says how long it waited', async () => {
  const url = await serve(() => undefined);
  const started = Date.now();
  const r = await probeSource(source(url, 'connector'), { timeoutMs: 200 });
  assert.ok(Date.now() - started < 2000);
  assert.equal(r, {
    url,
    kind: 'connector',
    error: `cannot reach the connection point at ${url}: no answer within 0.2 s`,
  });
});

test('not a cmg admin endpoint: a 404, a body that is not JSON, JSON without a role', async () => {
  const cases: [Handler, string][] = [
    [(_req, res) => res.writeHead(404, 'Not Found').end('nope'), '/status answered 404 Not Found'],
    [(_req, res) => res.writeHead(200).end('<html>hello</html>'), 'did not answer JSON'],
    [admin({ hello: 'world' }), '/status has no role "gateway" or "connector"'],
    [
      (req, res) =>
        req.url === '/status' ? json(res, 200, { role: 'gateway' }) : json(res, 200, { up: true }),
      '/readyz did not answer {ready, reasons}',
    ],
  ];
  for (const [handler, why] of cases) {
    const url = await serve(handler);
    const r = await probeSource(source(url), { timeoutMs: 3000 });
    assert.ok('error' in r, why);
    if (!('error' in r)) continue;
    assert.ok(r.error.startsWith(`the gateway at ${url} did not answer as a cmg admin endpoint: `), r.error);
    assert.match(r.error, why);
  }
});

test('an abort from outside (Ctrl-C) ends the request at once', async () => {
  const url = await serve(() => undefined);
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 50);
  const r = await probeSource(source(url), { timeoutMs: 10_000, signal: stop.signal });
  assert.equal(r, {
    url,
    kind: 'gateway',
    error: `cannot reach the gateway at ${url}: stopped before an answer`,
  });
});

test('collectStatus: every source at once, in the order given; defaults only when all were defaults', async () => {
  const slow1 = await serve(() => undefined);
  const slow2 = await serve(() => undefined);
  const ok = await serve(admin({ role: 'gateway' }));
  const started = Date.now();
  const report = await collectStatus([source(slow1), source(ok), source(slow2)], { timeoutMs: 400 });
  assert.ok(Date.now() - started < 1200, 'the two timeouts ran side by side');
  assert.equal(
    report.sources.map((s) => [s.url, 'error' in s]),
    [
      [slow1, true],
      [ok, false],
      [slow2, true],
    ],
  );
  assert.is(report.defaults, false);
  const d = await collectStatus([{ url: ok, kind: 'gateway', origin: 'default' }], { timeoutMs: 1000 });
  assert.is(d.defaults, true);
});

test.run();
