/**
 * readBundle, readCertificates and readCrls on every file form cmg accepts, and the codes of what it
 * refuses: encrypted keys, garbage, broken blocks, missing files.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Certificate } from '../../src/certs/certificate.js';
import { importPrivateKey, privateKeyDer, publicKeyDer } from '../../src/certs/keys.js';
import { writePfx } from '../../src/certs/pfx.js';
import { readBundle, readCertificates, readCrls } from '../../src/certs/read.js';
import { x509 } from '../../src/certs/x509.js';
import { failsWith, makeChain, makeCrl, makeLeaf, succeeds, useTempDir } from '../helpers/pki.js';

const test = suite('read');
const tmp = useTempDir(test, 'cmg-read-');

const prints = (certs: Certificate[]) => certs.map((c) => c.thumbprint);
const read = (file: string, passphrase?: string) =>
  succeeds(() => readBundle(file, passphrase === undefined ? undefined : async () => passphrase));

for (const keyType of ['rsa2048', 'p256'] as const) {
  test(`a PEM file with a key, two certificates and a CRL (${keyType}): all of it, in order`, async () => {
    const chain = await makeChain({ keyType });
    const crl = await makeCrl(chain.inter, { revoked: ['1234'], crlNumber: 5 });
    const file = await tmp.writePem('bundle.pem', chain.leaf.keyPair, chain.leaf, chain.inter, crl);
    const bundle = await read(file);
    assert.is(bundle.format, 'pem');
    assert.is(bundle.source, file);
    assert.equal(prints(bundle.certificates), prints([chain.leaf.cert, chain.inter.cert]));
    assert.equal(bundle.certificates[0]?.der, chain.leaf.cert.der);
    assert.is(bundle.crls.length, 1);
    assert.equal(bundle.crls[0]?.der, crl.der);
    assert.is(bundle.crls[0]?.crlNumber, 5);
    assert.equal(
      bundle.crls[0]?.entries.map((e) => e.serialNumber),
      ['1234'],
    );
    assert.ok(bundle.key, 'the key');
    const key = await succeeds(() => importPrivateKey(bundle.key!));
    assert.is(key.type, keyType);
    assert.equal(await privateKeyDer(key.privateKey), await privateKeyDer(chain.leaf.keyPair.privateKey));
  });
}

test('PEM text around blocks (Bag Attributes, comments), CRLF line ends and the plain "CRL" label are read', async () => {
  const chain = await makeChain();
  const crl = await makeCrl(chain.root);
  const text = [
    'Bag Attributes\n    friendlyName: leaf\nsubject=/CN=leaf\n',
    chain.leaf.cert.toPem(),
    '# the issuing CA\n',
    chain.inter.cert.toPem(),
    crl.toPem().replaceAll('X509 CRL', 'CRL'),
  ]
    .join('')
    .replaceAll('\n', '\r\n');
  const bundle = await read(tmp.write('mixed.pem', text));
  assert.equal(prints(bundle.certificates), prints([chain.leaf.cert, chain.inter.cert]));
  assert.equal(bundle.crls[0]?.der, crl.der);
  assert.is(bundle.key, undefined);
});

test('DER certificate, DER CRL, PKCS#7 in DER and in PEM', async () => {
  const chain = await makeChain();
  const crl = await makeCrl(chain.inter, { revoked: [chain.leaf] });
  const der = await read(tmp.writeDer('leaf.cer', chain.leaf));
  assert.is(der.format, 'der');
  assert.equal(der.certificates[0]?.der, chain.leaf.cert.der);
  const crlBundle = await read(tmp.writeDer('inter.crl', crl));
  assert.is(crlBundle.format, 'crl');
  assert.equal(crlBundle.crls[0]?.der, crl.der);
  assert.ok(crlBundle.crls[0]?.find(chain.leaf.cert.serialNumber));

  const p7 = new x509.X509Certificates([chain.leaf.cert.x509, chain.inter.cert.x509, chain.root.cert.x509]);
  const p7der = await read(tmp.write('chain.p7b', Buffer.from(p7.export('raw'))));
  assert.is(p7der.format, 'pkcs7');
  const expected = prints([chain.leaf.cert, chain.inter.cert, chain.root.cert]).sort();
  assert.equal(prints(p7der.certificates).sort(), expected);
  const p7pem = await read(tmp.write('chain-pem.p7b', p7.export('pem')));
  assert.is(p7pem.format, 'pem');
  assert.equal(prints(p7pem.certificates).sort(), expected);
});

test('a PFX: the passphrase is asked for that file, and a missing source is CMG_PFX_PASSPHRASE_NEEDED', async () => {
  const chain = await makeChain();
  const file = tmp.write(
    'web.pfx',
    writePfx({
      keyDer: await privateKeyDer(chain.leaf.keyPair.privateKey),
      certificates: [chain.leaf.cert.der, chain.inter.cert.der],
      passphrase: 'secret',
    }),
  );
  const asked: string[] = [];
  const bundle = await succeeds(() =>
    readBundle(file, async (source) => {
      asked.push(source);
      return 'secret';
    }),
  );
  assert.equal(asked, [file]);
  assert.is(bundle.format, 'pfx');
  assert.equal(prints(bundle.certificates), prints([chain.leaf.cert, chain.inter.cert]));
  const key = await succeeds(() => importPrivateKey(bundle.key!));
  assert.equal(await publicKeyDer(key.publicKey), await publicKeyDer(chain.leaf.keyPair.publicKey));
  await failsWith(() => readBundle(file), 'CMG_PFX_PASSPHRASE_NEEDED');
  await failsWith(() => readBundle(file, async () => 'wrong'), 'CMG_PFX_BAD_PASSPHRASE');
  await failsWith(() => readBundle(file, async () => 'wröng'), 'CMG_PFX_PASSPHRASE_NOT_ASCII');
});

/** Encrypted PEM keys as OpenSSL and Node write them: PKCS#8, and the traditional forms with Proc-Type headers. */
const ENCRYPTED = { format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' } as const;
const SPKI = { publicKeyEncoding: { type: 'spki', format: 'pem' } } as const;
const ENCRYPTED_KEYS: { name: string; make: () => string }[] = [
  {
    name: 'PKCS#8 (ENCRYPTED PRIVATE KEY)',
    make: () =>
      generateKeyPairSync('ec', {
        ...SPKI,
        namedCurve: 'P-256',
        privateKeyEncoding: { ...ENCRYPTED, type: 'pkcs8' },
      }).privateKey,
  },
  {
    name: 'traditional PKCS#1 (RSA PRIVATE KEY, Proc-Type: 4,ENCRYPTED)',
    make: () =>
      generateKeyPairSync('rsa', {
        ...SPKI,
        modulusLength: 2048,
        privateKeyEncoding: { ...ENCRYPTED, type: 'pkcs1' },
      }).privateKey,
  },
  {
    name: 'traditional SEC1 (EC PRIVATE KEY, Proc-Type: 4,ENCRYPTED)',
    make: () =>
      generateKeyPairSync('ec', {
        ...SPKI,
        namedCurve: 'P-256',
        privateKeyEncoding: { ...ENCRYPTED, type: 'sec1' },
      }).privateKey,
  },
];

for (const k of ENCRYPTED_KEYS) {
  test(`an encrypted PEM key is refused as CMG_CERT_KEY_ENCRYPTED: ${k.name}`, async () => {
    const privateKey = k.make();
    assert.match(privateKey, 'ENCRYPTED', 'test setup');
    const leaf = await makeLeaf('client', undefined);
    const file = await tmp.writePem('key-and-cert.pem', privateKey, leaf);
    const err = await failsWith(() => readBundle(file), 'CMG_CERT_KEY_ENCRYPTED');
    assert.match(err.message, file);
    await failsWith(() => importPrivateKey(Buffer.from(privateKey)), 'CMG_CERT_KEY_UNREADABLE');
  });
}

test('garbage, an empty file and plain text are CMG_CERT_UNREADABLE', async () => {
  for (const [name, data] of [
    ['garbage.bin', randomBytes(2048)],
    ['empty.pem', Buffer.alloc(0)],
    ['notes.txt', Buffer.from('this is not a certificate\n')],
  ] as const) {
    const err = await failsWith(() => readBundle(tmp.write(name, data)), 'CMG_CERT_UNREADABLE');
    assert.match(err.message, name);
  }
});

test('a broken PEM block is refused with the code of what it claims to be', async () => {
  const chain = await makeChain();
  const broken = (label: string) =>
    `-----BEGIN ${label}-----\nTm90IGEgY2VydGlmaWNhdGU=\n-----END ${label}-----\n`;
  await failsWith(() => readBundle(tmp.write('cert.pem', broken('CERTIFICATE'))), 'CMG_CERT_UNREADABLE');
  await failsWith(
    () => readBundle(tmp.write('crl.pem', chain.leaf.cert.toPem() + broken('X509 CRL'))),
    'CMG_CRL_UNREADABLE',
  );
  await failsWith(() => readBundle(tmp.write('p7.pem', broken('PKCS7'))), 'CMG_CERT_UNREADABLE');
});

test('a missing file is CMG_CERT_FILE_NOT_FOUND', async () => {
  await failsWith(() => readBundle(tmp.path('nope.pem')), 'CMG_CERT_FILE_NOT_FOUND');
  await failsWith(() => readCertificates([tmp.path('nope.pem')]), 'CMG_CERT_FILE_NOT_FOUND');
});

test('readCertificates: files and folders in order, certificate extensions only, duplicates once', async () => {
  const chain = await makeChain();
  const crl = await makeCrl(chain.root);
  const leafFile = await tmp.writePem('leaf.pem', chain.leaf);
  await tmp.writePem('cas/b-root.crt', chain.root, crl);
  tmp.writeDer('cas/a-inter.cer', chain.inter);
  await tmp.writePem('cas/again.pem', chain.leaf, chain.inter);
  tmp.write('cas/readme.txt', 'not read');
  tmp.write('cas/ignored.key', 'not read either');
  const certs = await succeeds(() => readCertificates([leafFile, tmp.path('cas')]));
  // leaf.pem, then the folder sorted by name: a-inter.cer, again.pem (both already seen), b-root.crt
  assert.equal(prints(certs), prints([chain.leaf.cert, chain.inter.cert, chain.root.cert]));
  const crls = await succeeds(() => readCrls([tmp.path('cas')]));
  assert.equal(
    crls.map((c) => c.der),
    [crl.der],
  );
});

test.run();
