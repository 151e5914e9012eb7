/**
 * The gateway's ARM template (src/deploy/template.ts): references that
 * resolve, the original's port layout, secrets kept out, and the cloud-init
 * an instance runs, parsed back and validated as the gateway will read it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse as parseYaml } from 'yaml';
import { gatewaySchema } from '../../src/config/gateway.js';
import { loadConfigFile } from '../../src/config/load.js';
import {
  type ArmResource,
  type ArmTemplate,
  buildTemplate,
  CHANNEL_HTTPS_BASE,
  CHANNEL_TLS_BASE,
  instancePorts,
  MAX_INSTANCES,
  resourceNames,
  TEMPLATE_PARAMETERS,
} from '../../src/deploy/template.js';
import { templateInput } from '../helpers/deploy-fixtures.js';

const input = templateInput;

/** `[resourceId('Type', 'a', 'b')]` as `Type a/b`. */
function resourceIdKey(expr: string): string | undefined {
  const m = /^\[resourceId\('([^']+)'((?:, '[^']+')+)\)\]$/.exec(expr);
  if (!m) return undefined;
  const names = [...(m[2] as string).matchAll(/'([^']+)'/g)].map((x) => x[1]);
  return `${m[1]} ${names.join('/')}`;
}

const declared = (t: ArmTemplate) => new Set(t.resources.map((r) => `${r.type} ${r.name}`));

/** Every string in a JSON value. */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) strings(x, out);
  return out;
}

test('every dependsOn names a resource the template declares', () => {
  for (const n of [1, 2, 16]) {
    const t = buildTemplate(input({ instances: n }));
    const names = declared(t);
    let count = 0;
    for (const r of t.resources) {
      for (const d of r.dependsOn ?? []) {
        const key = resourceIdKey(d);
        assert.ok(key, `${r.type} ${r.name}: dependsOn ${d} is not a resourceId()`);
        assert.ok(names.has(key as string), `${r.type} ${r.name}: dependsOn ${key}, which is not declared`);
        count++;
      }
    }
    assert.ok(count >= 8, `${count} dependencies checked`);
  }
});

test('every resourceId() and parameters() in the template resolves, and every parameter is used', () => {
  const t = buildTemplate(input());
  const names = declared(t);
  const all = strings(t.resources).concat(strings(t.outputs));
  const used = new Set<string>();
  for (const s of all) {
    for (const m of s.matchAll(/resourceId\('([^']+)'((?:, '[^']+')+)\)/g)) {
      const key = `${m[1]} ${[...(m[2] as string).matchAll(/'([^']+)'/g)].map((x) => x[1]).join('/')}`;
      assert.ok(names.has(key), `${s}: ${key} is not declared`);
    }
    for (const m of s.matchAll(/parameters\('([^']+)'\)/g)) {
      assert.ok((m[1] as string) in t.parameters, `${s}: parameter ${m[1]} is not declared`);
      used.add(m[1] as string);
    }
    assert.not.match(s, /variables\(/, `${s}: the template declares no variables`);
  }
  assert.equal([...used].sort(), [...TEMPLATE_PARAMETERS].sort());
  assert.equal(Object.keys(t.parameters).sort(), [...TEMPLATE_PARAMETERS].sort());
});

