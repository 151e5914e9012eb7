/**
 * The contract's status table and the request path, end to end: real
 * `cmg serve` and `cmg connect` processes on loopback, a lab PKI, and the
 * stand-in management point, which records every request it sees (a refused
 * request must never appear there).
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { contentSlice, type StandInMp } from '../../src/demo/management-point.js';
import {
  clientRequest,
  type Daemon,
  freePort,
  generatedBody,
  killAll,
  type LabPki,
  MP_BASE,
  makeLabPki,
  rawConnection,
  readUntil,
  SERVICE,
  sha256Of,
  startGatewayWithConnector,
  startMp,
  statusLines,
  tempLabDir,
  waitUntil,
} from '../helpers/cluster.js';

const test = suite('gateway contract (e2e)');

interface World {
  pki: LabPki;
  mp: StandInMp;
  gateway: Daemon;
  cp: Daemon;
  port: number;
  channelPort: number;
  remove(): void;
}
let w: World;

const BIG = 32 * 1024 * 1024;

test.before(async () => {
  const tmp = tempLabDir('cmg-e2e-contract-');
  const pki = await makeLabPki(tmp.dir);
  const mp = await startMp(pki);
  const dead = await freePort();
  const { gateway, cp, ports } = await startGatewayWithConnector(pki, mp, {
    gateway: {
      limits: {
        maxUrlLength: 1024,
        maxHeaderBytes: 8192,
        defaultMaxContentLength: 1024 * 1024,
        requestTimeoutMs: 2000,
        headersTimeoutMs: 1000,
        idleTimeoutMs: 1500,
      },
    },
    connector: {
      endpoints: [
        { external: `${MP_BASE}/CCM_System`, internal: `${mp.url}/CCM_System`, maxContentLength: BIG },
        { external: `${MP_BASE}/CCM_Client`, internal: `${mp.url}/CCM_Client`, maxContentLength: BIG },
        { external: `${MP_BASE}/SMS_MP_Dead`, internal: `https://127.0.0.1:${dead}/SMS_MP` },
        { external: '/Public/CCM_System', internal: `${mp.url}/CCM_System` },
      ],
    },
  });
  w = { pki, mp, gateway, cp, port: ports.listen, channelPort: ports.channel, remove: tmp.remove };
});

test.after(async () => {
  await killAll();
  await w?.mp.close();
  w?.remove();
});

const seenCount = () => w.mp.requests.length;

test('MPLIST and CCM_POST travel client -> gateway -> channel -> connection point -> management point', async () => {
  const list = await clientRequest(w.pki, {
    port: w.port,
    path: `${MP_BASE}/SMS_MP/.sms_aut?MPLIST`,
    cert: 'client',
  });
  assert.is(list.status, 200);
  assert.match(list.body.toString(), /^<MPList><MP Name="MP01/);
  const body = 'registration request body';
  const post = await clientRequest(w.pki, {
    port: w.port,
    method: 'CCM_POST',
    path: `${MP_BASE}/CCM_System/request`,
    body,
    cert: 'client',
  });
  assert.is(post.status, 200);
  assert.ok(post.body.toString().includes(createHash('sha256').update(body).digest('hex')));
  const seen = w.mp.requests.at(-1);
  assert.is(seen?.method, 'CCM_POST');
  assert.is(seen?.url, '/CCM_System/request');
  assert.is(seen?.headers.via, '1.1 cp01.PS1.cmg');
});

const URL_ATTACKS = [
  `${MP_BASE}/CCM_System/../../etc/passwd`,
  `${MP_BASE}/CCM_System/./echo`,
  `${MP_BASE}/CCM_System/%2e%2e/echo`,
  `${MP_BASE}/CCM_System/%2E./echo`,
  `${MP_BASE}/CCM_System%2fecho`,
  `${MP_BASE}/CCM_System/%5cecho`,
  `${MP_BASE}/CCM_System/echo%00.txt`,
  `${MP_BASE}/CCM_System/%252e%252e/echo`,
  `${MP_BASE}/CCM_System/%zzecho`,
  `${MP_BASE}/CCM_System/echo%`,
  `${MP_BASE}/CCM_System\\echo`,
  `${MP_BASE}/CCM_System/echo%0d%0aX-Injected:%201`,
  `${MP_BASE}/CCM_System/%c0%ae%c0%ae/echo`,
];

test('every URL attack is refused with 400 before the management point sees it', async () => {
  const before = seenCount();
  for (const target of URL_ATTACKS) {
    const s = await rawConnection(w.pki, w.port);
    s.write(`GET ${target} HTTP/1.1\r\nHost: ${SERVICE}\r\n\r\n`);
    const text = await readUntil(s, (t) => t.includes('\r\n\r\n'));
    s.destroy();
    assert.equal(statusLines(text), [400], `${target}: ${text.slice(0, 200)}`);
    assert.match(text, /x-cmg-error: CMGService_(InvalidUrl|BadRequest)/i, target);
  }
  assert.is(seenCount(), before, 'no attack reached the management point');
});

test('CL+TE, duplicate Content-Length and a raw control character: 400, nothing forwarded, connection closed', async () => {
  const before = seenCount();
  const heads = [
    `POST ${MP_BASE}/CCM_System/echo HTTP/1.1\r\nHost: ${SERVICE}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    `POST ${MP_BASE}/CCM_System/echo HTTP/1.1\r\nHost: ${SERVICE}\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`,
    `GET ${MP_BASE}/CCM_System/ec\x01ho HTTP/1.1\r\nHost: ${SERVICE}\r\n\r\n`,
  ];
  for (const head of heads) {
    const s = await rawConnection(w.pki, w.port);
    s.write(head);
    const text = await readUntil(s, () => false);
    assert.equal(statusLines(text), [400], JSON.stringify(head));
    assert.ok(s.destroyed || s.readableEnded, 'the connection is closed after a framing refusal');
  }
  assert.is(seenCount(), before);
});

test("a single-value header sent twice is the client's error: 400, nothing forwarded", async () => {
  const before = seenCount();
  const s = await rawConnection(w.pki, w.port);
  s.write(
    `GET ${MP_BASE}/CCM_System/echo HTTP/1.1\r\nHost: ${SERVICE}\r\nUser-Agent: a\r\nUser-Agent: b\r\n\r\n`,
  );
  const text = await readUntil(s, (t) => t.includes('\r\n\r\n'));
  s.destroy();
  assert.equal(statusLines(text), [400]);
  assert.match(text, /x-cmg-error: CMGService_BadRequest/i);
  assert.is(seenCount(), before);
});

test('414 for a URL over maxUrlLength, 431 for headers over maxHeaderBytes', async () => {
  const before = seenCount();
  const long = await clientRequest(w.pki, {
    port: w.port,
    path: `${MP_BASE}/CCM_System/echo?${'a'.repeat(1100)}`,
    cert: 'client',
  });
  assert.is(long.status, 414);
  assert.is(long.headers['x-cmg-error'], 'CMGService_UrlTooLong');
  const fat = await clientRequest(w.pki, {
    port: w.port,
    path: `${MP_BASE}/CCM_System/echo`,
    headers: { 'X-Fat': 'b'.repeat(9000) },
    cert: 'client',
  });
  assert.is(fat.status, 431);
  assert.is(fat.headers['x-cmg-error'], 'CMGService_HeadersTooLarge');
  assert.is(seenCount(), before);
});

test('403 with a reason code for no, untrusted, expired, wrong-EKU and revoked client certificates', async () => {
  const before = seenCount();
  const cases: [string | undefined, string][] = [
    [undefined, 'CMGService_ClientCertificateRequired'],
    ['client-untrusted', 'CMGService_ClientCertificateInvalid'],
    ['client-expired', 'CMGService_ClientCertificateInvalid'],
    ['client-wrong-eku', 'CMGService_ClientCertificateInvalid'],
    ['client-revoked', 'CMGService_ClientCertificateInvalid'],
  ];
  for (const [cert, code] of cases) {
    const a = await clientRequest(w.pki, { port: w.port, path: `${MP_BASE}/CCM_System/echo`, cert });
    assert.is(a.status, 403, String(cert));
    assert.is(a.headers['x-cmg-error'], code, String(cert));
  }
  assert.is(seenCount(), before);
  // The log says why (the client only hears the code): an untrusted client sends no chain to a root we know.
  const reasons = [
    'CMG_CERT_EXPIRED',
    'CMG_CERT_REVOKED',
    'CMG_CERT_(UNTRUSTED_ROOT|MISSING_INTERMEDIATE)',
    'CMG_CERT_WRONG_EKU',
  ];
  await waitUntil('the refusals in CMGHttpHandler.log', () => {
    const log = w.gateway.log('CMGHttpHandler.log');
    return reasons.every((r) => new RegExp(`CMGService_ClientCertificateInvalid \\(${r}`).test(log));
  });
});

test('a certificate with a malformed extension is refused (403, or the channel refused), and the gateway stays up', async () => {
  const a = await clientRequest(w.pki, {
    port: w.port,
    path: `${MP_BASE}/CCM_System/echo`,
    cert: 'client-malformed',
  });
  assert.is(a.status, 403);
  assert.is(a.headers['x-cmg-error'], 'CMGService_ClientCertificateInvalid');
  const b = await clientRequest(w.pki, {
    port: w.port,
    path: '/Public/CCM_System/echo',
    cert: 'client-malformed',
  });
  assert.is(b.status, 200);
  assert.is(JSON.parse(b.body.toString()).headers['x-forwarded-client-cert'], undefined);
  const s = tlsConnect({
    host: '127.0.0.1',
    port: w.channelPort,
    servername: SERVICE,
    ca: w.pki.text('web-root.pem'),
    cert: w.pki.text('client-malformed.pem'),
    key: w.pki.text('client-malformed.key'),
    ALPNProtocols: ['cmg-channel/1'],
  });
  s.on('error', () => undefined);
  s.resume();
  await waitUntil('the refused channel to close', () => s.destroyed || s.readableEnded, 5000);
  await waitUntil('the refusal in CMGService.log', () =>
    /connection point refused from [^\]]*CMG_CERT_UNREADABLE/.test(w.gateway.log('CMGService.log')),
  );
  const c = await clientRequest(w.pki, { port: w.port, path: `${MP_BASE}/CCM_System/echo`, cert: 'client' });
  assert.is(c.status, 200, 'the gateway is still serving');
  assert.is(w.gateway.child.exitCode, null);
});

test('outside the mutual-auth namespace a client certificate is optional; XFCC only for a verified one', async () => {
  const anon = await clientRequest(w.pki, { port: w.port, path: '/Public/CCM_System/echo' });
  assert.is(anon.status, 200);
  assert.is(JSON.parse(anon.body.toString()).headers['x-forwarded-client-cert'], undefined);
  const untrusted = await clientRequest(w.pki, {
    port: w.port,
    path: '/Public/CCM_System/echo',
    cert: 'client-untrusted',
  });
  assert.is(untrusted.status, 200);
  assert.is(JSON.parse(untrusted.body.toString()).headers['x-forwarded-client-cert'], undefined);
});

test('404 for paths nobody published, with or without a certificate', async () => {
  const before = seenCount();
  const a = await clientRequest(w.pki, { port: w.port, path: `${MP_BASE}/CCM_Nothing/x`, cert: 'client' });
  assert.is(a.status, 404);
  assert.is(a.headers['x-cmg-error'], 'CMGService_NotFound');
  const b = await clientRequest(w.pki, { port: w.port, path: '/etc/passwd' });
  assert.is(b.status, 404);
  const c = await clientRequest(w.pki, { port: w.port, path: `${MP_BASE}/CCM_SystemX/echo`, cert: 'client' });
  assert.is(c.status, 404, 'prefixes match whole segments');
  assert.is(seenCount(), before);
});

test('413: a declared length over the limit is refused unread; a chunked body passing it is cut, never delivered whole', async () => {
  const before = seenCount();
  const declared = await clientRequest(w.pki, {
    port: w.port,
    method: 'BITS_POST',
    path: `${MP_BASE}/BGB/upload`,
    headers: { 'content-length': 2 * 1024 * 1024 },
    body: generatedBody(2 * 1024 * 1024),
    cert: 'client',
  }).catch((err: Error) => ({ status: -1, headers: {} as Record<string, string>, err }));
  assert.is(declared.status, 413);
  assert.is(declared.headers['x-cmg-error'], 'CMGService_ContentTooLarge');
  assert.is(seenCount(), before, 'declared too long: nothing forwarded');

  const chunked = await clientRequest(w.pki, {
    port: w.port,
    method: 'POST',
    path: `${MP_BASE}/BGB/upload`,
    body: generatedBody(3 * 1024 * 1024),
    cert: 'client',
  }).catch(() => ({ status: -1, headers: {} as Record<string, string> }));
  assert.ok(
    chunked.status === 413 || chunked.status === -1,
    `413 or a cut connection, got ${chunked.status}`,
  );
  await new Promise((r) => setTimeout(r, 300));
  const bgb = w.mp.requests.slice(before).filter((r) => r.url.startsWith('/BGB'));
  assert.ok(
    bgb.every((r) => !r.complete),
    'the management point never saw a complete over-long body',
  );
});

test('502 when the internal role is down or its answer breaks off; 504 when it does not answer in time', async () => {
  const down = await clientRequest(w.pki, { port: w.port, path: `${MP_BASE}/SMS_MP_Dead/x`, cert: 'client' });
  assert.is(down.status, 502);
  assert.is(down.headers['x-cmg-error'], 'CMGService_InternalRoleFailed');

  const partial = await clientRequest(w.pki, {
    port: w.port,
    path: `${MP_BASE}/CCM_System/partial`,
    cert: 'client',
  }).then(
    (a) => `complete ${a.bytes}`,
    (err: Error) => err.message,
  );
  assert.not.match(partial, /^complete 1000000$/, 'a broken answer must not arrive complete');

  const dup = await clientRequest(w.pki, {
    port: w.port,
    path: `${MP_BASE}/CCM_System/duplicate-header`,
    cert: 'client',
  });
  assert.is(dup.status, 502, 'an answer HTTP/2 cannot carry is a 502, not a crash');
  assert.is(dup.headers['x-cmg-error'], 'CMGService_InternalRoleFailed');
  assert.is(w.cp.child.exitCode, null, 'the connection point is still running');

  const started = Date.now();
  const stall = await clientRequest(w.pki, {
    port: w.port,
    path: `${MP_BASE}/CCM_System/stall`,
    cert: 'client',
  });
  const took = Date.now() - started;
  assert.is(stall.status, 504);
  assert.is(stall.headers['x-cmg-error'], 'CMGService_RequestTimeout');
  assert.ok(took >= 1900 && took < 6000, `504 after requestTimeoutMs (2 s), took ${took} ms`);
  // The timed-out request is cancelled at the management point too, not left holding a connection.
  await waitUntil(
    'the stalled request to be cancelled at the management point',
    () => w.mp.stalledOpen() === 0,
    5000,
  );
});

// A client that half-closes (FIN) may still want its answers (pipelined requests, `openssl s_client`
// reading stdin to its end): the gateway keeps them. A reset is unambiguous.
test('a client that resets its connection while its request is held: the request is cancelled at the management point', async () => {
  const before = seenCount();
  const tcp = netConnect(w.port, '127.0.0.1');
  await once(tcp, 'connect');
  const socket = await rawConnection(w.pki, w.port, 'client', tcp);
  socket.write(`GET ${MP_BASE}/CCM_System/stall HTTP/1.1\r\nHost: ${SERVICE}\r\n\r\n`);
  await waitUntil('the request to reach the management point', () => w.mp.stalledOpen() === 1);
  assert.is(seenCount(), before + 1);
  tcp.resetAndDestroy();
  // Well inside requestTimeoutMs (2 s): the cancellation, not the gateway's timeout, closed it.
  const started = Date.now();
  await waitUntil('the held request to be cancelled', () => w.mp.stalledOpen() === 0, 5000);
  assert.ok(Date.now() - started < 1500, `cancelled after ${Date.now() - started} ms`);
});

test("a slow upload is not the role's delay (no 504); an answer that stalls after its headers is cut after idleTimeoutMs", async () => {
  // 12 KB at about 4 KB/s: longer than requestTimeoutMs (2 s), never idle for idleTimeoutMs (1.5 s).
  async function* slow(): AsyncGenerator<Buffer> {
    for (let i = 0; i < 12; i++) {
      yield Buffer.alloc(1024, 0x61 + i);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const up = await clientRequest(w.pki, {
    port: w.port,
    method: 'BITS_POST',
    path: `${MP_BASE}/CCM_System/echo/slow`,
    headers: { 'content-length': 12 * 1024 },
    body: slow(),
    cert: 'client',
  });
  assert.is(up.status, 200);
  assert.is((JSON.parse(up.body.toString()) as { bodyBytes: number }).bodyBytes, 12 * 1024);

  const started = Date.now();
  const stalled = await clientRequest(w.pki, {
    port: w.port,
    path: `${MP_BASE}/CCM_System/headers-then-stall`,
    cert: 'client',
  }).then(
    (a) => `complete ${a.status} ${a.bytes}`,
    (err: Error) => err.message,
  );
  const took = Date.now() - started;
  assert.not.match(stalled, /^complete/, 'a stalled answer must not look complete');
  assert.ok(took >= 1400 && took < 6000, `cut after ${took} ms (idleTimeoutMs 1500)`);
  await waitUntil('the log line', () =>
    /headers-then-stall -> 200 .*CMGService_RequestTimeout \(the answer made no progress for 1500 ms\)/.test(
      w.gateway.log('CMGHttpHandler.log'),
    ),
  );
});

test('CCM_POST, BITS_POST, PROPFIND, GET, HEAD, PUT and POST on one keep-alive connection, in order', async () => {
  const methods = ['CCM_POST', 'BITS_POST', 'PROPFIND', 'GET', 'HEAD', 'PUT', 'POST'];
  const before = seenCount();
  const s = await rawConnection(w.pki, w.port);
  for (const m of methods) {
    const body = m === 'GET' || m === 'HEAD' ? '' : `body of ${m}`;
    s.write(
      `${m} ${MP_BASE}/CCM_System/echo/${m} HTTP/1.1\r\nHost: ${SERVICE}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    const text = await readUntil(s, (t) =>
      m === 'HEAD' ? t.includes('\r\n\r\n') : /\r\n\r\n[\s\S]*\}$/.test(t),
    );
    assert.equal(statusLines(text), [200], `${m}: ${text.slice(0, 300)}`);
  }
  s.destroy();
  const seen = w.mp.requests.slice(before);
  assert.equal(
    seen.map((r) => r.method),
    methods,
  );
  assert.equal(
    seen.map((r) => r.url),
    methods.map((m) => `/CCM_System/echo/${m}`),
  );
});

test('Range and 206 pass; ConfigMgr headers arrive untouched; forged forwarding headers are replaced', async () => {
  const range = await clientRequest(w.pki, {
    port: w.port,
    path: `${MP_BASE}/CCM_Client/content/100000`,
    headers: { Range: 'bytes=1000-1999' },
    cert: 'client',
  });
  assert.is(range.status, 206);
  assert.is(range.headers['content-range'], 'bytes 1000-1999/100000');
  assert.ok(range.body.equals(contentSlice(1000, 2000)));

  const ccm = {
    CCMClientID: 'GUID:6E5AD1A2-2B7C-4E4E-9A59-3B4C2A1F0D11',
    CCMClientIDSignature: '0A1B2C3D4E5F',
    CCMClientTimestamp: '2026-11-29T01:00:00Z',
    CCMClientTimestampsSignature: 'F5E4D3C2B1A0',
  };
  const a = await clientRequest(w.pki, {
    port: w.port,
    path: `${MP_BASE}/CCM_System/echo`,
    headers: {
      ...ccm,
      'X-Forwarded-Client-Cert': 'Hash=forged;Subject="CN=admin"',
      'X-Forwarded-For': '6.6.6.6',
      'X-Forwarded-Proto': 'http',
      'cmg-endpoint': '/CCM_Proxy_MutualAuth/forged',
    },
    cert: 'client',
  });
  assert.is(a.status, 200);
  const seen = JSON.parse(a.body.toString()) as { headers: Record<string, string> };
  for (const [name, value] of Object.entries(ccm)) assert.is(seen.headers[name.toLowerCase()], value, name);
  const clientDer = w.pki.text('client.pem');
  const hash = createHash('sha256')
    .update(Buffer.from(clientDer.replace(/-----[^-]+-----|\s/g, ''), 'base64'))
    .digest('hex');
  assert.match(
    seen.headers['x-forwarded-client-cert'] ?? '',
    new RegExp(`^Hash=${hash};Subject="CN=client01";Cert="`),
  );
  assert.is(seen.headers['x-forwarded-for'], '127.0.0.1');
  assert.is(seen.headers['x-forwarded-proto'], 'https');
  assert.is(seen.headers['cmg-endpoint'], undefined);
});

test('a 64 MB download and a 20 MB upload arrive byte-exact (SHA-256)', async () => {
  const size = 64 * 1024 * 1024;
  const down = await clientRequest(w.pki, {
    port: w.port,
    path: `${MP_BASE}/CCM_Client/content/${size}`,
    cert: 'client',
    keepBytes: 0,
    timeoutMs: 60_000,
  });
  assert.is(down.status, 200);
  assert.is(down.bytes, size);
  assert.is(down.sha256, createHash('sha256').update(contentSlice(0, size)).digest('hex'));

  const upSize = 20 * 1024 * 1024;
  const expected = await sha256Of(generatedBody(upSize, 7));
  const up = await clientRequest(w.pki, {
    port: w.port,
    method: 'BITS_POST',
    path: `${MP_BASE}/CCM_System/echo/upload`,
    headers: { 'content-length': upSize },
    body: generatedBody(upSize, 7),
    cert: 'client',
    timeoutMs: 60_000,
  });
  assert.is(up.status, 200);
  const seen = JSON.parse(up.body.toString()) as { bodyBytes: number; bodySha256: string; method: string };
  assert.is(seen.method, 'BITS_POST');
  assert.is(seen.bodyBytes, upSize);
  assert.is(seen.bodySha256, expected);
});

test('a slow client that never finishes its request head is cut off after headersTimeoutMs', async () => {
  const s = await rawConnection(w.pki, w.port);
  const started = Date.now();
  s.write(`GET ${MP_BASE}/CCM_System/echo HTTP/1.1\r\nHost: ${SERVICE}\r\nX-Slow: `);
  await readUntil(s, () => false, 10_000);
  const took = Date.now() - started;
  assert.ok(took >= 900 && took < 5000, `closed after ${took} ms (headersTimeoutMs 1000)`);
});

test('logs: one CMGHttpHandler.log line per request; channels in CMGService.log; forwarding lines at the connection point', async () => {
  const a = await clientRequest(w.pki, {
    port: w.port,
    path: `${MP_BASE}/CCM_System/echo?log-check=1`,
    cert: 'client',
  });
  assert.is(a.status, 200);
  const http = await waitUntil('the request line', () => {
    const text = w.gateway.log('CMGHttpHandler.log');
    return text.includes('/CCM_System/echo?log-check=1') ? text : undefined;
  });
  const line = http.split('\n').find((l) => l.includes('echo?log-check=1')) ?? '';
  assert.match(
    line,
    /GET \S+echo\?log-check=1 -> 200 in [\d.]+ ms, 0 bytes in, \d+ bytes out, client 127\.0\.0\.1, certificate [0-9A-F]{40}, connection point PS1\/cp01/,
  );
  assert.match(line, /component="CMGHttpHandler" context="" type="1"/);
  assert.match(w.gateway.log('CMGService.log'), /channel up: connection point PS1\/cp01/);
  await waitUntil('the forwarding line', () =>
    /forwarding \S+ GET to https:\/\/127\.0\.0\.1:\d+\/CCM_System\/echo\?log-check=1/.test(
      w.cp.log('SMS_CLOUD_PROXYCONNECTOR.log'),
    ),
  );
});

test.run();
