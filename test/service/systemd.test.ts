import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { currentExec, systemdUnit } from '../../src/service/systemd.js';

const base = {
  what: 'cmg gateway for cmg.contoso.com',
  configFile: '/etc/cmg/gateway.json',
  logDir: '/var/log/cmg',
  exec: ['/usr/local/bin/cmg'],
  user: 'cmg',
  stopTimeoutSeconds: 45,
};

const directives = (unit: string) =>
  new Map(
    unit
      .split('\n')
      .filter((l) => /^[A-Za-z]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]),
  );

test('the gateway unit: runs serve with the config, hardened, keeps only CAP_NET_BIND_SERVICE, reloads with SIGHUP', () => {
  const d = directives(systemdUnit({ command: 'serve', ...base }));
  assert.is(d.get('ExecStart'), '/usr/local/bin/cmg serve --config /etc/cmg/gateway.json');
  assert.is(d.get('User'), 'cmg');
  assert.is(d.get('NoNewPrivileges'), 'yes');
  assert.is(d.get('ProtectSystem'), 'strict');
  assert.is(d.get('ReadWritePaths'), '/var/log/cmg');
  assert.is(d.get('CapabilityBoundingSet'), 'CAP_NET_BIND_SERVICE');
  assert.is(d.get('AmbientCapabilities'), 'CAP_NET_BIND_SERVICE');
  assert.is(d.get('Restart'), 'on-failure');
  assert.is(d.get('ExecReload'), '/bin/kill -HUP $MAINPID');
  assert.is(d.get('TimeoutStopSec'), '45');
  assert.is(d.get('WantedBy'), 'multi-user.target');
  assert.not.ok(d.has('EnvironmentFile'));
});

test('the connector unit: no capabilities at all; a PFX passphrase comes from an environment file, never the command line', () => {
  const unit = systemdUnit({
    command: 'connect',
    ...base,
    configFile: '/etc/cmg/c.json',
    passphraseEnv: 'CMG_PFX',
  });
  const d = directives(unit);
  assert.is(d.get('ExecStart'), '/usr/local/bin/cmg connect --config /etc/cmg/c.json');
  assert.is(d.get('CapabilityBoundingSet'), '');
  assert.not.ok(d.has('AmbientCapabilities'));
  assert.is(d.get('EnvironmentFile'), '/etc/cmg/cmg-connector.env');
  assert.match(unit, /# CMG_PFX=<the PFX passphrase>/);
});

test('paths with spaces are quoted; from a checkout the unit runs node with bin/run.js', () => {
  const d = directives(
    systemdUnit({
      command: 'serve',
      ...base,
      configFile: '/etc/my cmg/gateway.json',
      exec: ['/usr/bin/node', '/opt/cmg/bin/run.js'],
    }),
  );
  assert.is(
    d.get('ExecStart'),
    '/usr/bin/node /opt/cmg/bin/run.js serve --config "/etc/my cmg/gateway.json"',
  );
  assert.equal(currentExec(['/usr/bin/node', '/opt/cmg/bin/run.js'], '/usr/bin/node'), [
    '/usr/bin/node',
    '/opt/cmg/bin/run.js',
  ]);
  assert.equal(currentExec(['/usr/local/bin/cmg', '/usr/local/bin/cmg'], '/usr/local/bin/cmg'), [
    '/usr/local/bin/cmg',
  ]);
});

test.run();
