import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from '../helpers/cli.js';

let dir = '';
test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'cmg-cli-'));
  for (const f of ['web.pem', 'web.key', 'root.pem', 'channel-ca.pem']) writeFileSync(join(dir, f), '');
  writeFileSync(
    join(dir, 'gateway.json'),
    JSON.stringify({
      serviceName: 'cmg.contoso.com',
      channel: { caFiles: ['channel-ca.pem'], sites: ['ps1'] },
      tls: { certFile: 'web.pem', keyFile: 'web.key' },
      clientAuth: { trustedRootFiles: ['root.pem'] },
    }),
  );
  writeFileSync(join(dir, 'bad.yaml'), 'serviceName: cmg.contoso.com\nlisten:\n  prot: 443\n');
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('--help lists the commands that exist and exits 0', async () => {
  const r = await runCli(['--help']);
  assert.is(r.code, 0);
  assert.match(r.stdout, /config\s+Check configuration files/);
  assert.match(r.stdout, /serve\s+Run one gateway instance/);
  assert.match(r.stdout, /connect\s+Run one connection point/);
  assert.match(r.stdout, /demo\s+Run the whole system on loopback/);
  assert.match(r.stdout, /logs\s+Read, filter, merge and follow CMTrace logs/);
  assert.match(r.stdout, /deploy\s+The gateway's Azure deployment/);
});

test('serve --print-systemd-unit prints a unit for this config and starts nothing', async () => {
  const r = await runCli([
    'serve',
    '--config',
    join(dir, 'gateway.json'),
    '--print-systemd-unit',
    '--user',
    'cmgsvc',
  ]);
  assert.is(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    new RegExp(
      `^ExecStart=\\S+ \\S*run\\.js serve --config ${join(dir, 'gateway.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`,
      'm',
    ),
  );
  assert.match(r.stdout, /^User=cmgsvc$/m);
  assert.match(r.stdout, /^NoNewPrivileges=yes$/m);
  assert.is(r.stderr, '');
});

test('--version prints name and version from package.json', async () => {
  const r = await runCli(['--version']);
  assert.is(r.code, 0);
  assert.match(r.stdout, /^cmg\/0\.1\.0 /);
});

test('valid config: exit 0, a human line on stdout', async () => {
  const r = await runCli(['config', 'check', join(dir, 'gateway.json')]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, `${join(dir, 'gateway.json')}: valid gateway configuration\n`);
});

test('--json: exactly one JSON document on stdout with the resolved config', async () => {
  const r = await runCli(['config', 'check', join(dir, 'gateway.json'), '--json']);
  assert.is(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(Object.keys(doc).sort(), ['config', 'file', 'kind', 'valid']);
  assert.is(doc.kind, 'gateway');
  assert.is(doc.valid, true);
  assert.equal(doc.config.channel.sites, ['PS1']);
  assert.is(doc.config.listen.port, 443);
  assert.is(doc.config.tls.certFile, join(dir, 'web.pem'));
  assert.is(doc.config.logDir, join(dir, 'logs'));
  assert.is(r.stderr, '');
});

test('invalid config: exit 2, the file, key, position and suggestion on stderr, nothing on stdout', async () => {
  const r = await runCli(['config', 'check', join(dir, 'bad.yaml')]);
  assert.is(r.code, 2);
  assert.is(r.stdout, '');
  assert.match(r.stderr, `invalid configuration in ${join(dir, 'bad.yaml')}`);
  assert.match(r.stderr, /line 3, column 3: listen\.prot: unknown key \(did you mean "port"\?\)/);
  assert.match(r.stderr, /channel: is required/);
  assert.not.match(r.stderr, /\n\s+at /, 'a stack trace was printed');
});

test('invalid config with --json: the error as one JSON document on stdout, exit 2', async () => {
  const r = await runCli(['config', 'check', join(dir, 'bad.yaml'), '--json']);
  assert.is(r.code, 2);
  const { error } = JSON.parse(r.stdout);
  assert.is(error.code, 'CMG_CONFIG_INVALID');
  assert.is(error.file, join(dir, 'bad.yaml'));
  const unknown = error.issues.find((i: { path: string }) => i.path === 'listen.prot');
  assert.equal([unknown.line, unknown.column], [3, 3]);
  assert.type(error.hint, 'string');
});

test('missing config file: exit 2 with CMG_CONFIG_NOT_FOUND', async () => {
  const r = await runCli(['config', 'check', join(dir, 'nope.json'), '--json']);
  assert.is(r.code, 2);
  assert.is(JSON.parse(r.stdout).error.code, 'CMG_CONFIG_NOT_FOUND');
});

test('unknown flag and missing argument: exit 2, usage error, no stack trace', async () => {
  for (const args of [
    ['config', 'check', join(dir, 'gateway.json'), '--bogus'],
    ['config', 'check'],
    ['config', 'check', join(dir, 'gateway.json'), '--kind', 'toaster'],
  ]) {
    const r = await runCli([...args, '--json']);
    assert.is(r.code, 2, args.join(' '));
    assert.is(JSON.parse(r.stdout).error.code, 'CMG_USAGE');
    assert.match(r.stderr, /^Error: /);
    assert.not.match(r.stderr, /\n\s+at /);
  }
});

test('unknown command: exit 2', async () => {
  const r = await runCli(['frobnicate']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /command frobnicate not found/);
});

test.run();
