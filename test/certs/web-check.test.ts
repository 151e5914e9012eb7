/**
 * checkWebCertificate: each rule of the web service certificate is one line of the result; every
 * failure reason lands on its own line with its own code, and the other lines stay ok.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Certificate } from '../../src/certs/certificate.js';
import type { KeyPair } from '../../src/certs/keys.js';
import { privateKeyDer, privateKeyPem } from '../../src/certs/keys.js';
import { VerifyCode } from '../../src/certs/verify.js';
import {
  checkWebCertificate,
  WEB_CHECKS,
  type WebCheckName,
  type WebCheckRequest,
  type WebCheckResult,
} from '../../src/certs/web-check.js';
import { subtle } from '../../src/certs/x509.js';
import {
  type CertOptions,
  daysFromNow,
  type Issued,
  makeCrl,
  makeIntermediate,
  makeLeaf,
  makeRoot,
  SERVICE_NAME,
  succeeds,
} from '../helpers/pki.js';

const C = VerifyCode;
const CHAIN_NOT_IN_FILE = 'CMG_WEB_CHAIN_NOT_IN_FILE';
const KEY_MISMATCH = 'CMG_WEB_KEY_MISMATCH';
const KEY_MISSING = 'CMG_WEB_KEY_MISSING';

// ---------------------------------------------------------------- helpers

/** Root -> issuing CA -> server certificate for SERVICE_NAME (P-256 unless the leaf options say). */
interface WebPki {
  root: Issued;
  inter: Issued;
  leaf: Issued;
}

async function makeWebPki(leaf: CertOptions = {}, profile: 'server' | 'client' = 'server'): Promise<WebPki> {
  const root = await makeRoot({ subject: 'CN=Web Test Root, O=Contoso' });
  const inter = await makeIntermediate(root, { subject: 'CN=Web Test Issuing CA, O=Contoso' });
  return { root, inter, leaf: await makeLeaf(profile, inter, { dns: [SERVICE_NAME], ...leaf }) };
}

/** The usual request: the file holds the leaf and its issuing CA, the root is trusted. */
function fileRequest(pki: WebPki, over: Partial<WebCheckRequest> = {}): WebCheckRequest {
  return {
    certificates: [pki.leaf.cert, pki.inter.cert],
    serviceName: SERVICE_NAME,
    roots: [pki.root.cert],
    ...over,
  };
}

function check(req: WebCheckRequest): Promise<WebCheckResult> {
  return succeeds(() => checkWebCertificate(req));
}

/**
 * Asserts the lines in `failing` fail with exactly those codes (each problem naming the leaf when
 * `leaf` is given and the code is about it), every other line is ok without problems, and `ok` is
 * true only when nothing fails. The lines come in the order of WEB_CHECKS.
 */
function assertLines(
  result: WebCheckResult,
  failing: Partial<Record<WebCheckName, string[]>>,
  leaf?: Certificate,
): void {
  const dump = JSON.stringify(result.checks, null, 2);
  assert.equal(
    result.checks.map((c) => c.check),
    [...WEB_CHECKS],
    'one line per rule, in order',
  );
  for (const line of result.checks) {
    const wanted = [...(failing[line.check] ?? [])].sort();
    assert.equal(line.problems.map((p) => p.code).sort(), wanted, `codes of the ${line.check} line\n${dump}`);
    assert.is(line.ok, wanted.length === 0, `ok of the ${line.check} line\n${dump}`);
    for (const p of line.problems) assert.ok(p.message.length > 0, `message of ${p.code}`);
  }
  assert.is(
    result.ok,
    Object.values(failing).every((codes) => codes.length === 0),
    'result ok',
  );
  if (leaf) assert.is(result.certificate.thumbprint, leaf.thumbprint, 'the certificate checked is the leaf');
}

/** A WebCrypto key pair from node:crypto keys, for keys cmg's importPrivateKey refuses (RSA 1024, P-521). */
async function webCryptoPair(
  pair: { privateKey: KeyObject; publicKey: KeyObject },
  algorithm: { name: 'RSASSA-PKCS1-v1_5'; hash: 'SHA-256' } | { name: 'ECDSA'; namedCurve: 'P-521' },
): Promise<KeyPair> {
  const pkcs8 = pair.privateKey.export({ format: 'der', type: 'pkcs8' });
  const spki = pair.publicKey.export({ format: 'der', type: 'spki' });
  return {
    // The type only picks key usages and the signature algorithm should this key sign (it does not).
    type: algorithm.name === 'ECDSA' ? 'p256' : 'rsa2048',
    privateKey: await subtle.importKey('pkcs8', pkcs8, algorithm, true, ['sign']),
    publicKey: await subtle.importKey('spki', spki, algorithm, true, ['verify']),
  };
}