test('ports: instance i gets 10140+i and 10124+i, for 1, 2 and 16 instances; 443 is balanced', () => {
  for (const n of [1, 2, 16]) {
    const t = buildTemplate(input({ instances: n }));
    const lb = t.resources.find((r) => r.type === 'Microsoft.Network/loadBalancers') as ArmResource;
    const props = lb.properties as {
      inboundNatPools: {
        name: string;
        properties: { frontendPortRangeStart: number; frontendPortRangeEnd: number; backendPort: number };
      }[];
      loadBalancingRules: { properties: { frontendPort: number; backendPort: number } }[];
    };
    const pools = Object.fromEntries(props.inboundNatPools.map((p) => [p.name, p.properties]));
    assert.equal(pools['channel-tls'], {
      frontendPortRangeStart: 10140,
      frontendPortRangeEnd: 10155,
      backendPort: 10140,
      ...pickId(pools['channel-tls']),
    });
    assert.equal(pools['channel-https'], {
      frontendPortRangeStart: 10124,
      frontendPortRangeEnd: 10139,
      backendPort: 443,
      ...pickId(pools['channel-https']),
    });
    assert.equal(
      props.loadBalancingRules.map((r) => [r.properties.frontendPort, r.properties.backendPort]),
      [[443, 443]],
    );
    const vmss = t.resources.find(
      (r) => r.type === 'Microsoft.Compute/virtualMachineScaleSets',
    ) as ArmResource;
    assert.is((vmss.sku as { capacity: number }).capacity, n);
    const ports = Array.from({ length: n }, (_, i) => instancePorts(i));
    assert.equal(ports[0], { tls: 10140, https: 10124 });
    assert.equal(ports[n - 1], { tls: CHANNEL_TLS_BASE + n - 1, https: CHANNEL_HTTPS_BASE + n - 1 });
    for (const p of ports) {
      assert.ok(p.tls >= 10140 && p.tls <= 10155, `${p.tls} inside the tls pool`);
      assert.ok(p.https >= 10124 && p.https <= 10139, `${p.https} inside the https pool`);
    }
  }
  assert.equal(instancePorts(15), { tls: 10155, https: 10139 });
});

/** The protocol and frontend of a pool, whatever they are: the test above checks the ports. */
function pickId(p: unknown) {
  const { frontendIPConfiguration, protocol } = p as { frontendIPConfiguration: unknown; protocol: unknown };
  return { frontendIPConfiguration, protocol };
}

test('1-16 instances; anything else is refused', () => {
  for (const bad of [0, 17, 2.5, -1])
    assert.throws(() => buildTemplate(input({ instances: bad })), /instances must be 1-16/);
  assert.is(MAX_INSTANCES, 16);
});

test('secrets stay out of the template: the PFX and its passphrase are parameters', () => {
  const t = buildTemplate(input());
  const text = JSON.stringify(t);
  assert.is(t.parameters.webCertificatePfx?.type, 'securestring');
  assert.is(t.parameters.webCertificatePassphrase?.type, 'securestring');
  assert.ok(text.includes("[parameters('webCertificatePfx')]"));
  assert.not.ok(/BEGIN (RSA |EC )?PRIVATE KEY/.test(text));
});

test('the same config builds the same template (a second deployment changes nothing)', () => {
  assert.equal(JSON.stringify(buildTemplate(input())), JSON.stringify(buildTemplate(input())));
  const a = resourceNames(input());
  const b = resourceNames(input({ resourceGroup: 'cmg-test' }));
  assert.is.not(a.storageAccount, b.storageAccount, 'names unique worldwide differ per group');
  for (const n of [a, b]) {
    assert.match(n.storageAccount, /^[a-z0-9]{3,24}$/);
    assert.match(n.keyVault, /^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/);
  }
  const long = resourceNames(input({ prefix: 'abcdefghijklmnopqrstuvwx' }));
  assert.ok(long.storageAccount.length <= 24 && long.keyVault.length <= 24);
});

