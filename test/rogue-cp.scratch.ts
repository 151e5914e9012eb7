import { createServer as createH2 } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { encodeControl } from '../src/channel/control.js';
import { CONTROL_PATH } from '../src/channel/protocol.js';
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
  writeGatewayConfig,
} from './helpers/cluster.js';

const lab = tempLabDir('cmg-rv3-');
const pki = await makeLabPki(lab.dir);
const [listen, channel] = [await freePort(), await freePort()];
const gw = startDaemon(
  'gw',
  ['serve', '--config', writeGatewayConfig(pki, 'gw', { listen, channel })],
  lab.dir,
);
await gw.waitForOutput(/clients on/);
const value = process.argv[2] ?? 'a\x01b';
const sock = tlsConnect({
  host: '127.0.0.1',
  port: channel,
  servername: SERVICE,
  ca: pki.text('web-root.pem'),
  cert: pki.text('cp01.pem'),
  key: pki.text('cp01.key'),
  ALPNProtocols: ['cmg-channel/1'],
});
sock.on('error', () => undefined);
sock.on('secureConnect', () => {
  const srv = createH2();
  srv.on('session', (s) => s.on('error', () => undefined));
  srv.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    if (headers[':path'] === CONTROL_PATH) {
      stream.respond({ ':status': 200 });
      stream.write(
        encodeControl({
          type: 'manifest',
          protocol: 1,
          serial: 0,
          software: 'rogue',
          heartbeatSeconds: 20,
          endpoints: [{ external: `${MP_BASE}/CCM_System` }],
        }),
      );
      return;
    }
    try {
      stream.respond({ ':status': 200, 'x-evil': value });
      stream.end('ok');
    } catch (e) {
      console.log('respond threw', (e as Error).message);
    }
  });
  srv.emit('connection', sock);
});
await waitUntil('channel up', () => /channel up/.test(gw.log('CMGService.log')));
const c = await rawConnection(pki, listen);
c.write(`GET ${MP_BASE}/CCM_System/x HTTP/1.1\r\nHost: ${SERVICE}\r\n\r\n`);
const t = await readUntil(c, (x) => x.includes('ok'), 3000).catch((e) => String(e));
console.log('client got:', JSON.stringify(t.slice(0, 200)));
const code = await Promise.race([gw.exited, new Promise((r) => setTimeout(() => r('still running'), 1500))]);
console.log('gateway:', code);
console.log(
  gw
    .log('CMGService.log')
    .split('\n')
    .filter((l) => /unexpected/.test(l))
    .map((l) => l.slice(0, 300))
    .join('\n'),
);
await killAll();
lab.remove();
process.exit(0);