// ---------------------------------------------------------------- a certificate that passes

test('leaf and intermediate in the file, root trusted, matching key: every line ok', async () => {
  const pki = await makeWebPki();
  const keyDer = await privateKeyDer(pki.leaf.keyPair.privateKey);
  const keyPem = Buffer.from(await privateKeyPem(pki.leaf.keyPair.privateKey));
  for (const key of [keyDer, keyPem]) {
    const result = await check(fileRequest(pki, { keyDer: key, keyExpected: true }));
    assertLines(result, {}, pki.leaf.cert);
    assert.is(result.serviceName, SERVICE_NAME);
    assert.equal(
      result.chain.map((l) => [l.thumbprint, l.trustedRoot]),
      [
        [pki.leaf.cert.thumbprint, false],
        [pki.inter.cert.thumbprint, false],
        [pki.root.cert.thumbprint, true],
      ],
    );
  }
});

test('the leaf is found by its key wherever it is in the file', async () => {
  const pki = await makeWebPki();
  const keyDer = await privateKeyDer(pki.leaf.keyPair.privateKey);
  const result = await check(fileRequest(pki, { certificates: [pki.inter.cert, pki.leaf.cert], keyDer }));
  assertLines(result, {}, pki.leaf.cert);
});

test('a current CRL of the issuing CA that does not list the leaf keeps every line ok', async () => {
  const pki = await makeWebPki();
  const crls = [await makeCrl(pki.inter, { revoked: ['0A0B0C'] }), await makeCrl(pki.root)];
  assertLines(await check(fileRequest(pki, { crls, requireCrl: true })), {}, pki.leaf.cert);
});

test('wildcard: accepted with allowWildcard for a name one label below', async () => {
  const pki = await makeWebPki({ dns: ['*.contoso.com'] });
  assertLines(await check(fileRequest(pki, { allowWildcard: true })), {}, pki.leaf.cert);
});

// ---------------------------------------------------------------- one failure reason each

interface FailureCase {
  name: string;
  build: () => Promise<{ req: WebCheckRequest; leaf: Certificate }>;
  failing: Partial<Record<WebCheckName, string[]>>;
}

/** The usual request over a fresh PKI, changed by `over`. */
function usual(
  leaf: CertOptions = {},
  over: (pki: WebPki) => Partial<WebCheckRequest> | Promise<Partial<WebCheckRequest>> = () => ({}),
) {
  return async () => {
    const pki = await makeWebPki(leaf);
    return { req: fileRequest(pki, await over(pki)), leaf: pki.leaf.cert };
  };
}

