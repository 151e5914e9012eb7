/**
 * Interop with the real openssl binary, both ways: what cmg writes (certificates, chains, CRLs, PFX,
 * keys) passes openssl's own checks, and what openssl writes is read by cmg; thumbprints agree.
 */
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Certificate } from '../../src/certs/certificate.js';
import { importPrivateKey, type KeyType, privateKeyDer, publicKeyDer } from '../../src/certs/keys.js';
import { toPem } from '../../src/certs/pem.js';
import { writePfx } from '../../src/certs/pfx.js';
import { readBundle } from '../../src/certs/read.js';
import { VerifyCode, verifyChain } from '../../src/certs/verify.js';
import {
  type Chain,
  CP_ID,
  failsWith,
  makeChain,
  makeCrl,
  makeLeaf,
  type OpensslResult,
  openssl,
  opensslOk,
  SERVICE_NAME,
  SITE,
  succeeds,
  useTempDir,
} from '../helpers/pki.js';

const test = suite('openssl interop');
const tmp = useTempDir(test, 'cmg-openssl-');

/** openssl in the test's temp dir; the result, whatever the exit status. */
const run = (...args: string[]): OpensslResult => openssl(args, { cwd: tmp.dir });
/** openssl in the test's temp dir; stdout, or a thrown error with the command and stderr. */
const ok = (...args: string[]): string => opensslOk(args, { cwd: tmp.dir });

const PASS = 'Pa ss:w0rd!#"x';

function assertVerified(r: OpensslResult, file = 'leaf.pem'): void {
  assert.is(r.status, 0, `openssl verify failed:\n${r.stderr}${r.stdout}`);
  assert.is(r.stdout.trim(), `${file}: OK`);
}

/** Asserts openssl verify refused, for `reason` at `depth` (openssl's own wording). */
function assertRefused(r: OpensslResult, reason: string, depth: number): void {
  assert.is.not(r.status, 0, `openssl verify should have failed:\n${r.stdout}`);
  assert.ok(
    (r.stderr + r.stdout).includes(`at ${depth} depth lookup: ${reason}`),
    `expected "${reason}" at depth ${depth}:\n${r.stderr}${r.stdout}`,
  );
}

