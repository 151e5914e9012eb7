/** The deploy config (`cmg deploy --config`): what is accepted, and the exact errors for what is not. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadDeployConfig } from '../../src/config/deploy.js';
import { ConfigError, exitCodeFor } from '../../src/errors.js';
import { useTempDir } from '../helpers/temp-dir.js';

const tmp = useTempDir(test, 'cmg-deploy-config-');

type Json = Record<string, unknown>;

function minimal(over: Json = {}): Json {
  for (const f of ['web.pfx', 'root.pem', 'channel-ca.pem', 'id.pub', 'mgmt.pem', 'cmg'])
    writeFileSync(join(tmp.dir, f), 'x');
  return {
    subscriptionId: '11111111-2222-3333-4444-555555555555',
    resourceGroup: 'cmg-prod',
    region: 'westeurope',
    servicePrefix: 'contosocmg',
    auth: {
      tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      clientId: '0a1b2c3d-0000-4000-8000-000000000001',
      certificateFile: 'mgmt.pem',
    },
    webCertificate: { pfxFile: 'web.pfx', passphraseEnv: 'CMG_WEB_PFX' },
    clientAuth: { trustedRootFiles: ['root.pem'] },
    channel: { caFiles: ['channel-ca.pem'], sites: ['ps1'] },
    sshPublicKeyFile: 'id.pub',
    artifact: { binaryFile: 'cmg' },
    ...over,
  };
}

const ENV = { CMG_WEB_PFX: 'secret' };

function load(doc: Json, env: NodeJS.ProcessEnv = ENV) {
  const file = join(tmp.dir, 'deploy.json');
  writeFileSync(file, JSON.stringify(doc, null, 2));
  return loadDeployConfig(file, env);
}

/** The one problem `doc` has: its key path and message. */
function problem(doc: Json, env: NodeJS.ProcessEnv = ENV): { path: string; message: string } {
  try {
    load(doc, env);
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.is(exitCodeFor(err), 2);
    const issues = (err as ConfigError).issues;
    assert.is(issues.length, 1, JSON.stringify(issues));
    return { path: issues[0]?.path as string, message: issues[0]?.message as string };
  }
  throw new Error('expected a ConfigError');
}

test('the smallest config: defaults filled in, paths made absolute, the site code upper-case', () => {
  const c = load(minimal());
  assert.is(c.cloud, 'AzureCloud');
  assert.is(c.instances, 2);
  assert.is(c.vmSize, 'Standard_A2_v2');
  assert.equal(c.channel.sites, ['PS1']);
  assert.is(c.sshPublicKeyFile, join(tmp.dir, 'id.pub'));
  assert.equal(c.artifact, { binaryFile: join(tmp.dir, 'cmg') });
  assert.equal(c.webCertificate, {
    kind: 'pfx',
    pfxFile: join(tmp.dir, 'web.pfx'),
    passphraseEnv: 'CMG_WEB_PFX',
  });
});

test('each auth form: certificate, secret from the environment, default credential', () => {
  assert.ok('certificateFile' in load(minimal()).auth);
  const secret = {
    tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
    clientId: '0a1b2c3d-0000-4000-8000-000000000001',
    secretEnv: 'CMG_AZ_SECRET',
  };
  assert.ok('secretEnv' in load(minimal({ auth: secret }), { ...ENV, CMG_AZ_SECRET: 's' }).auth);
  assert.equal(problem(minimal({ auth: secret })), {
    path: 'auth.secretEnv',
    message: 'environment variable CMG_AZ_SECRET is not set (or empty); set it to the client secret',
  });
  assert.equal(load(minimal({ auth: { default: true } })).auth, { default: true });
  assert.match(
    problem(minimal({ auth: { clientSecret: 'inline' } })).message,
    /expected \{ tenantId, clientId, certificateFile \}/,
  );
});

test('bad values name the key and say what is expected', () => {
  const cases: [Json, string, RegExp][] = [
    [{ servicePrefix: 'Contoso' }, 'servicePrefix', /3-24 lowercase letters and digits/],
    [{ servicePrefix: 'ab' }, 'servicePrefix', /3-24 lowercase letters and digits/],
    [{ instances: 17 }, 'instances', /16/],
    [{ instances: 0 }, 'instances', /1/],
    [{ subscriptionId: 'my-sub' }, 'subscriptionId', /GUID/],
    [{ region: 'West Europe' }, 'region', /region name/],
    [{ cloud: 'AzureGermanCloud' }, 'cloud', /AzureCloud, AzureUSGovernment or AzureChinaCloud/],
    [{ vmSize: 'A2' }, 'vmSize', /Standard_A2_v2/],
    [{ artifact: { url: 'http://x.contoso.com/cmg', sha256: 'a'.repeat(64) } }, 'artifact', /https/],
    [{ channel: { caFiles: ['channel-ca.pem'], sites: [] } }, 'channel.sites', /at least one site code/],
    [
      { webCertificate: { certFile: 'root.pem', keyFile: 'root.pem' } },
      'webCertificate',
      /pfxFile, passphraseEnv/,
    ],
    [{ sshPublicKeyFile: 'missing.pub' }, 'sshPublicKeyFile', /file not found/],
    [{ extra: 1 }, 'extra', /unknown key/],
  ];
  for (const [over, path, message] of cases) {
    const p = problem(minimal(over));
    assert.ok(
      p.path === path || p.path.startsWith(`${path}.`),
      `${JSON.stringify(over)}: at ${p.path}, expected ${path}`,
    );
    assert.match(p.message, message, JSON.stringify(over));
  }
});

test('the artifact may be left out (the single binary uploads itself)', () => {
  const doc = minimal();
  delete doc.artifact;
  assert.is(load(doc).artifact, undefined);
});

test.run();