const failures: FailureCase[] = [
  {
    name: 'untrusted root: the file ends at a root that is not among the roots given',
    build: usual({}, async (pki) => {
      const other = await makeRoot({ subject: 'CN=Someone Else Root' });
      return { certificates: [pki.leaf.cert, pki.inter.cert, pki.root.cert], roots: [other.cert] };
    }),
    failing: { trust: [C.untrustedRoot] },
  },
  {
    name: 'untrusted root with the default (system) roots: a lab chain with its root in the file',
    build: usual({}, (pki) => ({
      certificates: [pki.leaf.cert, pki.inter.cert, pki.root.cert],
      roots: undefined,
    })),
    failing: { trust: [C.untrustedRoot] },
  },
  {
    name: 'missing intermediate: only the leaf in the file, the intermediate given nowhere',
    build: usual({}, (pki) => ({ certificates: [pki.leaf.cert] })),
    failing: { trust: [C.missingIntermediate], chain: [CHAIN_NOT_IN_FILE] },
  },
  {
    name: 'chain not in file: leaf and root in the file, the intermediate absent from it',
    build: usual({}, (pki) => ({ certificates: [pki.leaf.cert, pki.root.cert] })),
    failing: { trust: [C.missingIntermediate], chain: [CHAIN_NOT_IN_FILE] },
  },
  {
    name: 'expired',
    build: usual({ notBefore: daysFromNow(-30), notAfter: daysFromNow(-1) }),
    failing: { validity: [C.expired] },
  },
  {
    name: 'expired at the time asked (`at` 400 days on, the leaf is valid 365)',
    build: usual({}, () => ({ at: daysFromNow(400) })),
    failing: { validity: [C.expired] },
  },
  {
    name: 'not yet valid',
    build: usual({ notBefore: daysFromNow(1), days: 30 }),
    failing: { validity: [C.notYetValid] },
  },
  {
    name: 'wrong EKU: a client certificate carrying the service name',
    build: async () => {
      const pki = await makeWebPki({}, 'client');
      assert.equal(
        pki.leaf.cert.subjectAltNames.dns,
        [SERVICE_NAME],
        'test setup: the client cert has the name',
      );
      return { req: fileRequest(pki), leaf: pki.leaf.cert };
    },
    failing: { eku: [C.wrongEku] },
  },
  {
    name: "revoked: the leaf is in its issuer's CRL",
    build: usual({}, async (pki) => ({
      crls: [
        await makeCrl(pki.inter, { revoked: [pki.leaf], reason: 'keyCompromise' }),
        await makeCrl(pki.root),
      ],
    })),
    failing: { revocation: [C.revoked] },
  },
  {
    name: 'name mismatch: the service name is not on the certificate',
    build: usual({}, () => ({ serviceName: 'portal.contoso.com' })),
    failing: { name: [C.nameMismatch] },
  },
  {
    name: 'wildcard: *.contoso.com covers the service name only through a wildcard, refused by default',
    build: usual({ dns: ['*.contoso.com'] }),
    failing: { name: [C.wildcard] },
  },
  {
    name: 'wildcard: *.contoso.com does not cover a.b.contoso.com, even with allowWildcard',
    build: usual({ dns: ['*.contoso.com'] }, () => ({ serviceName: 'a.b.contoso.com', allowWildcard: true })),
    failing: { name: [C.nameMismatch] },
  },
  {
    name: 'key too small: RSA 1024',
    build: async () => {
      const keyPair = await webCryptoPair(generateKeyPairSync('rsa', { modulusLength: 1024 }), {
        name: 'RSASSA-PKCS1-v1_5',
        hash: 'SHA-256',
      });
      return usual({ keyPair })();
    },
    failing: { key: [C.keyTooSmall] },
  },
  {
    name: 'key unsupported for web: ECDSA on P-521',
    build: async () => {
      const keyPair = await webCryptoPair(generateKeyPairSync('ec', { namedCurve: 'secp521r1' }), {
        name: 'ECDSA',
        namedCurve: 'P-521',
      });
      const built = await usual({ keyPair })();
      assert.equal(built.leaf.key, { algorithm: 'EC', curve: 'P-521' }, 'test setup: a P-521 leaf');
      return built;
    },
    failing: { key: [C.keyUnsupported] },
  },
  {
    name: 'SHA-1 signature on the certificate',
    build: async () => {
      const built = await usual({ signatureHash: 'SHA-1' })();
      assert.is(built.leaf.signatureAlgorithm.hash, 'SHA-1', 'test setup: a SHA-1 signed leaf');
      return built;
    },
    failing: { signature: [C.weakSignature] },
  },
  {
    name: 'private key not matching the certificate',
    build: usual({}, async (pki) => ({
      keyDer: await privateKeyDer(pki.root.keyPair.privateKey),
      keyExpected: true,
    })),
    failing: { privateKey: [KEY_MISMATCH] },
  },
  {
    name: 'PFX without its private key',
    build: usual({}, () => ({ keyExpected: true })),
    failing: { privateKey: [KEY_MISSING] },
  },
];

for (const c of failures) {
  test(c.name, async () => {
    const { req, leaf } = await c.build();
    assertLines(await check(req), c.failing, leaf);
  });
}

test('a failure problem names the code, the depth and the subject of the certificate at fault', async () => {
  const pki = await makeWebPki({ notBefore: daysFromNow(-30), notAfter: daysFromNow(-1) });
  const result = await check(fileRequest(pki));
  const validity = result.checks.find((c) => c.check === 'validity');
  assert.equal(
    validity?.problems.map(({ code, depth, subject }) => ({ code, depth, subject })),
    [{ code: C.expired, depth: 0, subject: pki.leaf.cert.subject }],
  );
});

test('several problems at once: every line reports its own', async () => {
  const pki = await makeWebPki({
    notBefore: daysFromNow(-30),
    notAfter: daysFromNow(-1),
    signatureHash: 'SHA-1',
  });
  const result = await check(
    fileRequest(pki, {
      certificates: [pki.leaf.cert],
      serviceName: 'portal.contoso.com',
      keyDer: await privateKeyDer(pki.root.keyPair.privateKey),
    }),
  );
  assertLines(
    result,
    {
      name: [C.nameMismatch],
      signature: [C.weakSignature],
      validity: [C.expired],
      chain: [CHAIN_NOT_IN_FILE],
      trust: [C.missingIntermediate],
      privateKey: [KEY_MISMATCH],
    },
    pki.leaf.cert,
  );
});

test.run();
