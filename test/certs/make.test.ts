import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLab } from '../../src/certs/lab.js';
import { certPathOf, createManagementCertificate, pemToPfx, writeCrl } from '../../src/certs/make.js';
import { OutputFiles } from '../../src/certs/output.js';
import { readBundle, readInputFile } from '../../src/certs/read.js';
import { pickLeaf } from '../../src/certs/web-check.js';
import { failsWith, makeChain, succeeds, useTempDir } from '../helpers/pki.js';

const tmp = useTempDir(test, 'cmg-make-');

const LAB = {
  serviceName: 'cmg.contoso.com',
  site: 'PS1',
  connectionPoints: ['cp01'],
  keyType: 'p256' as const,
  gatewayHost: '127.0.0.1',
  gatewayPort: 8443,
  channelPort: 10140,
  mpHost: 'localhost',
  mpPort: 8444,
  adminPort: 9443,
  days: 30,
};

test('two outputs on one path are refused before anything is written', async () => {
  const files = new OutputFiles().add(tmp.path('same.pem'), 'a');
  await failsWith(() => files.add(tmp.path('./same.pem'), 'b'), 'CMG_USAGE');
  // The lab's own file names cannot be taken by a connection point id (web.pem, client-root.pem, ...).
  await failsWith(
    () => createLab({ ...LAB, outDir: tmp.path('lab'), connectionPoints: ['web', 'client-root'] }),
    'CMG_USAGE',
  );
  assert.throws(() => statSync(tmp.path('lab')));
});

test('a write that fails leaves no output and no temporary file, as a clear error', async () => {
  writeFileSync(tmp.path('afile'), 'x');
  const files = new OutputFiles().add(tmp.path('ok.pem'), 'a').add(tmp.path('afile/inside.pem'), 'b');
  const err = await failsWith(() => files.commit(false), 'CMG_FILE_WRITE_FAILED');
  assert.match(err.message, 'afile');
  assert.throws(() => statSync(tmp.path('ok.pem')));
  assert.throws(() => statSync(tmp.path(`ok.pem.tmp-${process.pid}`)));
});

test('--out naming a folder is a usage error', async () => {
  await failsWith(() => certPathOf('pki/'), 'CMG_USAGE');
  assert.is(certPathOf('pki/root'), 'pki/root.pem');
});

test("certs crl --out replaces only a file that holds nothing but this CA's CRL", async () => {
  const chain = await makeChain();
  const ca = chain.inter.signer;
  const out = tmp.path('inter.crl');
  await succeeds(() =>
    writeCrl({ ca, out, revokeCertificates: [], revokeSerials: ['01'], days: 7, force: false }),
  );
  const second = await succeeds(() =>
    writeCrl({ ca, out, revokeCertificates: [], revokeSerials: ['02'], days: 7, force: false }),
  );
  assert.is(second.crlNumber, 2);
  // A bundle holding the CA's key and certificate besides its CRL must never be replaced by the CRL alone.
  const bundle = tmp.path('ca-all.pem');
  writeFileSync(bundle, `${chain.inter.cert.toPem()}${readFileSync(out, 'latin1')}`);
  const before = readFileSync(bundle, 'latin1');
  await failsWith(
    () => writeCrl({ ca, out: bundle, revokeCertificates: [], revokeSerials: ['03'], days: 7, force: false }),
    'CMG_FILE_EXISTS',
  );
  assert.is(readFileSync(bundle, 'latin1'), before);
});

test('a serial number that is not hex is refused, not read as zero', async () => {
  const chain = await makeChain();
  const out = tmp.path('x.crl');
  for (const bad of ['zz', '4F2A9C01G', '']) {
    await failsWith(
      () =>
        writeCrl({
          ca: chain.inter.signer,
          out,
          revokeCertificates: [],
          revokeSerials: [bad],
          days: 7,
          force: false,
        }),
      'CMG_CERT_BAD_SERIAL',
    );
  }
  assert.throws(() => statSync(out));
});

test('lab flags that would make configs config check refuses are usage errors', async () => {
  for (const over of [
    { channelPort: 8443 },
    { adminPort: 10139 },
    { gatewayHost: 'not a host!' },
    // config check reads a numeric last label as a bad IPv4 address: the lab must not write one
    { gatewayHost: '1.2.3' },
    { serviceName: 'bad name' },
    { site: 'CON' },
  ]) {
    await failsWith(() => createLab({ ...LAB, ...over, outDir: tmp.path('lab2') }), 'CMG_USAGE');
  }
  assert.throws(() => statSync(tmp.path('lab2')));
});

test('a new PFX needs a non-empty passphrase', async () => {
  await failsWith(
    () =>
      createManagementCertificate({
        out: tmp.path('m'),
        subject: 'CN=m',
        days: 1,
        keyType: 'rsa2048',
        pfxPassphrase: async () => '',
        force: false,
      }),
    'CMG_PFX_PASSPHRASE_EMPTY',
  );
  assert.throws(() => statSync(tmp.path('m.pem')));
  const chain = await makeChain();
  const cert = await tmp.writePem('leaf.pem', chain.leaf);
  const key = await tmp.writePem('leaf.key', chain.leaf.keyPair);
  await failsWith(
    () =>
      pemToPfx({
        certFiles: [cert],
        keyFile: key,
        out: tmp.path('x.pfx'),
        passphrase: async () => '',
        force: false,
      }),
    'CMG_PFX_PASSPHRASE_EMPTY',
  );
});

test('input files: missing, a folder, or huge are usage errors with their own codes', async () => {
  await failsWith(() => readInputFile(tmp.path('nope.pem')), 'CMG_CERT_FILE_NOT_FOUND');
  mkdirSync(tmp.path('dir'));
  await failsWith(() => readInputFile(tmp.path('dir')), 'CMG_CERT_FILE_UNREADABLE');
  writeFileSync(tmp.path('huge.bin'), Buffer.alloc(17 * 1024 * 1024));
  await failsWith(() => readInputFile(tmp.path('huge.bin')), 'CMG_CERT_FILE_TOO_LARGE');
});

test('a PEM block after kilobytes of text (openssl x509 -text output) is still found', async () => {
  const chain = await makeChain();
  const file = tmp.write(
    'text-then-pem.pem',
    `${'Certificate:\n    Data: ...\n'.repeat(400)}${chain.leaf.cert.toPem()}`,
  );
  const bundle = await succeeds(() => readBundle(file));
  assert.is(bundle.certificates[0]?.thumbprint, chain.leaf.cert.thumbprint);
});

test('a corrupt private key inside a certificate file is a clear error, not an internal one', async () => {
  const chain = await makeChain();
  const file = tmp.write(
    'bad-key.pem',
    `${chain.leaf.cert.toPem()}-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n`,
  );
  const bundle = await succeeds(() => readBundle(file));
  await failsWith(() => pickLeaf(bundle.certificates, bundle.key), 'CMG_CERT_KEY_UNREADABLE');
});

test.run();
