/**
 * `cmg deploy` end to end: the built CLI as a child process, signing in to
 * and deploying against the Entra ID and ARM emulator (test/helpers/
 * azure-emulator.ts) with the real Azure SDKs. Every command, and the
 * failures an admin must be able to read: wrong credentials, missing
 * permissions, quota, throttling, a deployment failing midway, an
 * interrupted wait.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { privateKeyDer } from '../../src/certs/keys.js';
import { writePfx } from '../../src/certs/pfx.js';
import { type AzureEmulator, startAzureEmulator } from '../helpers/azure-emulator.js';
import { type CliResult, REPO, RUN_JS, runCli } from '../helpers/cli.js';
import { issue, makeRoot } from '../helpers/pki.js';
import { useTempDir } from '../helpers/temp-dir.js';

const tmp = useTempDir(test, 'cmg-e2e-deploy-');
let emu: AzureEmulator;
const GROUP = 'cmg-e2e';

/** Real material: a web certificate for the public name in a PFX, a root and a channel CA as PEM. */
let pfx: Buffer;
let rootPem: string;
let caPem: string;
test.before(async () => {
  emu = await startAzureEmulator({ provisioningMs: 20 });
  const root = await makeRoot();
  const web = await issue('server', root, {
    subject: 'CN=cmg web',
    dns: ['contosocmg.westeurope.cloudapp.azure.com'],
  });
  pfx = writePfx({
    keyDer: await privateKeyDer(web.keyPair.privateKey),
    certificates: [web.cert.der, root.cert.der],
    passphrase: 'pfx passphrase',
  });
  rootPem = root.cert.toPem();
  caPem = (await makeRoot({ subject: 'CN=Channel CA' })).cert.toPem();
});
test.after(async () => {
  await emu?.close();
});

/** A stand-in for the Linux x64 binary: what cmg checks is the ELF header (64-bit, x86-64). */
const BINARY = Buffer.alloc(300_000, 7);
Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]).copy(BINARY, 0);
BINARY.writeUInt16LE(0x3e, 18);