/** A public key as SPKI PEM, the form `openssl pkey -pubout` and `x509 -pubkey` print. */
function spkiPem(cert: Certificate): string {
  return cert.native.publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

function fingerprint(file: string, hash: 'sha1' | 'sha256', inform = 'PEM'): string {
  const out = ok('x509', '-inform', inform, '-in', file, '-noout', '-fingerprint', `-${hash}`);
  const m = /Fingerprint=([0-9A-F:]+)/i.exec(out);
  if (!m?.[1]) throw new Error(`no fingerprint in: ${out}`);
  return m[1].replaceAll(':', '').toUpperCase();
}

function opensslSerial(file: string): string {
  return ok('x509', '-in', file, '-noout', '-serial')
    .trim()
    .replace(/^serial=/, '');
}

async function writeChain(chain: Chain): Promise<void> {
  await tmp.writePem('root.pem', chain.root);
  await tmp.writePem('inter.pem', chain.inter);
  await tmp.writePem('leaf.pem', chain.leaf);
}

function verifyArgs(...extra: string[]): string[] {
  return ['verify', '-x509_strict', '-CAfile', 'root.pem', '-untrusted', 'inter.pem', ...extra];
}

test('the openssl binary is installed (these tests need it)', () => {
  assert.match(opensslOk(['version']), /^OpenSSL \d/);
});

// ---------------------------------------------------------------- what cmg writes, openssl reads

const OPENSSL_PURPOSE = {
  client: 'sslclient',
  server: 'sslserver',
  'connection-point': 'sslclient',
} as const;

for (const keyType of ['rsa2048', 'p256', 'p384'] as const) {
  for (const profile of ['client', 'server', 'connection-point'] as const) {
    test(`openssl verify accepts a cmg ${profile} chain (${keyType}) for its purpose only`, async () => {
      await writeChain(await makeChain({ profile, keyType }));
      const purpose = OPENSSL_PURPOSE[profile];
      assertVerified(run(...verifyArgs('-purpose', purpose, 'leaf.pem')));
      const other = purpose === 'sslclient' ? 'sslserver' : 'sslclient';
      assertRefused(run(...verifyArgs('-purpose', other, 'leaf.pem')), 'unsuitable certificate purpose', 0);
      if (profile === 'server') {
        assertVerified(run(...verifyArgs('-purpose', purpose, '-verify_hostname', SERVICE_NAME, 'leaf.pem')));
        assertRefused(
          run(...verifyArgs('-purpose', purpose, '-verify_hostname', 'portal.contoso.com', 'leaf.pem')),
          'hostname mismatch',
          0,
        );
      }
    });
  }
}

for (const keyType of ['rsa2048', 'p256'] as const) {
  test(`openssl verify -crl_check_all with cmg CRLs (${keyType}): passes, and finds a revoked leaf and intermediate`, async () => {
    const chain = await makeChain({ keyType });
    const revoked = await makeLeaf('client', chain.inter, { subject: 'CN=revoked client', keyType });
    await writeChain(chain);
    await tmp.writePem('revoked.pem', revoked);
    await tmp.writePem('root.crl', await makeCrl(chain.root));
    await tmp.writePem(
      'inter.crl',
      await makeCrl(chain.inter, { revoked: [revoked], reason: 'keyCompromise' }),
    );
    await tmp.writePem(
      'root-revokes-inter.crl',
      await makeCrl(chain.root, { revoked: [chain.inter], crlNumber: 2 }),
    );

    const crlArgs = (rootCrl: string) => [
      '-purpose',
      'sslclient',
      '-crl_check_all',
      '-CRLfile',
      rootCrl,
      '-CRLfile',
      'inter.crl',
    ];
    assertVerified(run(...verifyArgs(...crlArgs('root.crl'), 'leaf.pem')));
    assertRefused(run(...verifyArgs(...crlArgs('root.crl'), 'revoked.pem')), 'certificate revoked', 0);
    assertRefused(
      run(...verifyArgs(...crlArgs('root-revokes-inter.crl'), 'leaf.pem')),
      'certificate revoked',
      1,
    );
    // control: the check really needs the CRLs
    assertRefused(run(...verifyArgs('-crl_check_all', 'leaf.pem')), 'unable to get certificate CRL', 0);
  });
}

test('openssl crl reads a cmg CRL (PEM and DER): issuer, number, revoked serials, reason, signature', async () => {
  const chain = await makeChain();
  const crl = await makeCrl(chain.inter, {
    revoked: [chain.leaf, '0A0B'],
    reason: 'keyCompromise',
    crlNumber: 42,
  });
  await tmp.writePem('inter.pem', chain.inter);
  await tmp.writePem('inter.crl', crl);
  tmp.writeDer('inter.crl.der', crl);
  for (const [file, inform] of [
    ['inter.crl', 'PEM'],
    ['inter.crl.der', 'DER'],
  ] as const) {
    const r = run('crl', '-inform', inform, '-in', file, '-noout', '-text', '-CAfile', 'inter.pem');
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stderr + r.stdout, 'verify OK');
    assert.match(r.stdout, 'Issuer: CN = Test Issuing CA, O = Contoso');
    assert.match(r.stdout, /CRL Number: *\n *42\n/);
    assert.match(r.stdout, `Serial Number: ${chain.leaf.cert.serialNumber}\n`);
    assert.match(r.stdout, 'Serial Number: 0A0B\n');
    assert.is(r.stdout.split('Key Compromise').length - 1, 2, 'both entries carry the reason');
  }
});

