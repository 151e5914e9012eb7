import { once } from 'node:events';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import {
  freePort,
  killAll,
  MP_BASE,
  makeLabPki,
  rawConnection,
  readUntil,
  SERVICE,
  startDaemon,
  tempLabDir,
  waitUntil,
  writeConnectorConfig,
  writeGatewayConfig,
} from './helpers/cluster.js';

const lab = tempLabDir('cmg-rv2-');
const pki = await makeLabPki(lab.dir);
const seen: Record<string, { bytes: string; closed: boolean }> = {};
const mp = createTlsServer({ cert: pki.text('mp.pem'), key: pki.text('mp.key') }, (s) => {
  let buf = '';
  let tag = '';
  s.on('error', () => undefined);
  s.on('data', (d) => {
    buf += d.toString('latin1');
    if (!tag) {
      const m = /^\S+ \S*\/CCM_System\/(\w+)/.exec(buf);
      if (!m) return;
      tag = m[1] as string;
      seen[tag] = { bytes: '', closed: false };
      if (tag === 'early') s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      if (tag === 'evil')
        s.end('HTTP/1.1 200 OK\r\nx-evil: a\x01b\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
      if (tag === 'stall') s.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n');
      if (tag === 'dupct')
        s.end(
          'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-type: text/html\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok',
        );
      if (tag === 'big') {
        s.write('HTTP/1.1 200 OK\r\ncontent-length: 67108864\r\nconnection: close\r\n\r\n');
        const chunk = Buffer.alloc(65536, 120);
        let n = 0;
        const go = () => {
          while (n < 1024) {
            n++;
            if (!s.write(chunk)) {
              s.once('drain', go);
              return;
            }
          }
          s.end();
        };
        go();
      }
    }
    seen[tag]!.bytes = buf;
    if (tag === 'slowread' && /\r\n\r\n[\s\S]{20000}$/.test(buf))
      s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
  });
  s.on('close', () => {
    if (tag) seen[tag]!.closed = true;
  });
});
mp.listen(0, '127.0.0.1');
await once(mp, 'listening');
const mpUrl = `https://localhost:${(mp.address() as { port: number }).port}`;
const [listen, channel] = [await freePort(), await freePort()];
const gw = startDaemon(
  'gw',
  [
    'serve',
    '--config',
    writeGatewayConfig(
      pki,
      'gw',
      { listen, channel },
      { limits: { requestTimeoutMs: 3000, idleTimeoutMs: 2000 } },
    ),
  ],
  lab.dir,
);
await gw.waitForOutput(/clients on/);
const cp = startDaemon(
  'cp',
  [
    'connect',
    '--config',
    writeConnectorConfig(pki, 'cp', {
      cert: 'cp01',
      gatewayPorts: [channel],
      mpUrl,
      endpoints: [
        { external: `${MP_BASE}/CCM_System`, internal: `${mpUrl}/CCM_System`, maxContentLength: 1 << 30 },
      ],
    }),
  ],
  lab.dir,
);
await waitUntil('channel up', () => /channel up/.test(gw.log('CMGService.log')));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const head = (tag: string, extra: string) =>
  `POST ${MP_BASE}/CCM_System/${tag} HTTP/1.1\r\nHost: ${SERVICE}\r\n${extra}\r\n`;
const which = process.argv[2] ?? 'all';

if (which === 'all' || which === 'abort') {
  // A: chunked upload, client vanishes mid-body
  const s = await rawConnection(pki, listen);
  s.write(head('record', 'Transfer-Encoding: chunked\r\n') + '5\r\nhello\r\n');
  await sleep(500);
  s.destroy();
  await sleep(1000);
  console.log(
    'A record (abort mid-chunked):',
    JSON.stringify(seen.record?.bytes.slice(-60)),
    'closed',
    seen.record?.closed,
  );
  // B: internal role answered early; client then vanishes mid-body
  const s2 = await rawConnection(pki, listen);
  s2.write(head('early', 'Transfer-Encoding: chunked\r\n') + '5\r\nhello\r\n');
  const got = await readUntil(s2, (t) => t.includes('\r\n\r\nok'), 3000).catch((e) => String(e));
  console.log('B client got:', JSON.stringify(got.slice(0, 40)));
  await sleep(300);
  s2.write('5\r\nworld\r\n');
  await sleep(300);
  s2.destroy();
  await sleep(1000);
  console.log(
    'B early (abort after answer):',
    JSON.stringify(seen.early?.bytes.slice(-40)),
    'closed',
    seen.early?.closed,
  );
}
if (which === 'all' || which === 'slow') {
  // D: slow upload longer than requestTimeoutMs
  const s = await rawConnection(pki, listen);
  s.write(head('slowread', 'Content-Length: 20000\r\n'));
  let got = '';
  s.on('data', (d) => {
    got += d.toString();
  });
  const t0 = Date.now();
  for (let i = 0; i < 10 && !s.destroyed; i++) {
    s.write('x'.repeat(1000));
    await sleep(500);
  }
  console.log(
    'D after',
    Date.now() - t0,
    'ms client got:',
    JSON.stringify(got.split('\r\n').filter((l) => /^HTTP|x-cmg|connection/i.test(l))),
  );
  for (let i = 0; i < 10 && !s.destroyed; i++) s.write('x'.repeat(1000));
  s.write(`GET ${MP_BASE}/CCM_System/next HTTP/1.1\r\nHost: ${SERVICE}\r\n\r\n`);
  await sleep(2000);
  console.log(
    'D next request on same conn: total answers',
    (got.match(/HTTP\/1\.1 \d+/g) ?? []).join(','),
    'socket destroyed',
    s.destroyed,
  );
  s.destroy();
}
if (which === 'all' || which === 'stall') {
  const s = await rawConnection(pki, listen);
  s.write(`GET ${MP_BASE}/CCM_System/stall HTTP/1.1\r\nHost: ${SERVICE}\r\n\r\n`);
  const t = await readUntil(s, () => false, 8000).catch((e) => `ERR ${String(e).slice(0, 120)}`);
  console.log('H stall after 8 s (requestTimeoutMs 3000):', JSON.stringify(t.slice(0, 140)));
  s.destroy();
}
if (which === 'all' || which === 'evil') {
  const s = await rawConnection(pki, listen);
  s.write(`GET ${MP_BASE}/CCM_System/evil HTTP/1.1\r\nHost: ${SERVICE}\r\n\r\n`);
  const t = await readUntil(s, (x) => x.includes('\r\n\r\n'), 4000).catch((e) => String(e));
  console.log('C evil header:', JSON.stringify(t.split('\r\n').slice(0, 3)), 'gw exit?', gw.child.exitCode);
  s.destroy();
}
if (which === 'j') {
  const s2 = await rawConnection(pki, listen);
  s2.write(
    `GET ${MP_BASE}/CCM_System/early HTTP/1.1\r\nHost: ${SERVICE}\r\nUser-Agent: a\r\nUser-Agent: b\r\n\r\n`,
  );
  const t2 = await readUntil(s2, (x) => x.includes('\r\n\r\n'), 8000).catch((e) => String(e));
  console.log('J dup UA:', JSON.stringify(t2.split('\r\n').filter((l) => /^HTTP|x-cmg/i.test(l))));
  s2.destroy();
}
if (which === 'all' || which === 'dup') {
  const s = await rawConnection(pki, listen);
  const t0 = Date.now();
  s.write(`GET ${MP_BASE}/CCM_System/dupct HTTP/1.1\r\nHost: ${SERVICE}\r\n\r\n`);
  const t = await readUntil(s, (x) => x.includes('\r\n\r\n'), 8000).catch((e) => String(e));
  console.log(
    'I dup content-type from role after',
    Date.now() - t0,
    'ms:',
    JSON.stringify(t.split('\r\n').slice(0, 3)),
  );
  s.destroy();
  const s2 = await rawConnection(pki, listen);
  s2.write(
    `GET ${MP_BASE}/CCM_System/early HTTP/1.1\r\nHost: ${SERVICE}\r\nUser-Agent: a\r\nUser-Agent: b\r\n\r\n`,
  );
  const t2 = await readUntil(s2, (x) => x.includes('\r\n\r\n'), 8000).catch((e) => String(e));
  console.log(
    'J duplicate User-Agent from client:',
    JSON.stringify(t2.split('\r\n').filter((l) => /^HTTP|x-cmg/i.test(l))),
  );
  s2.destroy();
}
if (which === 'all' || which === 'noread') {
  const s = await rawConnection(pki, listen);
  s.write(`GET ${MP_BASE}/CCM_System/big HTTP/1.1\r\nHost: ${SERVICE}\r\n\r\n`);
  await sleep(300);
  s.pause();
  await sleep(7000);
  console.log(
    'K client not reading for 7 s (idleTimeoutMs 2000): socket destroyed?',
    s.destroyed,
    'mp conn closed?',
    seen.big?.closed,
  );
  s.destroy();
}
if (which === 'hup') {
  gw.child.kill('SIGHUP');
  await sleep(1000);
  console.log('E after SIGHUP gateway exitCode', gw.child.exitCode, 'signal', gw.child.signalCode);
}
console.log('--- gw http log tail');
console.log(
  gw
    .log('CMGHttpHandler.log')
    .split('\n')
    .slice(-8)
    .map((l) => l.slice(0, 260))
    .join('\n'),
);
console.log('--- cp log tail');
console.log(
  cp
    .log('SMS_CLOUD_PROXYCONNECTOR.log')
    .split('\n')
    .slice(-6)
    .map((l) => l.slice(0, 260))
    .join('\n'),
);
console.log('CP exit', cp.child.exitCode, 'GW exit', gw.child.exitCode);
console.log(
  cp
    .log('SMS_CLOUD_PROXYCONNECTOR.log')
    .split('\n')
    .filter((l) => /unexpected/.test(l))
    .join('\n')
    .slice(0, 1500),
);
await killAll();
mp.close();
lab.remove();
process.exit(0);
