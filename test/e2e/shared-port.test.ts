/**
 * One port for everything, as a single-instance deployment runs on 443:
 * without channel.port, connection points dial the client port and the
 * gateway tells them apart by ALPN cmg-channel/1.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { StandInMp } from '../../src/demo/management-point.js';
import {
  clientRequest,
  type Daemon,
  freePort,
  killAll,
  type LabPki,
  MP_BASE,
  makeLabPki,
  rawConnection,
  readUntil,
  SERVICE,
  startDaemon,
  startMp,
  statusLines,
  tempLabDir,
  waitUntil,
  writeConnectorConfig,
  writeGatewayConfig,
} from '../helpers/cluster.js';

const test = suite('channel on the client port (ALPN) (e2e)');
let pki: LabPki;
let mp: StandInMp;
let port: number;
let remove: () => void;
let gateway: Daemon;

test.before(async () => {
  const tmp = tempLabDir('cmg-e2e-shared-');
  remove = tmp.remove;
  pki = await makeLabPki(tmp.dir);
  mp = await startMp(pki);
  port = await freePort();
  const gw = writeGatewayConfig(pki, 'gateway', { listen: port, channel: 0 }, { sharedPort: true });
  const cp = writeConnectorConfig(pki, 'cp01', { cert: 'cp01', gatewayPorts: [port], mpUrl: mp.url });
  gateway = startDaemon('gateway', ['serve', '--config', gw], pki.dir);
  await gateway.waitForOutput(/connection points on 127\.0\.0\.1:\d+ \(ALPN\)/);
  startDaemon('cp01', ['connect', '--config', cp], pki.dir);
});

test.after(async () => {
  await killAll();
  await mp?.close();
  remove?.();
});

test('a connection point dials the client port; clients and channel share it', async () => {
  const a = await waitUntil('a request through the shared port', async () => {
    const r = await clientRequest(pki, {
      port,
      method: 'CCM_POST',
      path: `${MP_BASE}/CCM_System/request`,
      body: 'x',
      cert: 'client',
    });
    return r.status === 200 ? r : undefined;
  });
  assert.match(a.body.toString(), /<ReplyMessage>/);
  assert.is(mp.requests.at(-1)?.headers.via, '1.1 cp01.PS1.cmg');
});

test('a client that offers only the channel protocol without a channel certificate is refused, and serves nothing', async () => {
  const before = mp.requests.length;
  // A client certificate is not a connection point certificate: the channel is refused.
  const { connect } = await import('node:tls');
  const s = connect({
    host: '127.0.0.1',
    port,
    servername: SERVICE,
    ca: pki.text('web-root.pem'),
    cert: pki.text('client.pem'),
    key: pki.text('client.key'),
    ALPNProtocols: ['cmg-channel/1'],
  });
  s.on('error', () => undefined);
  s.resume();
  await waitUntil('the gateway to close the refused channel', () => s.destroyed || s.readableEnded, 5000);
  assert.is(mp.requests.length, before);
  await waitUntil('the refusal in CMGService.log', () =>
    /connection point refused from 127\.0\.0\.1:\d+ \(CN=client01\): CMG_CERT_/.test(
      gateway.log('CMGService.log'),
    ),
  );
  // A plain HTTPS client on the same port is unaffected.
  const c = await rawConnection(pki, port);
  c.write(`GET ${MP_BASE}/CCM_System/echo HTTP/1.1\r\nHost: ${SERVICE}\r\n\r\n`);
  const text = await readUntil(c, (t) => /\r\n\r\n[\s\S]*\}$/.test(t));
  c.destroy();
  assert.equal(statusLines(text), [200]);
});

test.run();