test('cloud-init: writes the gateway config, which validates as cmg serve reads it, and starts cmg serve with it', () => {
  const t = buildTemplate(input());
  const vmss = t.resources.find((r) => r.type === 'Microsoft.Compute/virtualMachineScaleSets') as ArmResource;
  const profile = (vmss.properties as { virtualMachineProfile: { osProfile: { customData: string } } })
    .virtualMachineProfile;
  const userData = Buffer.from(profile.osProfile.customData, 'base64').toString('utf8');
  assert.ok(userData.startsWith('#cloud-config\n'));
  const doc = parseYaml(userData) as {
    write_files: { path: string; content: string; encoding?: string; permissions: string }[];
    runcmd: string[][];
  };
  const files = new Map(doc.write_files.map((f) => [f.path, f]));
  const root = mkdtempSync(join(tmpdir(), 'cmg-cloud-init-'));
  try {
    // The instance's files, under a temp root; web.pfx is fetched from Key Vault at boot.
    for (const f of doc.write_files) {
      const at = join(root, f.path);
      mkdirSync(dirname(at), { recursive: true });
      writeFileSync(at, f.encoding === 'b64' ? Buffer.from(f.content, 'base64') : f.content);
    }
    writeFileSync(join(root, 'etc/cmg/web.pfx'), 'placeholder');
    const configText = (files.get('/etc/cmg/gateway.json') as { content: string }).content.replaceAll(
      '/etc/cmg/',
      `${root}/etc/cmg/`,
    );
    writeFileSync(join(root, 'gateway.json'), configText);
    const config = loadConfigFile(join(root, 'gateway.json'), gatewaySchema, { CMG_WEB_PFX_PASSPHRASE: 'x' });
    assert.is(config.serviceName, 'cmg.contoso.com');
    assert.is(config.listen.port, 443);
    assert.is(config.channel.port, 10140);
    assert.equal(config.channel.sites, ['PS1']);
    assert.is(config.clientAuth.trustedRootFiles.length, 2);
    assert.is(config.clientAuth.crlFiles.length, 1);
    assert.is(config.clientAuth.checkCrl, true);
    assert.equal(config.tls, {
      kind: 'pfx',
      pfxFile: `${root}/etc/cmg/web.pfx`,
      passphraseEnv: 'CMG_WEB_PFX_PASSPHRASE',
    });
    assert.is(files.get('/etc/cmg/crl-1.crl')?.encoding, 'b64');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const unit = (files.get('/etc/systemd/system/cmg-gateway.service') as { content: string }).content;
  assert.match(unit, /^ExecStart=\/usr\/local\/bin\/cmg serve --config \/etc\/cmg\/gateway\.json$/m);
  assert.match(unit, /^EnvironmentFile=\/etc\/cmg\/cmg-gateway\.env$/m);
  assert.match(unit, /^User=cmg$/m);
  const setup = (files.get('/usr/local/lib/cmg/setup.sh') as { content: string; permissions: string })
    .content;
  assert.equal(doc.runcmd, [['/usr/local/lib/cmg/setup.sh']]);
  assert.is(files.get('/usr/local/lib/cmg/setup.sh')?.permissions, '0755');
  assert.match(setup, /systemctl enable --now cmg-gateway/);
  assert.match(
    setup,
    new RegExp(`${'a'.repeat(64)}  /usr/local/bin/cmg.download`),
    'the binary is checked by its SHA-256',
  );
  assert.match(setup, /CMGSetup\.log/);
  assert.ok(
    setup.includes(
      `https://${resourceNames(input()).storageAccount}.blob.core.windows.net/logs/'"$(hostname)/CMGSetup.log"`,
    ),
    'CMGSetup.log goes to storage',
  );
  assert.match(setup, /trap '.*upload_log' ERR/);
  const names = resourceNames(input());
  assert.ok(setup.includes(`https://${names.storageAccount}.blob.core.windows.net/artifacts/cmg-0.1.0`));
  assert.ok(setup.includes(`https://${names.keyVault}.vault.azure.net/secrets/`));
});

test('cloud-init setup script: valid bash (bash -n), and a URL artifact is downloaded from the URL', async () => {
  const { spawnSync } = await import('node:child_process');
  for (const artifact of [
    input().artifact,
    { kind: 'url' as const, url: "https://downloads.contoso.com/cmg?v=1&x=it's", sha256: 'b'.repeat(64) },
  ]) {
    const t = buildTemplate(input({ artifact }));
    const vmss = t.resources.find(
      (r) => r.type === 'Microsoft.Compute/virtualMachineScaleSets',
    ) as ArmResource;
    const userData = Buffer.from(
      (vmss.properties as { virtualMachineProfile: { osProfile: { customData: string } } })
        .virtualMachineProfile.osProfile.customData,
      'base64',
    ).toString('utf8');
    const doc = parseYaml(userData) as { write_files: { path: string; content: string }[] };
    const setup = doc.write_files.find((f) => f.path === '/usr/local/lib/cmg/setup.sh')?.content as string;
    const r = spawnSync('bash', ['-n'], { input: setup, encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    if (artifact.kind === 'url')
      assert.ok(setup.includes(`'https://downloads.contoso.com/cmg?v=1&x=it'\\''s'`));
  }
});

test.run();
