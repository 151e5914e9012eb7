/**
 * issueCertificate: the extensions each profile fixes, self-signed or issued, and the signature hash
 * asked for. What the builders of test/helpers/pki.ts rely on.
 */
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EKU } from '../../src/certs/certificate.js';
import { CertUsageError } from '../../src/certs/errors.js';
import { connectionPointIdentity } from '../../src/certs/identity.js';
import { issueCertificate } from '../../src/certs/issue.js';
import {
  generateKeyPair,
  importPrivateKey,
  KEY_TYPES,
  type KeyType,
  privateKeyPem,
  type SignatureHash,
} from '../../src/certs/keys.js';
import { x509 } from '../../src/certs/x509.js';
import {
  CP_ID,
  DAY,
  failsWith,
  makeIntermediate,
  makeLeaf,
  makeRoot,
  rsaKeyPair,
  SERVICE_NAME,
  SITE,
  succeeds,
} from '../helpers/pki.js';

const SIGN_ONLY = ['digitalSignature'];
const CA_USAGES = ['digitalSignature', 'keyCertSign', 'cRLSign'];

test('each profile has its basic constraints, key usages and extended key usages', async () => {
  const root = await makeRoot({ keyType: 'rsa2048' });
  const inter = await makeIntermediate(root, { pathLength: 0 });
  const rows = [
    ['root-ca', root, { isCA: true, keyUsages: CA_USAGES, ekus: [] }],
    ['sub-ca', inter, { isCA: true, pathLength: 0, keyUsages: CA_USAGES, ekus: [] }],
    [
      'client (EC)',
      await makeLeaf('client', inter),
      { isCA: false, keyUsages: SIGN_ONLY, ekus: [EKU.clientAuth] },
    ],
    [
      'client (RSA)',
      await makeLeaf('client', inter, { keyType: 'rsa2048' }),
      { isCA: false, keyUsages: ['digitalSignature', 'keyEncipherment'], ekus: [EKU.clientAuth] },
    ],
    [
      'server',
      await makeLeaf('server', inter),
      { isCA: false, keyUsages: SIGN_ONLY, ekus: [EKU.serverAuth] },
    ],
    [
      'connection-point',
      await makeLeaf('connection-point', inter),
      { isCA: false, keyUsages: SIGN_ONLY, ekus: [EKU.clientAuth] },
    ],
    [
      'management',
      await makeLeaf('management', undefined),
      { isCA: false, keyUsages: SIGN_ONLY, ekus: [EKU.clientAuth] },
    ],
  ] as const;
  for (const [name, issued, want] of rows) {
    const info = issued.cert.describe();
    assert.equal(
      {
        isCA: info.isCA,
        pathLength: info.pathLength,
        keyUsages: info.keyUsages,
        ekus: Array.from(info.extendedKeyUsages, (e) => e.oid),
      },
      { pathLength: undefined, ...want },
      name,
    );
  }
});

test('issued certificates name and verify with their issuer; roots are self-signed', async () => {
  const root = await makeRoot();
  const inter = await makeIntermediate(root);
  const leaf = await makeLeaf('server', inter);
  assert.ok(root.cert.isSelfSigned);
  assert.not.ok(inter.cert.isSelfSigned);
  assert.ok(inter.cert.isIssuedBy(root.cert));
  assert.ok(leaf.cert.isIssuedBy(inter.cert));
  assert.not.ok(leaf.cert.isIssuedBy(root.cert));
  assert.is(leaf.cert.issuer, inter.cert.subject);
  const aki = leaf.cert.x509.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
  assert.is(aki, inter.cert.x509.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);
});

test('a management certificate is self-signed (and says so), though it may not sign certificates', async () => {
  const mgmt = await makeLeaf('management', undefined);
  assert.is(mgmt.cert.issuer, mgmt.cert.subject);
  assert.ok(mgmt.cert.native.verify(mgmt.cert.native.publicKey), 'test setup: its own key verifies it');
  assert.is(mgmt.cert.isSelfSigned, true, 'isSelfSigned');
  assert.is(mgmt.cert.describe().selfSigned, true, 'describe().selfSigned');
});

test('names: DNS, IP and URI alternative names, the connection point identity', async () => {
  const root = await makeRoot();
  const server = await makeLeaf('server', root, {
    dns: [SERVICE_NAME, 'alt.contoso.com'],
    ips: ['10.0.0.1', '::1'],
  });
  assert.equal(server.cert.subjectAltNames, {
    dns: [SERVICE_NAME, 'alt.contoso.com'],
    ip: ['10.0.0.1', '::1'],
    uri: [],
    email: [],
  });
  const cp = await makeLeaf('connection-point', root);
  assert.equal(connectionPointIdentity(cp.cert), { site: SITE, id: CP_ID });
  // A bad name on the command line is a usage error (exit 2), with the value in the message.
  const bad = await failsWith(
    () => issueCertificate({ profile: 'server', subject: 'CN=x', keyPair: root.keyPair, ips: ['not-an-ip'] }),
    'CMG_USAGE',
  );
  assert.instance(bad, CertUsageError);
  assert.match(bad.message, '"not-an-ip"');
});

