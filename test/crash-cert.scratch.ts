import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import {
  freePort,
  killAll,
  makeLabPki,
  SERVICE,
  startDaemon,
  tempLabDir,
  writeGatewayConfig,
} from './helpers/cluster.js';

const lab = tempLabDir('cmg-rv-');
const pki = await makeLabPki(lab.dir);
const which = process.argv[2] ?? 'client';
const ports = { listen: await freePort(), channel: await freePort() };
const gw = startDaemon('gw', ['serve', '--config', writeGatewayConfig(pki, 'gw', ports)], lab.dir);
await gw.waitForOutput(/clients on/);
const cert = readFileSync('/tmp/rv/bad.pem', 'utf8');
const key = readFileSync('/tmp/rv/bad.key', 'utf8');
const port = which === 'client' ? ports.listen : ports.channel;
const s = tlsConnect({
  host: '127.0.0.1',
  port,
  servername: SERVICE,
  rejectUnauthorized: false,
  cert,
  key,
  ALPNProtocols: which === 'client' ? ['http/1.1'] : ['cmg-channel/1'],
});
s.on('secureConnect', () => {
  console.log('handshake ok, alpn', s.alpnProtocol);
  if (which === 'client') s.write(`GET /nothing HTTP/1.1\r\nHost: ${SERVICE}\r\n\r\n`);
});
s.on('data', (d) => console.log('got', d.toString().split('\r\n')[0]));
s.on('error', (e) => console.log('client err', e.message));
const code = await Promise.race([gw.exited, new Promise((r) => setTimeout(() => r('still running'), 3000))]);
console.log('gateway:', code);
console.log(gw.output().slice(-600));
console.log(gw.log('CMGService.log').slice(-700));
s.destroy();
await killAll();
lab.remove();