for (const keyType of ['rsa2048', 'p256'] as const) {
  test(`openssl pkcs12 reads a cmg PFX (${keyType}): info, key and certificates that match`, async () => {
    const chain = await makeChain({ keyType, profile: 'server' });
    const pfx = writePfx({
      keyDer: await privateKeyDer(chain.leaf.keyPair.privateKey),
      certificates: [chain.leaf.cert.der, chain.inter.cert.der, chain.root.cert.der],
      passphrase: PASS,
      friendlyName: 'cmg leaf',
    });
    tmp.write('leaf.pfx', pfx);

    const info = run('pkcs12', '-in', 'leaf.pfx', '-info', '-noout', '-passin', `pass:${PASS}`);
    assert.is(info.status, 0, info.stderr);
    assert.match(info.stderr, 'MAC: sha256');
    assert.match(info.stderr, 'Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC');
    assert.is(info.stderr.split('Certificate bag').length - 1, 3);

    const wrong = run('pkcs12', '-in', 'leaf.pfx', '-info', '-noout', '-passin', 'pass:wrong');
    assert.is.not(wrong.status, 0);
    assert.match(wrong.stderr, /mac verify error/i);

    ok('pkcs12', '-in', 'leaf.pfx', '-passin', `pass:${PASS}`, '-nocerts', '-nodes', '-out', 'key-out.pem');
    ok('pkcs12', '-in', 'leaf.pfx', '-passin', `pass:${PASS}`, '-nokeys', '-clcerts', '-out', 'leaf-out.pem');
    ok('pkcs12', '-in', 'leaf.pfx', '-passin', `pass:${PASS}`, '-nokeys', '-cacerts', '-out', 'ca-out.pem');
    const expectedKey = spkiPem(chain.leaf.cert);
    assert.is(ok('pkey', '-in', 'key-out.pem', '-pubout'), expectedKey, 'the key openssl extracted');
    assert.is(
      ok('x509', '-in', 'leaf-out.pem', '-pubkey', '-noout'),
      expectedKey,
      "the leaf certificate's key",
    );
    assert.is(
      fingerprint('leaf-out.pem', 'sha256'),
      chain.leaf.cert.sha256Fingerprint,
      'the leaf certificate',
    );
    assert.match(readFileSync(tmp.path('leaf-out.pem'), 'utf8'), 'friendlyName: cmg leaf');
    const cas = await succeeds(() => readBundle(tmp.path('ca-out.pem')));
    assert.equal(
      cas.certificates.map((c) => c.thumbprint).sort(),
      [chain.inter.cert.thumbprint, chain.root.cert.thumbprint].sort(),
    );
  });
}

test('openssl pkcs12 opens a cmg PFX with an empty passphrase', async () => {
  const leaf = await makeLeaf('client', undefined);
  tmp.write(
    'empty.pfx',
    writePfx({
      keyDer: await privateKeyDer(leaf.keyPair.privateKey),
      certificates: [leaf.cert.der],
      passphrase: '',
    }),
  );
  ok('pkcs12', '-in', 'empty.pfx', '-passin', 'pass:', '-nocerts', '-nodes', '-out', 'key-out.pem');
  assert.is(ok('pkey', '-in', 'key-out.pem', '-pubout'), spkiPem(leaf.cert));
});

for (const keyType of ['rsa2048', 'rsa3072', 'p256', 'p384'] as const) {
  test(`openssl pkey reads a cmg private key (${keyType}), PEM and DER`, async () => {
    const leaf = await makeLeaf('client', undefined, { keyType });
    await tmp.writePem('key.pem', leaf.keyPair);
    tmp.write('key.der', await privateKeyDer(leaf.keyPair.privateKey));
    const check = run('pkey', '-in', 'key.pem', '-check', '-noout');
    assert.is(check.status, 0, check.stderr);
    assert.match(check.stdout + check.stderr, 'valid');
    assert.is(ok('pkey', '-in', 'key.pem', '-pubout'), spkiPem(leaf.cert));
    assert.is(ok('pkey', '-inform', 'DER', '-in', 'key.der', '-pubout'), spkiPem(leaf.cert));
    const pub = toPem('PUBLIC KEY', await publicKeyDer(leaf.keyPair.publicKey));
    assert.is(pub, spkiPem(leaf.cert), 'publicKeyDer');
  });
}