test('validity: back-dated five minutes; 10 years for a CA, 1 year for a leaf; days and dates as given', async () => {
  const before = Date.now();
  const root = await makeRoot();
  const leaf = await makeLeaf('client', root);
  for (const c of [root.cert, leaf.cert]) {
    const back = before - c.notBefore.getTime();
    assert.ok(back > 4 * 60_000 && back < 6 * 60_000, `back-dated ${back} ms`);
  }
  const span = (c: typeof root.cert) => Math.round((c.notAfter.getTime() - c.notBefore.getTime()) / DAY);
  assert.is(span(root.cert), 3650);
  assert.is(span(leaf.cert), 365);
  const notBefore = new Date('2030-01-01T00:00:00Z');
  assert.is(span((await makeLeaf('client', root, { notBefore, days: 7 })).cert), 7);
  const dated = await makeLeaf('client', root, { notBefore, notAfter: new Date('2030-02-01T00:00:00Z') });
  assert.equal([dated.cert.notBefore, dated.cert.notAfter], [notBefore, new Date('2030-02-01T00:00:00Z')]);
});

const SIGNATURE_NAMES: Record<string, Record<SignatureHash, string>> = {
  rsa: {
    'SHA-1': 'sha1WithRSAEncryption',
    'SHA-256': 'sha256WithRSAEncryption',
    'SHA-384': 'sha384WithRSAEncryption',
    'SHA-512': 'sha512WithRSAEncryption',
  },
  ec: {
    'SHA-1': 'ecdsa-with-SHA1',
    'SHA-256': 'ecdsa-with-SHA256',
    'SHA-384': 'ecdsa-with-SHA384',
    'SHA-512': 'ecdsa-with-SHA512',
  },
};

for (const keyType of ['rsa2048', 'p256'] as const satisfies KeyType[]) {
  test(`signatureHash is the hash signed with (${keyType}), self-signed and issued, and the signature verifies`, async () => {
    const names = SIGNATURE_NAMES[keyType.startsWith('rsa') ? 'rsa' : 'ec']!;
    const got: Record<string, string> = {};
    const issuedGot: Record<string, string> = {};
    for (const hash of ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'] as const) {
      const rootKey = await generateKeyPair(keyType);
      const root = await issueCertificate({
        profile: 'root-ca',
        subject: 'CN=Hash Root',
        keyPair: rootKey,
        signatureHash: hash,
      });
      assert.ok(root.native.verify(root.native.publicKey), `${hash}: the self-signature verifies`);
      got[hash] = root.signatureAlgorithm.name;
      const leaf = await issueCertificate({
        profile: 'client',
        subject: 'CN=Hash Leaf',
        keyPair: await generateKeyPair('p256'),
        issuer: { cert: root, key: rootKey.privateKey, keyType },
        signatureHash: hash,
      });
      assert.ok(leaf.isIssuedBy(root), `${hash}: the issuer's signature verifies`);
      issuedGot[hash] = leaf.signatureAlgorithm.name;
    }
    assert.equal(issuedGot, names, 'issued');
    assert.equal(got, names, 'self-signed');
  });
}

test('keys: importPrivateKey refuses RSA 1024 (tests make such keys with rsaKeyPair), generateKeyPair makes every type', async () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const pem = Buffer.from(privateKey.export({ format: 'pem', type: 'pkcs8' }));
  await failsWith(() => importPrivateKey(pem), 'CMG_CERT_KEY_UNSUPPORTED');
  const weak = await rsaKeyPair(1024);
  assert.is((await makeLeaf('client', undefined, { keyPair: weak })).cert.key.bits, 1024);
  for (const type of KEY_TYPES) {
    const pair = await generateKeyPair(type);
    const pairPem = Buffer.from(await privateKeyPem(pair.privateKey));
    const again = await succeeds(() => importPrivateKey(pairPem));
    assert.is(again.type, type);
  }
});

test('default signature: SHA-256, and SHA-384 for a P-384 issuer', async () => {
  assert.is((await makeRoot({ keyType: 'rsa2048' })).cert.signatureAlgorithm.name, 'sha256WithRSAEncryption');
  assert.is((await makeRoot({ keyType: 'p256' })).cert.signatureAlgorithm.name, 'ecdsa-with-SHA256');
  const p384 = await makeRoot({ keyType: 'p384' });
  assert.is(p384.cert.signatureAlgorithm.name, 'ecdsa-with-SHA384');
  assert.is(
    (await makeLeaf('client', p384, { keyType: 'rsa2048' })).cert.signatureAlgorithm.name,
    'ecdsa-with-SHA384',
  );
});

test.run();