/** A deploy config pointing at the emulator; its files written to the temp folder. */
function writeConfig(over: Record<string, unknown> = {}, name = 'deploy.json'): string {
  writeFileSync(join(tmp.dir, 'web.pfx'), pfx);
  writeFileSync(join(tmp.dir, 'root.pem'), rootPem);
  writeFileSync(join(tmp.dir, 'channel-ca.pem'), caPem);
  writeFileSync(join(tmp.dir, 'id.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ cmgadmin\n');
  writeFileSync(join(tmp.dir, 'cmg-binary'), BINARY);
  writeFileSync(join(tmp.dir, 'emulator-ca.pem'), emu.caPem);
  const config = {
    endpoints: {
      arm: emu.url,
      authority: emu.url,
      audience: 'https://management.azure.com',
      blob: `${emu.url}/blob/{account}`,
    },
    subscriptionId: emu.subscriptionId,
    resourceGroup: GROUP,
    region: 'westeurope',
    servicePrefix: 'contosocmg',
    instances: 2,
    auth: { tenantId: emu.tenantId, clientId: emu.clientId, secretEnv: 'CMG_E2E_SECRET' },
    webCertificate: { pfxFile: 'web.pfx', passphraseEnv: 'CMG_E2E_PFX' },
    clientAuth: { trustedRootFiles: ['root.pem'] },
    channel: { caFiles: ['channel-ca.pem'], sites: ['PS1'] },
    sshPublicKeyFile: 'id.pub',
    artifact: { binaryFile: 'cmg-binary' },
    ...over,
  };
  const file = join(tmp.dir, name);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

const env = (over: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  NODE_EXTRA_CA_CERTS: join(tmp.dir, 'emulator-ca.pem'),
  CMG_E2E_SECRET: emu.clientSecret,
  CMG_E2E_PFX: 'pfx passphrase',
  CMG_DEPLOY_POLL_MS: '20',
  ...over,
});

const deploy = (args: string[], over: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<CliResult> =>
  runCli(['deploy', ...args], { env: env(over), timeoutMs });

const json = <T>(r: CliResult): T => {
  assert.ok(r.stdout.trim().startsWith('{'), `JSON on stdout: ${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
};

test('plan before anything exists: every resource is new, the ports and the sizing are shown', async () => {
  const config = writeConfig();
  const r = await deploy(['plan', '--config', config, '--clients', '20000', '--json']);
  assert.is(r.code, 0, r.stderr);
  const plan = json<{
    resourceGroupExists: boolean;
    changes: { changeType: string; resourceType: string; name: string }[];
    channelPorts: { instance: number; tls: number; https: number }[];
    publicName: string;
    sizing: { instances: number; outboundGbPerMonth: { low: number; high: number } };
  }>(r);
  assert.is(plan.resourceGroupExists, false);
  assert.ok(plan.changes.length >= 10 && plan.changes.every((c) => c.changeType === 'Create'));
  assert.ok(plan.changes.some((c) => c.resourceType === 'Microsoft.Compute/virtualMachineScaleSets'));
  assert.equal(plan.channelPorts, [
    { instance: 0, tls: 10140, https: 10124 },
    { instance: 1, tls: 10141, https: 10125 },
  ]);
  assert.is(plan.publicName, 'contosocmg.westeurope.cloudapp.azure.com');
  assert.equal(plan.sizing, { clients: 20000, instances: 4, outboundGbPerMonth: { low: 2000, high: 6000 } });
  assert.not.ok(emu.state.resourceGroups.has(GROUP), 'plan touches nothing');
  const log = readFileSync(join(tmp.dir, 'logs', 'CloudMgr.log'), 'utf8');
  assert.match(log, /deploy plan: \d+ Create/);
});

test('bad material is refused before Azure is asked anything: PFX passphrase, names, SSH key, binary', async () => {
  const before = emu.requests.length;
  const cases: [Record<string, unknown>, NodeJS.ProcessEnv, RegExp][] = [
    [{}, { CMG_E2E_PFX: 'wrong' }, /webCertificate\.pfxFile: .*web\.pfx: .*passphrase/i],
    [{ customDomain: 'cmg.fabrikam.com' }, {}, /is for CN=cmg web, not cmg\.fabrikam\.com/],
    [{ sshPublicKeyFile: 'web.pfx' }, {}, /is not an SSH public key/],
    [{ artifact: { binaryFile: 'root.pem' } }, {}, /is not a Linux x64 executable/],
  ];
  for (const [over, e, message] of cases) {
    const r = await deploy(['plan', '--config', writeConfig(over, 'bad.json')], e);
    assert.is(r.code, 2, `${JSON.stringify(over)}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.is(emu.requests.length, before, 'nothing was sent');
});

test('create: group, binary upload, template deployed resource by resource, instances running; again: nothing changes', async () => {
  const config = writeConfig();
  const r = await deploy(['create', '--config', config, '--json']);
  assert.is(r.code, 0, r.stderr);
  const out = json<{
    artifact: string;
    correlationId: string;
    instances: { running: number; total: number };
  }>(r);
  assert.is(out.artifact, 'uploaded');
  assert.equal(out.instances, { running: 2, total: 2 });
  assert.ok(
    emu.state.resourceGroups.has(GROUP) ||
      [...emu.state.resourceGroups.keys()].some((k) => k.toLowerCase().includes(GROUP)),
  );
  const sha = createHash('sha256').update(BINARY).digest('hex');
  const blob = [...emu.state.blobs.entries()].find(([k]) => k.includes(`cmg-${sha.slice(0, 16)}`));
  assert.ok(blob, `the binary is in storage: ${[...emu.state.blobs.keys()]}`);
  assert.is(createHash('sha256').update(blob[1]).digest('hex'), sha);
  assert.match(r.stderr, /Deploy the template/);
  const log = readFileSync(join(tmp.dir, 'logs', 'CloudMgr.log'), 'utf8');
  assert.match(log, /Microsoft.Compute\/virtualMachineScaleSets contosocmg-vmss: Succeeded/);
  assert.ok(out.correlationId && log.includes(out.correlationId), 'the correlation id is logged');

  const uploads = emu.requests.filter((q) => q.method === 'PUT' && q.path.includes('/blob/')).length;
  const again = await deploy(['create', '--config', config, '--json']);
  assert.is(again.code, 0, again.stderr);
  assert.is(json<{ artifact: string }>(again).artifact, 'already there');
  assert.is(
    emu.requests.filter((q) => q.method === 'PUT' && q.path.includes('/blob/')).length,
    uploads,
    'not uploaded twice',
  );
  const plan = await deploy(['plan', '--config', config, '--json']);
  assert.is(plan.code, 0, plan.stderr);
  const changes = json<{ changes: { changeType: string }[] }>(plan).changes;
  // Ignore: in the group but not in the template (the uploader's role on storage, from the storage step), left alone.
  assert.ok(
    changes.length > 10 && changes.every((c) => c.changeType === 'NoChange' || c.changeType === 'Ignore'),
    JSON.stringify(changes),
  );
  assert.is(changes.filter((c) => c.changeType === 'Ignore').length, 1);
});

test('status, scale, stop, start', async () => {
  const config = writeConfig();
  const s = await deploy(['status', '--config', config, '--json']);
  assert.is(s.code, 0, s.stderr);
  const status = json<{
    provisioningState: string;
    instances: { powerState: string; channelPorts: { tls: number } }[];
  }>(s);
  assert.is(status.provisioningState, 'Succeeded');
  assert.equal(
    status.instances.map((i) => [i.powerState, i.channelPorts.tls]),
    [
      ['running', 10140],
      ['running', 10141],
    ],
  );
  const human = await deploy(['status', '--config', config]);
  assert.match(human.stdout, /instance 1 .*running.*channel ports 10141 \(TLS\), 10125 \(HTTPS\)/);

  const scaled = await deploy(['scale', '--config', config, '--instances', '3', '--json']);
  assert.is(scaled.code, 0, scaled.stderr);
  assert.is(json<{ capacity: number }>(scaled).capacity, 3);
  const after = json<{ instances: unknown[] }>(await deploy(['status', '--config', config, '--json']));
  assert.is(after.instances.length, 3);

  assert.is((await deploy(['stop', '--config', config])).code, 0);
  const stopped = await deploy(['status', '--config', config, '--json']);
  assert.is(stopped.code, 1, 'not every instance runs');
  assert.ok(
    json<{ instances: { powerState: string }[] }>(stopped).instances.every(
      (i) => i.powerState === 'deallocated',
    ),
  );
  assert.is((await deploy(['start', '--config', config])).code, 0);
  assert.is((await deploy(['status', '--config', config])).code, 0);
  assert.is(
    (await deploy(['scale', '--config', config, '--instances', '17'])).code,
    2,
    'out of range is a usage error',
  );
});

test("a deployment failing midway (quota): the failing resource and Azure's message; status shows it; create again recovers", async () => {
  const config = writeConfig({ resourceGroup: 'cmg-quota' }, 'quota.json');
  const quota =
    'Operation could not be completed as it results in exceeding approved standardAv2Family Cores quota. ' +
    'Location: westeurope, Current Limit: 4, Current Usage: 4, Additional Required: 4';
  emu.failResource({
    type: 'Microsoft.Compute/virtualMachineScaleSets',
    code: 'QuotaExceeded',
    message: quota,
    count: 1,
  });
  const r = await deploy(['create', '--config', config]);
  assert.is(r.code, 1);
  assert.ok(
    r.stderr.includes(`Microsoft.Compute/virtualMachineScaleSets contosocmg-vmss: QuotaExceeded: ${quota}`),
    r.stderr,
  );
  assert.match(r.stderr, /run cmg deploy create again/);
  const log = readFileSync(join(tmp.dir, 'logs', 'CloudMgr.log'), 'utf8');
  assert.ok(log.includes(quota), 'the full error is in CloudMgr.log');
  const s = await deploy(['status', '--config', config, '--json']);
  assert.is(s.code, 1);
  const status = json<{ provisioningState: string; error: { details: { code: string; message: string }[] } }>(
    s,
  );
  assert.is(status.provisioningState, 'Failed');
  assert.ok(JSON.stringify(status.error).includes('QuotaExceeded'), JSON.stringify(status.error));
  const again = await deploy(['create', '--config', config]);
  assert.is(again.code, 0, again.stderr);
  assert.is((await deploy(['status', '--config', config])).code, 0);
});

test('throttling: a 429 with Retry-After is waited out and retried', async () => {
  const config = writeConfig({ resourceGroup: 'cmg-throttled' }, 'throttled.json');
  const from = emu.requests.length;
  emu.inject({
    method: 'PUT',
    path: /\/resourcegroups\/cmg-throttled(\?|$)/i,
    status: 429,
    headers: { 'Retry-After': '1' },
    count: 1,
  });
  const r = await deploy(['create', '--config', config, '--no-wait']);
  assert.is(r.code, 0, r.stderr);
  const puts = emu.requests
    .slice(from)
    .filter((q) => q.method === 'PUT' && /\/resourcegroups\/cmg-throttled(\?|$)/i.test(q.path));
  assert.is(puts[0]?.status, 429);
  assert.ok(puts[1] && puts[1].status < 300, `then ${puts[1]?.status}`);
  assert.ok(
    (puts[1]?.time ?? 0) - (puts[0]?.time ?? 0) >= 950,
    `retried after ${(puts[1]?.time ?? 0) - (puts[0]?.time ?? 0)} ms`,
  );
});

test('Ctrl-C while waiting: exit 130 with a message; the deployment carries on and status shows it', async () => {
  const config = writeConfig({ resourceGroup: 'cmg-interrupted' }, 'interrupted.json');
  const before = emu.provisioningMs;
  emu.provisioningMs = 300;
  try {
    const child = spawn(process.execPath, [RUN_JS, 'deploy', 'create', '--config', config], {
      cwd: REPO,
      env: { ...process.env, NO_COLOR: '1', ...env() },
    });
    let stderr = '';
    child.stderr.on('data', (b) => {
      stderr += b;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (!/Deploy the template/.test(stderr) && Date.now() < deadline) await sleep(20);
    assert.match(stderr, /Deploy the template/);
    child.kill('SIGINT');
    assert.is(await exited, 130);
    assert.match(
      stderr,
      /Stopped waiting\. What Azure was asked to do carries on there: cmg deploy status shows it/,
    );
    // At once again: it waits for the deployment still running, then carries on (not DeploymentActive).
    const again = await deploy(['create', '--config', config]);
    assert.is(again.code, 0, again.stderr);
    let state = '';
    while (Date.now() < deadline + 30_000) {
      const s = await deploy(['status', '--config', config, '--json']);
      state = s.stdout.trim().startsWith('{') ? json<{ provisioningState: string }>(s).provisioningState : '';
      if (state === 'Succeeded') break;
      await sleep(100);
    }
    assert.is(state, 'Succeeded');
  } finally {
    emu.provisioningMs = before;
  }
});

test('delete: asks for --yes off a terminal, removes the group; a group cmg did not make is refused', async () => {
  const config = writeConfig({ resourceGroup: 'cmg-throttled' }, 'throttled.json');
  const no = await deploy(['delete', '--config', config]);
  assert.is(no.code, 2);
  assert.match(no.stderr, /confirm with --yes/);
  const yes = await deploy(['delete', '--config', config, '--yes', '--json']);
  assert.is(yes.code, 0, yes.stderr);
  assert.equal(json(yes), { resourceGroup: 'cmg-throttled', result: 'deleted' });
  const gone = await deploy(['status', '--config', config]);
  assert.is(gone.code, 1);
  assert.match(gone.stderr, /no gateway deployment in resource group cmg-throttled/);
  emu.state.resourceGroups.set('not-ours', { name: 'not-ours', location: 'westeurope', tags: {} });
  const foreign = await deploy([
    'delete',
    '--config',
    writeConfig({ resourceGroup: 'not-ours' }, 'foreign.json'),
    '--yes',
  ]);
  assert.is(foreign.code, 1);
  assert.match(foreign.stderr, /was not created by cmg deploy/);
});

test('sign-in with the management certificate; wrong secret (401); no permission (403 AuthorizationFailed)', async () => {
  const out = join(tmp.dir, 'mgmt');
  const made = await runCli(['certs', 'management', 'create', '--out', out]);
  assert.is(made.code, 0, made.stderr);
  const pem = readFileSync(`${out}.pem`, 'utf8');
  const certPem = pem.slice(pem.indexOf('-----BEGIN CERTIFICATE-----'));
  const clientId = 'c0ffee00-0000-4000-8000-00000000beef';
  emu.addCertificateCredential(clientId, certPem);
  const config = writeConfig(
    { auth: { tenantId: emu.tenantId, clientId, certificateFile: `${out}.pem` } },
    'cert.json',
  );
  const ok = await deploy(['status', '--config', config]);
  assert.is(ok.code, 0, ok.stderr);

  const bad = await deploy(['status', '--config', writeConfig()], { CMG_E2E_SECRET: 'wrong' });
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /signing in to Azure failed: .*AADSTS7000215/, bad.stderr);
  assert.match(bad.stderr, /Check auth in the deploy config/);
  assert.not.match(bad.stderr, /\bat \w+ \(/, 'no stack trace');

  emu.denyClient(clientId);
  const denied = await deploy(['status', '--config', config]);
  assert.is(denied.code, 1);
  assert.match(denied.stderr, /AuthorizationFailed/);
  assert.match(denied.stderr, /needs the Contributor role/);
});

test.run();