// ---------------------------------------------------------------- what openssl writes, cmg reads

const OPENSSL_CNF = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[v3_root]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
[v3_inter]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_leaf]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth, serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:${SERVICE_NAME}, URI:urn:cmg:site:${SITE}:connection-point:${CP_ID}
[ca_root]
database = root-index.txt
certificate = root.pem
private_key = root.key
crlnumber = root-crlnumber
default_md = sha256
default_crl_days = 7
crl_extensions = crl_ext
[ca_inter]
database = inter-index.txt
certificate = inter.pem
private_key = inter.key
crlnumber = inter-crlnumber
default_md = sha256
default_crl_days = 7
crl_extensions = crl_ext
[crl_ext]
authorityKeyIdentifier = keyid:always
`;

/** Every certificate the openssl PKI makes, by file name. */
const OPENSSL_CERTS = ['root.pem', 'inter.pem', 'leaf.pem', 'leaf-ec.pem', 'revoked.pem'] as const;

let serialCounter = 0;
function nextSerial(): string {
  serialCounter += 1;
  return `0x7${Date.now().toString(16)}${serialCounter.toString(16).padStart(4, '0')}`;
}

/** Issues `name`.pem for the key `name`.key from `ca` with the extensions of `section`. */
function opensslIssue(name: string, subject: string, ca: string, section: string): void {
  ok('req', '-new', '-config', 'openssl.cnf', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`);
  ok(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}.key`,
    '-set_serial',
    nextSerial(),
    '-days',
    '30',
    '-sha256',
    '-extfile',
    'openssl.cnf',
    '-extensions',
    section,
    '-out',
    `${name}.pem`,
  );
}

/**
 * An openssl-made PKI in the temp dir: an RSA root, an ECDSA issuing CA, an RSA leaf (PKCS#8 key), an
 * ECDSA leaf (SEC1 key), a leaf the issuing CA revoked (keyCompromise); chain.pem (leaf, CA, root),
 * ca.pem (CA, root), the CRLs root.crl and inter.crl, and leaf.der.
 */
function makeOpensslPki(): void {
  tmp.write('openssl.cnf', OPENSSL_CNF);
  for (const f of ['root-index.txt', 'inter-index.txt']) tmp.write(f, '');
  tmp.write('root-crlnumber', '01\n');
  tmp.write('inter-crlnumber', '0A\n');
  ok(
    'req',
    '-x509',
    '-config',
    'openssl.cnf',
    '-extensions',
    'v3_root',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'root.key',
    '-subj',
    '/O=Contoso/CN=OpenSSL Root',
    '-days',
    '30',
    '-sha256',
    '-set_serial',
    nextSerial(),
    '-out',
    'root.pem',
  );
  ok('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'inter.key');
  opensslIssue('inter', '/O=Contoso/CN=OpenSSL Issuing CA', 'root', 'v3_inter');
  ok('genrsa', '-out', 'leaf.key', '2048');
  opensslIssue('leaf', `/CN=${SERVICE_NAME}`, 'inter', 'v3_leaf');
  ok('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'leaf-ec.key');
  opensslIssue('leaf-ec', '/CN=ec.contoso.com', 'inter', 'v3_leaf');
  ok('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'revoked.key');
  opensslIssue('revoked', '/CN=revoked.contoso.com', 'inter', 'v3_leaf');
  ok(
    'ca',
    '-config',
    'openssl.cnf',
    '-name',
    'ca_inter',
    '-revoke',
    'revoked.pem',
    '-crl_reason',
    'keyCompromise',
  );
  ok('ca', '-config', 'openssl.cnf', '-name', 'ca_inter', '-gencrl', '-out', 'inter.crl');
  ok('ca', '-config', 'openssl.cnf', '-name', 'ca_root', '-gencrl', '-out', 'root.crl');
  const pem = (f: string) => readFileSync(tmp.path(f), 'utf8');
  tmp.write('chain.pem', pem('leaf.pem') + pem('inter.pem') + pem('root.pem'));
  tmp.write('ca.pem', pem('inter.pem') + pem('root.pem'));
  ok('x509', '-in', 'leaf.pem', '-outform', 'DER', '-out', 'leaf.der');
}

async function certOf(file: string): Promise<Certificate> {
  const bundle = await succeeds(() => readBundle(tmp.path(file)));
  assert.is(bundle.certificates.length, 1, `certificates in ${file}`);
  return bundle.certificates[0]!;
}

test('cmg reads an openssl chain (PEM, in order) and the leaf as DER; what it reports matches', async () => {
  makeOpensslPki();
  const bundle = await succeeds(() => readBundle(tmp.path('chain.pem')));
  assert.is(bundle.format, 'pem');
  assert.equal(
    bundle.certificates.map((c) => c.thumbprint),
    ['leaf.pem', 'inter.pem', 'root.pem'].map((f) => fingerprint(f, 'sha1')),
  );
  const [leaf, inter, root] = bundle.certificates.map((c) => c.describe());
  assert.is(leaf?.issuer, inter?.subject);
  assert.equal(leaf?.subjectAltNames.dns, [SERVICE_NAME]);
  assert.equal(leaf?.subjectAltNames.uri, [`urn:cmg:site:${SITE}:connection-point:${CP_ID}`]);
  assert.equal(
    Array.from(leaf?.extendedKeyUsages ?? [], (e) => e.name),
    ['clientAuth', 'serverAuth'],
  );
  assert.equal(leaf?.key, { algorithm: 'RSA', bits: 2048 });
  assert.is(leaf?.signatureAlgorithm, 'ecdsa-with-SHA256');
  assert.is(leaf?.isCA, false);
  assert.is(inter?.isCA, true);
  assert.is(inter?.pathLength, 0);
  assert.equal(inter?.key, { algorithm: 'EC', curve: 'P-256' });
  assert.is(inter?.signatureAlgorithm, 'sha256WithRSAEncryption');
  assert.is(root?.selfSigned, true);
  assert.is(inter?.selfSigned, false);
  assert.equal(root?.keyUsages, ['digitalSignature', 'keyCertSign', 'cRLSign']);

  const der = await succeeds(() => readBundle(tmp.path('leaf.der')));
  assert.is(der.format, 'der');
  assert.is(der.certificates[0]?.thumbprint, leaf?.thumbprint);
});

test('cmg reads an openssl PKCS#7 bundle, PEM and DER', async () => {
  makeOpensslPki();
  ok('crl2pkcs7', '-nocrl', '-certfile', 'chain.pem', '-out', 'chain.p7b');
  ok('crl2pkcs7', '-nocrl', '-certfile', 'chain.pem', '-outform', 'DER', '-out', 'chain-der.p7b');
  const expected = ['leaf.pem', 'inter.pem', 'root.pem'].map((f) => fingerprint(f, 'sha1')).sort();
  for (const [file, format] of [
    ['chain.p7b', 'pem'],
    ['chain-der.p7b', 'pkcs7'],
  ] as const) {
    const bundle = await succeeds(() => readBundle(tmp.path(file)));
    assert.is(bundle.format, format, file);
    assert.equal(bundle.certificates.map((c) => c.thumbprint).sort(), expected, file);
  }
});

/**
 * openssl pkcs12 -export of `leaf` with ca.pem, in the default (AES) or a legacy format; returns the
 * options openssl itself needs to read the file back.
 */
function opensslPfx(leaf: string, out: string, legacy: boolean): string[] {
  const base = ['pkcs12', '-export', '-inkey', `${leaf}.key`, '-in', `${leaf}.pem`, '-certfile', 'ca.pem'];
  const tail = ['-name', 'openssl leaf', '-passout', `pass:${PASS}`, '-out', out];
  if (!legacy) {
    ok(...base, ...tail);
    return [];
  }
  if (run(...base, '-legacy', ...tail).status === 0) return ['-legacy'];
  // without the legacy provider: the legacy algorithms it can still do, named one by one
  ok(...base, '-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1', ...tail);
  return [];
}

for (const legacy of [false, true]) {
  for (const leaf of ['leaf', 'leaf-ec']) {
    const label = `${legacy ? 'legacy' : 'default AES'} PFX, ${leaf === 'leaf' ? 'RSA' : 'EC'} key`;
    test(`cmg reads an openssl ${label}: leaf first, the chain, a key that matches`, async () => {
      makeOpensslPki();
      const readArgs = opensslPfx(leaf, 'leaf.pfx', legacy);
      const info = run(
        'pkcs12',
        ...readArgs,
        '-in',
        'leaf.pfx',
        '-info',
        '-noout',
        '-passin',
        `pass:${PASS}`,
      );
      assert.is(info.status, 0, info.stderr);
      if (legacy)
        assert.match(info.stderr, /MAC: sha1,.*\n[\s\S]*pbeWithSHA1And/, 'test setup: a legacy file');
      else assert.match(info.stderr, /MAC: sha256,[\s\S]*AES-256-CBC/, 'test setup: an AES file');

      const bundle = await succeeds(() => readBundle(tmp.path('leaf.pfx'), async () => PASS));
      assert.is(bundle.format, 'pfx');
      assert.is(bundle.certificates[0]?.thumbprint, fingerprint(`${leaf}.pem`, 'sha1'), 'leaf first');
      assert.equal(
        bundle.certificates.map((c) => c.thumbprint).sort(),
        [`${leaf}.pem`, 'inter.pem', 'root.pem'].map((f) => fingerprint(f, 'sha1')).sort(),
      );
      assert.ok(bundle.key, 'the PFX key');
      const key = await succeeds(() => importPrivateKey(bundle.key!));
      assert.is(key.type, leaf === 'leaf' ? 'rsa2048' : 'p256');
      assert.is(toPem('PUBLIC KEY', await publicKeyDer(key.publicKey)), spkiPem(bundle.certificates[0]!));

      await failsWith(() => readBundle(tmp.path('leaf.pfx'), async () => 'wrong'), 'CMG_PFX_BAD_PASSPHRASE');
      await failsWith(() => readBundle(tmp.path('leaf.pfx')), 'CMG_PFX_PASSPHRASE_NEEDED');
    });
  }
}

interface OpensslKeyCase {
  name: string;
  /** openssl commands that write key.pem (or key.der). */
  make: string[][];
  file: string;
  label?: string;
  type: KeyType;
}

const KEY_CASES: OpensslKeyCase[] = [
  {
    name: 'RSA 2048 PKCS#8 (genrsa)',
    make: [['genrsa', '-out', 'key.pem', '2048']],
    file: 'key.pem',
    label: 'PRIVATE KEY',
    type: 'rsa2048',
  },
  {
    name: 'RSA 3072 PKCS#1 (genrsa -traditional)',
    make: [['genrsa', '-traditional', '-out', 'key.pem', '3072']],
    file: 'key.pem',
    label: 'RSA PRIVATE KEY',
    type: 'rsa3072',
  },
  {
    name: 'EC P-256 SEC1 (ecparam -genkey)',
    make: [['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'key.pem']],
    file: 'key.pem',
    label: 'EC PRIVATE KEY',
    type: 'p256',
  },
  {
    name: 'EC P-384 PKCS#8 (genpkey)',
    make: [['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', 'key.pem']],
    file: 'key.pem',
    label: 'PRIVATE KEY',
    type: 'p384',
  },
  {
    name: 'EC P-256 PKCS#8 DER (pkcs8 -topk8 -outform DER)',
    make: [
      ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'key.pem'],
      ['pkcs8', '-topk8', '-nocrypt', '-in', 'key.pem', '-outform', 'DER', '-out', 'key.der'],
    ],
    file: 'key.der',
    type: 'p256',
  },
  {
    // OpenSSL 3 writes the type-specific form when asked for DER: SEC1 for EC
    name: 'EC P-256 SEC1 DER (pkey -outform DER)',
    make: [
      ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'key.pem'],
      ['pkey', '-in', 'key.pem', '-outform', 'DER', '-out', 'key.der'],
    ],
    file: 'key.der',
    type: 'p256',
  },
  {
    name: 'RSA 2048 PKCS#1 DER (rsa -outform DER)',
    make: [
      ['genrsa', '-out', 'key.pem', '2048'],
      ['rsa', '-in', 'key.pem', '-outform', 'DER', '-out', 'key.der'],
    ],
    file: 'key.der',
    type: 'rsa2048',
  },
];

for (const c of KEY_CASES) {
  test(`cmg imports an openssl key: ${c.name}`, async () => {
    for (const args of c.make) ok(...args);
    const data = readFileSync(tmp.path(c.file));
    if (c.label)
      assert.match(data.toString('latin1'), `-----BEGIN ${c.label}-----`, 'test setup: the key form');
    const expected = ok('pkey', '-in', 'key.pem', '-pubout');
    const key = await succeeds(() => importPrivateKey(data));
    assert.is(key.type, c.type);
    assert.is(toPem('PUBLIC KEY', await publicKeyDer(key.publicKey)), expected);
    if (c.label) {
      const bundle = await succeeds(() => readBundle(tmp.path(c.file)));
      assert.ok(bundle.key, 'readBundle finds the key');
      const again = await succeeds(() => importPrivateKey(bundle.key!));
      assert.is(toPem('PUBLIC KEY', await publicKeyDer(again.publicKey)), expected);
    }
  });
}

test('cmg refuses openssl-encrypted keys as encrypted: PKCS#8 and traditional PEM', async () => {
  ok('genrsa', '-out', 'plain.pem', '2048');
  ok('pkey', '-in', 'plain.pem', '-aes256', '-passout', 'pass:secret', '-out', 'pkcs8.pem');
  ok(
    'rsa',
    '-in',
    'plain.pem',
    '-aes256',
    '-traditional',
    '-passout',
    'pass:secret',
    '-out',
    'traditional.pem',
  );
  assert.match(readFileSync(tmp.path('traditional.pem'), 'latin1'), 'Proc-Type: 4,ENCRYPTED', 'test setup');
  for (const file of ['pkcs8.pem', 'traditional.pem']) {
    await failsWith(() => readBundle(tmp.path(file)), 'CMG_CERT_KEY_ENCRYPTED');
    const err = await failsWith(
      () => importPrivateKey(readFileSync(tmp.path(file))),
      'CMG_CERT_KEY_UNREADABLE',
    );
    assert.match(err.message, 'encrypted', file);
  }
});

test('cmg reads an openssl CRL (PEM and DER): entries, reason, number, issuer', async () => {
  makeOpensslPki();
  ok('crl', '-in', 'inter.crl', '-outform', 'DER', '-out', 'inter-crl.der');
  const inter = await certOf('inter.pem');
  const root = await certOf('root.pem');
  for (const [file, format] of [
    ['inter.crl', 'pem'],
    ['inter-crl.der', 'crl'],
  ] as const) {
    const bundle = await succeeds(() => readBundle(tmp.path(file)));
    assert.is(bundle.format, format, file);
    assert.is(bundle.crls.length, 1);
    const crl = bundle.crls[0]!;
    assert.equal(
      crl.entries.map((e) => [e.serialNumber, e.reason]),
      [[opensslSerial('revoked.pem'), 'keyCompromise']],
    );
    assert.ok(crl.find(opensslSerial('revoked.pem')));
    assert.is(crl.find(opensslSerial('leaf.pem')), undefined);
    assert.is(crl.crlNumber, 10);
    assert.is(crl.issuer, inter.subject);
    assert.ok(await crl.isSignedBy(inter), 'signed by the issuing CA');
    assert.not.ok(await crl.isSignedBy(root), 'not by the root');
  }
});

test('verifyChain accepts the openssl chain for every purpose and reports the openssl-revoked leaf', async () => {
  makeOpensslPki();
  const [root, inter, leaf, revoked] = await Promise.all(
    ['root.pem', 'inter.pem', 'leaf.pem', 'revoked.pem'].map((f) => certOf(f)),
  );
  const crls = (await succeeds(() => readBundle(tmp.path('inter.crl')))).crls.concat(
    (await succeeds(() => readBundle(tmp.path('root.crl')))).crls,
  );
  const trust = { roots: [root!], crls };
  for (const purpose of ['client', 'server', 'connection-point'] as const) {
    const result = await succeeds(() =>
      verifyChain({
        leaf: leaf!,
        presented: [inter!],
        trust,
        purpose,
        requireCrl: true,
        serviceName: SERVICE_NAME,
        site: SITE,
      }),
    );
    assert.equal(result.failures, [], purpose);
    assert.is(result.ok, true);
    assert.equal(
      result.chain.map((l) => [l.thumbprint, l.trustedRoot]),
      [
        [leaf!.thumbprint, false],
        [inter!.thumbprint, false],
        [root!.thumbprint, true],
      ],
    );
    if (purpose === 'connection-point') assert.equal(result.identity, { site: SITE, id: CP_ID });
  }
  const result = await succeeds(() =>
    verifyChain({ leaf: revoked!, presented: [inter!], trust, purpose: 'client', requireCrl: true }),
  );
  assert.equal(
    result.failures.map((f) => [f.code, f.depth]),
    [[VerifyCode.revoked, 0]],
  );
  assert.match(result.failures[0]?.message ?? '', 'keyCompromise');
  // and openssl agrees
  assertRefused(
    run(
      'verify',
      '-CAfile',
      'root.pem',
      '-untrusted',
      'inter.pem',
      '-crl_check_all',
      '-CRLfile',
      'root.crl',
      '-CRLfile',
      'inter.crl',
      'revoked.pem',
    ),
    'certificate revoked',
    0,
  );
});

// ---------------------------------------------------------------- thumbprints

test("thumbprints, SHA-256 fingerprints and serial numbers equal openssl's, for openssl's and cmg's certificates", async () => {
  makeOpensslPki();
  const chain = await makeChain({ keyType: 'rsa2048' });
  await tmp.writePem('cmg-root.pem', chain.root);
  await tmp.writePem('cmg-inter.pem', chain.inter);
  await tmp.writePem('cmg-leaf.pem', chain.leaf);
  const files = [...OPENSSL_CERTS, 'cmg-root.pem', 'cmg-inter.pem', 'cmg-leaf.pem'];
  for (const file of files) {
    const info = (await certOf(file)).describe();
    assert.is(info.thumbprint, fingerprint(file, 'sha1'), `${file} thumbprint`);
    assert.is(info.sha256Fingerprint, fingerprint(file, 'sha256'), `${file} SHA-256`);
    assert.is(info.serialNumber, opensslSerial(file), `${file} serial`);
  }
  const der = await certOf('leaf.der');
  assert.is(der.describe().thumbprint, fingerprint('leaf.der', 'sha1', 'DER'));
});

test.run();
