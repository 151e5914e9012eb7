import {
  freePort,
  killAll,
  MP_BASE,
  makeLabPki,
  startDaemon,
  tempLabDir,
  writeConnectorConfig,
  writeGatewayConfig,
} from './helpers/cluster.js';

const lab = tempLabDir('cmg-rv4-');
const pki = await makeLabPki(lab.dir);
const [listen, channel] = [await freePort(), await freePort()];
const gw = startDaemon(
  'gw',
  ['serve', '--config', writeGatewayConfig(pki, 'gw', { listen, channel })],
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
      mpUrl: 'https://localhost:1',
      endpoints: [{ external: `${MP_BASE}/${'x'.repeat(1100)}`, internal: 'https://localhost:1/x' }],
    }),
  ],
  lab.dir,
);
await new Promise((r) => setTimeout(r, 6000));
const downs = cp
  .log('SMS_CLOUD_PROXYCONNECTOR.log')
  .split('\n')
  .filter((l) => /down:/.test(l));
console.log('cp: channel-down lines in 3 s:', downs.length);
console.log(
  downs
    .slice(0, 2)
    .map((l) => l.slice(0, 220))
    .join('\n'),
);
console.log(
  'gw: channel down lines:',
  gw
    .log('CMGService.log')
    .split('\n')
    .filter((l) => /channel down/.test(l)).length,
);
console.log(
  cp
    .log('SMS_CLOUD_PROXYCONNECTOR.log')
    .split('\n')
    .map((l) => l.slice(0, 200))
    .join('\n'),
);
console.log(
  gw
    .log('CMGService.log')
    .split('\n')
    .map((l) => l.slice(0, 200))
    .join('\n'),
);
await killAll();
lab.remove();
process.exit(0);
