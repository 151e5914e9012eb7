/**
 * verifyChain: a good chain passes, and every refusal reason is reported with its exact code at the
 * depth of the certificate at fault (0 the leaf, 1 its issuer, ...), and nothing else.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  Name as AsnName,
  GeneralName,
  GeneralSubtree,
  GeneralSubtrees,
  NameConstraints,
} from '@peculiar/asn1-x509';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Certificate, EKU } from '../../src/certs/certificate.js';
import { connectionPointUri } from '../../src/certs/identity.js';
import { privateKeyPem } from '../../src/certs/keys.js';
import { parsePem } from '../../src/certs/pem.js';
import { VerifyCode, type VerifyRequest, type VerifyResult, verifyChain } from '../../src/certs/verify.js';
import { x509 } from '../../src/certs/x509.js';
import {
  type Chain,
  CP_ID,
  craftCertificate,
  daysFromNow,
  ecKeyPair,
  type Issued,
  makeChain,
  makeCrl,
  makeIntermediate,
  makeLeaf,
  makeRoot,
  opensslOk,
  rsaKeyPair,
  SERVICE_NAME,
  SITE,
  succeeds,
} from '../helpers/pki.js';

const C = VerifyCode;

function verify(req: VerifyRequest): Promise<VerifyResult> {
  return succeeds(() => verifyChain(req));
}

/** The usual request: the leaf of `chain`, its issuing CA presented by the peer, its root trusted. */
function request(chain: Chain, over: Partial<VerifyRequest> = {}): VerifyRequest {
  return {
    leaf: chain.leaf.cert,
    presented: [chain.inter.cert],
    trust: { roots: [chain.root.cert] },
    purpose: 'client',
    ...over,
  };
}

/** `CODE@depth` for each failure, sorted, for one readable comparison. */
function failureKeys(result: VerifyResult): string[] {
  return result.failures.map((f) => `${f.code}@${f.depth}`).sort();
}

/**
 * Asserts the failures are exactly `expected` ([code, depth] pairs), and that each names the
 * certificate at its depth in the chain that was built.
 */
function assertFailures(result: VerifyResult, expected: [string, number][]): void {
  const wanted = expected.map(([code, depth]) => `${code}@${depth}`).sort();
  assert.equal(failureKeys(result), wanted, JSON.stringify(result.failures, null, 2));
  assert.is(result.ok, expected.length === 0, 'ok');
  for (const f of result.failures) {
    assert.is(f.subject, result.chain[f.depth]?.subject, `subject of the failure at depth ${f.depth}`);
    assert.ok(f.message.length > 0, `message of ${f.code}`);
  }
}

/** Asserts a passing result whose chain runs leaf, issuing CA, root, and ends at a trusted root. */
function assertGoodChain(result: VerifyResult, chain: Chain): void {
  assertFailures(result, []);
  assert.equal(
    result.chain.map((l) => [l.depth, l.thumbprint, l.trustedRoot]),
    [
      [0, chain.leaf.cert.thumbprint, false],
      [1, chain.inter.cert.thumbprint, false],
      [2, chain.root.cert.thumbprint, true],
    ],
  );
  assert.is(result.chain[0]?.serialNumber, chain.leaf.cert.serialNumber);
  assert.is(result.chain[1]?.issuer, chain.root.cert.subject);
}

// ---------------------------------------------------------------- chains that pass

test('a good client chain passes: three links, the last a trusted root', async () => {
  const chain = await makeChain();
  const result = await verify(request(chain));
  assertGoodChain(result, chain);
  assert.is(result.purpose, 'client');
  assert.is(result.identity, undefined);
});

test('a good RSA server chain passes for its service name (case and a trailing dot do not matter)', async () => {
  const chain = await makeChain({ profile: 'server', keyType: 'rsa2048' });
  for (const serviceName of [SERVICE_NAME, 'GW.Contoso.COM', `${SERVICE_NAME}.`]) {
    assertGoodChain(await verify(request(chain, { purpose: 'server', serviceName })), chain);
  }
});

test('a good connection point chain passes and reports its identity; the site is compared without case', async () => {
  const chain = await makeChain({ profile: 'connection-point' });
  for (const site of [SITE, SITE.toLowerCase(), undefined]) {
    const result = await verify(request(chain, { purpose: 'connection-point', ...(site ? { site } : {}) }));
    assertGoodChain(result, chain);
    assert.equal(result.identity, { site: SITE, id: CP_ID });
  }
});

test('intermediates work both presented by the peer and given as trust.intermediates', async () => {
  const chain = await makeChain();
  assertGoodChain(await verify(request(chain, { presented: [chain.inter.cert] })), chain);
  assertGoodChain(
    await verify(
      request(chain, {
        presented: [],
        trust: { roots: [chain.root.cert], intermediates: [chain.inter.cert] },
      }),
    ),
    chain,
  );
  // the peer may also send the root along: a presented certificate is a candidate, the anchor is still the trusted one
  assertGoodChain(await verify(request(chain, { presented: [chain.root.cert, chain.inter.cert] })), chain);
});

test('a root whose own self-signature is SHA-1 is not refused: a trust anchor is trusted by configuration', async () => {
  for (const keyType of ['p256', 'rsa2048'] as const) {
    const chain = await makeChain({ keyType, root: { signatureHash: 'SHA-1' } });
    assert.is(chain.root.cert.signatureAlgorithm.hash, 'SHA-1', 'test setup: the root is SHA-1 signed');
    assertGoodChain(await verify(request(chain)), chain);
  }
});

test('an issuing CA limited to the purpose (or to anyExtendedKeyUsage) may issue for it', async () => {
  for (const [ekus, profile, purpose] of [
    [[EKU.serverAuth], 'server', 'server'],
    [[EKU.clientAuth, EKU.serverAuth], 'client', 'client'],
    [[EKU.anyExtendedKeyUsage], 'client', 'client'],
  ] as const) {
    const root = await makeRoot();
    const inter = await craftCertificate({
      subject: 'CN=Limited CA',
      issuer: root,
      ca: true,
      ekus: [...ekus],
    });
    const leaf = await makeLeaf(profile, inter);
    assertGoodChain(await verify(request({ root, inter, leaf }, { purpose })), { root, inter, leaf });
  }
});

test('CRLs: a current CRL not listing the certificate passes, as does one of another CA listing its serial', async () => {
  const chain = await makeChain();
  const otherRoot = await makeRoot({ subject: 'CN=Other Root' });
  const crls = [
    await makeCrl(chain.root),
    await makeCrl(chain.inter, { revoked: ['0A0B0C'] }),
    await makeCrl(otherRoot, { revoked: [chain.leaf, chain.inter] }),
  ];
  assertGoodChain(
    await verify(request(chain, { requireCrl: true, trust: { roots: [chain.root.cert], crls } })),
    chain,
  );
});

test('CRLs: an expired CRL does not matter when a newer, current one of the same CA is given', async () => {
  const chain = await makeChain();
  const crls = [
    await makeCrl(chain.inter, { thisUpdate: daysFromNow(-20), nextUpdate: daysFromNow(-10), crlNumber: 1 }),
    await makeCrl(chain.inter, { thisUpdate: daysFromNow(-1), nextUpdate: daysFromNow(6), crlNumber: 2 }),
    await makeCrl(chain.root),
  ];
  assertGoodChain(
    await verify(request(chain, { requireCrl: true, trust: { roots: [chain.root.cert], crls } })),
    chain,
  );
});

// ---------------------------------------------------------------- chains that are refused

interface RefusalCase {
  name: string;
  build: () => Promise<VerifyRequest>;
  /** Every failure expected, as [code, depth]. */
  expect: [string, number][];
}

/** A name constraints extension over DNS names. */
function dnsConstraints(c: { permitted?: string[]; excluded?: string[] }): x509.Extension {
  const subtrees = (names: string[] = []) =>
    new GeneralSubtrees(names.map((dNSName) => new GeneralSubtree({ base: new GeneralName({ dNSName }) })));
  const nc = new NameConstraints({
    ...(c.permitted ? { permittedSubtrees: subtrees(c.permitted) } : {}),
    ...(c.excluded ? { excludedSubtrees: subtrees(c.excluded) } : {}),
  });
  return new x509.Extension('2.5.29.30', true, AsnConvert.serialize(nc));
}

/** A name constraint on directory names, which cmg does not evaluate. */
function directoryNameConstraint(): x509.Extension {
  const base = new GeneralName({
    directoryName: AsnConvert.parse(new x509.Name('O=Contoso').toArrayBuffer(), AsnName),
  });
  const nc = new NameConstraints({ permittedSubtrees: new GeneralSubtrees([new GeneralSubtree({ base })]) });
  return new x509.Extension('2.5.29.30', true, AsnConvert.serialize(nc));
}

const refusals: RefusalCase[] = [
  {
    name: 'untrusted root: the chain reaches a self-signed root that is not among the roots',
    build: async () => {
      const chain = await makeChain();
      const trusted = await makeRoot({ subject: 'CN=Someone Else Root' });
      return request(chain, {
        presented: [chain.inter.cert, chain.root.cert],
        trust: { roots: [trusted.cert] },
      });
    },
    expect: [[C.untrustedRoot, 2]],
  },
  {
    name: 'untrusted root: a self-signed leaf (a management certificate) that is not trusted',
    build: async () => {
      const chain = await makeChain();
      return request(chain, { leaf: (await makeLeaf('management', undefined)).cert });
    },
    expect: [[C.untrustedRoot, 0]],
  },
  {
    name: 'missing intermediate: the issuing CA of the leaf is given nowhere',
    build: async () => request(await makeChain(), { presented: [] }),
    expect: [[C.missingIntermediate, 0]],
  },
  {
    name: 'missing intermediate: the second of two issuing CAs is given nowhere (depth 1)',
    build: async () => {
      const chain = await makeChain();
      const lower = await makeIntermediate(chain.inter, { subject: 'CN=Lower Issuing CA' });
      const leaf = await makeLeaf('client', lower);
      return request(chain, { leaf: leaf.cert, presented: [lower.cert] });
    },
    expect: [[C.missingIntermediate, 1]],
  },
  {
    name: 'expired leaf',
    build: async () =>
      request(await makeChain({ leaf: { notBefore: daysFromNow(-30), notAfter: daysFromNow(-1) } })),
    expect: [[C.expired, 0]],
  },
  {
    name: 'expired intermediate (depth 1)',
    build: async () =>
      request(await makeChain({ inter: { notBefore: daysFromNow(-30), notAfter: daysFromNow(-1) } })),
    expect: [[C.expired, 1]],
  },
  {
    name: 'expired at the time asked (`at`): a 365-day leaf checked 400 days from now',
    build: async () => request(await makeChain(), { at: daysFromNow(400) }),
    expect: [[C.expired, 0]],
  },
  {
    name: 'leaf not yet valid',
    build: async () => request(await makeChain({ leaf: { notBefore: daysFromNow(1), days: 30 } })),
    expect: [[C.notYetValid, 0]],
  },
  {
    name: 'intermediate not yet valid (depth 1)',
    build: async () => request(await makeChain({ inter: { notBefore: daysFromNow(1), days: 30 } })),
    expect: [[C.notYetValid, 1]],
  },
  {
    name: 'wrong EKU: a server certificate used for the client purpose',
    build: async () => request(await makeChain({ profile: 'server' }), { purpose: 'client' }),
    expect: [[C.wrongEku, 0]],
  },
  {
    name: 'wrong EKU: a client certificate used for the server purpose',
    build: async () => request(await makeChain({ profile: 'client' }), { purpose: 'server' }),
    expect: [[C.wrongEku, 0]],
  },
  {
    name: 'wrong EKU: a leaf without any extended key usage',
    build: async () => {
      const chain = await makeChain();
      const leaf = await craftCertificate({ subject: 'CN=no eku', issuer: chain.inter, ca: false });
      return request(chain, { leaf: leaf.cert });
    },
    expect: [[C.wrongEku, 0]],
  },
  {
    name: 'wrong EKU: an issuing CA constrained to serverAuth issued a client certificate (depth 1)',
    build: async () => {
      const root = await makeRoot();
      const inter = await craftCertificate({
        subject: 'CN=Server-only CA',
        issuer: root,
        ca: true,
        ekus: [EKU.serverAuth],
      });
      return request({ root, inter, leaf: await makeLeaf('client', inter) });
    },
    expect: [[C.wrongEku, 1]],
  },
  {
    name: "revoked: the leaf is in its issuer's CRL",
    build: async () => {
      const chain = await makeChain();
      const crls = [await makeCrl(chain.inter, { revoked: [chain.leaf], reason: 'keyCompromise' })];
      return request(chain, { trust: { roots: [chain.root.cert], crls } });
    },
    expect: [[C.revoked, 0]],
  },
  {
    name: "revoked: the intermediate is in the root's CRL (depth 1), with requireCrl and both CRLs",
    build: async () => {
      const chain = await makeChain();
      const crls = [await makeCrl(chain.root, { revoked: [chain.inter] }), await makeCrl(chain.inter)];
      return request(chain, { requireCrl: true, trust: { roots: [chain.root.cert], crls } });
    },
    expect: [[C.revoked, 1]],
  },
  {
    name: 'revoked: the intermediate is in the root CRL, no CRL of the intermediate, requireCrl off',
    build: async () => {
      const chain = await makeChain();
      return request(chain, {
        trust: { roots: [chain.root.cert], crls: [await makeCrl(chain.root, { revoked: [chain.inter] })] },
      });
    },
    expect: [[C.revoked, 1]],
  },
  {
    name: 'CRL unavailable: requireCrl with no CRL at all (both the leaf and the intermediate)',
    build: async () => request(await makeChain(), { requireCrl: true }),
    expect: [
      [C.crlUnavailable, 0],
      [C.crlUnavailable, 1],
    ],
  },
  {
    name: "CRL unavailable: requireCrl with only the root's CRL (the leaf's issuer has none)",
    build: async () => {
      const chain = await makeChain();
      return request(chain, {
        requireCrl: true,
        trust: { roots: [chain.root.cert], crls: [await makeCrl(chain.root)] },
      });
    },
    expect: [[C.crlUnavailable, 0]],
  },
  {
    name: "CRL expired: the issuer's only CRL has nextUpdate in the past",
    build: async () => {
      const chain = await makeChain();
      const crls = [await makeCrl(chain.inter, { thisUpdate: daysFromNow(-8), nextUpdate: daysFromNow(-1) })];
      return request(chain, { trust: { roots: [chain.root.cert], crls } });
    },
    expect: [[C.crlExpired, 0]],
  },
  {
    name: 'name mismatch: the server certificate does not carry the service name',
    build: async () =>
      request(await makeChain({ profile: 'server' }), {
        purpose: 'server',
        serviceName: 'portal.contoso.com',
      }),
    expect: [[C.nameMismatch, 0]],
  },
  {
    name: 'wildcard: *.contoso.com covers gw.contoso.com only through a wildcard, not allowed',
    build: async () =>
      request(await makeChain({ profile: 'server', leaf: { dns: ['*.contoso.com'] } }), {
        purpose: 'server',
        serviceName: SERVICE_NAME,
      }),
    expect: [[C.wildcard, 0]],
  },
  {
    name: 'wildcard: *.contoso.com does not cover a.b.contoso.com (one label only), even when allowed',
    build: async () =>
      request(await makeChain({ profile: 'server', leaf: { dns: ['*.contoso.com'] } }), {
        purpose: 'server',
        serviceName: 'a.b.contoso.com',
        allowWildcard: true,
      }),
    expect: [[C.nameMismatch, 0]],
  },
  {
    name: 'wildcard: *.contoso.com does not cover contoso.com itself, even when allowed',
    build: async () =>
      request(await makeChain({ profile: 'server', leaf: { dns: ['*.contoso.com'] } }), {
        purpose: 'server',
        serviceName: 'contoso.com',
        allowWildcard: true,
      }),
    expect: [[C.nameMismatch, 0]],
  },
  {
    name: 'key too small: an RSA 1024 leaf',
    build: async () => request(await makeChain({ leaf: { keyPair: await rsaKeyPair(1024) } })),
    expect: [[C.keyTooSmall, 0]],
  },
  {
    name: 'key too small: an RSA 1024 issuing CA (depth 1)',
    build: async () => request(await makeChain({ inter: { keyPair: await rsaKeyPair(1024) } })),
    expect: [[C.keyTooSmall, 1]],
  },
  {
    name: 'key unsupported: a server certificate on curve P-521',
    build: async () =>
      request(await makeChain({ profile: 'server', leaf: { keyPair: await ecKeyPair('P-521') } }), {
        purpose: 'server',
        serviceName: SERVICE_NAME,
      }),
    expect: [[C.keyUnsupported, 0]],
  },
  {
    name: 'SHA-1 signature on the leaf, ECDSA',
    build: async () => request(await makeChain({ leaf: { signatureHash: 'SHA-1' } })),
    expect: [[C.weakSignature, 0]],
  },
  {
    name: 'SHA-1 signature on the leaf, RSA',
    build: async () => {
      const chain = await makeChain({ keyType: 'rsa2048', leaf: { signatureHash: 'SHA-1' } });
      assert.is(
        chain.leaf.cert.signatureAlgorithm.name,
        'sha1WithRSAEncryption',
        'test setup: issueCertificate signs SHA-1',
      );
      return request(chain);
    },
    expect: [[C.weakSignature, 0]],
  },
  {
    name: 'SHA-1 signature on the intermediate (depth 1), ECDSA',
    build: async () => request(await makeChain({ inter: { signatureHash: 'SHA-1' } })),
    expect: [[C.weakSignature, 1]],
  },
  {
    name: 'bad signature: the leaf names the trusted root but was signed by another CA of the same name',
    build: async () => {
      const root = await makeRoot({ subject: 'CN=Contoso Root' });
      const impostor = await makeRoot({ subject: 'CN=Contoso Root' });
      const leaf = await makeLeaf('client', root, { signWith: impostor });
      return {
        leaf: leaf.cert,
        presented: [impostor.cert],
        trust: { roots: [root.cert] },
        purpose: 'client',
      };
    },
    expect: [[C.badSignature, 0]],
  },
  {
    name: 'bad signature: the intermediate names the trusted root but was signed by another key (depth 1)',
    build: async () => {
      const root = await makeRoot({ subject: 'CN=Contoso Root' });
      const impostor = await makeRoot({ subject: 'CN=Contoso Root' });
      const inter = await makeIntermediate(root, { signWith: impostor });
      return request({ root, inter, leaf: await makeLeaf('client', inter) });
    },
    expect: [[C.badSignature, 1]],
  },
  {
    name: 'issuer not a CA: the leaf was issued by a certificate with keyCertSign but CA:FALSE',
    build: async () => {
      const chain = await makeChain();
      const F = x509.KeyUsageFlags;
      const notCa = await craftCertificate({
        subject: 'CN=not a CA',
        issuer: chain.inter,
        ca: false,
        keyUsages: F.digitalSignature | F.keyCertSign,
        ekus: [EKU.clientAuth],
      });
      const leaf = await makeLeaf('client', notCa);
      return request(chain, { leaf: leaf.cert, presented: [notCa.cert, chain.inter.cert] });
    },
    expect: [[C.notACA, 1]],
  },
  {
    name: 'issuer not a CA: the leaf was issued by an ordinary client certificate (which is presented)',
    build: async () => {
      const chain = await makeChain();
      const client = await makeLeaf('client', chain.inter);
      const leaf = await makeLeaf('client', client);
      return request(chain, { leaf: leaf.cert, presented: [client.cert, chain.inter.cert] });
    },
    // Its key usage does not allow signing certificates either: both are reported.
    expect: [
      [C.notACA, 1],
      [C.keyUsage, 1],
    ],
  },
  {
    name: 'chain too long: ten certificates without reaching a trusted root is a refusal, not a pass',
    build: async () => {
      const chain = await makeChain();
      const evil = await makeRoot({ subject: 'CN=Evil Root' });
      const cas = [evil];
      for (let i = 1; i <= 9; i++)
        cas.push(await makeIntermediate(cas[cas.length - 1] as Issued, { subject: `CN=I${i}` }));
      const leaf = await makeLeaf('connection-point', cas[cas.length - 1] as Issued);
      return request(chain, {
        leaf: leaf.cert,
        presented: cas.map((c) => c.cert).reverse(),
        purpose: 'connection-point',
      });
    },
    expect: [[C.chainTooLong, 9]],
  },
  {
    name: 'path length: a root limited to no CA below it, with an intermediate below it',
    build: async () => {
      const root = await makeRoot({ pathLength: 0 });
      const inter = await makeIntermediate(root);
      const leaf = await makeLeaf('client', inter);
      return request({ root, inter, leaf }, {});
    },
    expect: [[C.pathLength, 2]],
  },
  {
    name: 'name constraints: an intermediate limited to contoso.com vouching for cmg.evil.com',
    build: async () => {
      const chain = await makeChain();
      const constrained = await craftCertificate({
        subject: 'CN=Contoso only',
        issuer: chain.root,
        ca: true,
        extensions: [dnsConstraints({ permitted: ['contoso.com'] })],
      });
      const leaf = await craftCertificate({
        subject: 'CN=cmg.evil.com',
        issuer: constrained,
        ca: false,
        ekus: [EKU.serverAuth],
        dns: ['cmg.evil.com'],
      });
      return request(chain, {
        leaf: leaf.cert,
        presented: [constrained.cert],
        purpose: 'server',
        serviceName: 'cmg.evil.com',
      });
    },
    expect: [[C.nameConstraints, 0]],
  },
  {
    name: 'name constraints of a kind cmg does not evaluate (directory name): refused, not guessed',
    build: async () => {
      const chain = await makeChain();
      const constrained = await craftCertificate({
        subject: 'CN=DN constrained',
        issuer: chain.root,
        ca: true,
        extensions: [directoryNameConstraint()],
      });
      const leaf = await craftCertificate({
        subject: 'CN=x',
        issuer: constrained,
        ca: false,
        ekus: [EKU.clientAuth],
      });
      return request(chain, { leaf: leaf.cert, presented: [constrained.cert] });
    },
    expect: [[C.nameConstraints, 1]],
  },
  {
    name: 'an unknown critical extension on the leaf',
    build: async () => {
      const chain = await makeChain();
      const leaf = await craftCertificate({
        subject: 'CN=critical',
        issuer: chain.inter,
        ca: false,
        ekus: [EKU.clientAuth],
        extensions: [new x509.Extension('1.2.3.4.5', true, new Uint8Array([0x05, 0x00]))],
      });
      return request(chain, { leaf: leaf.cert });
    },
    expect: [[C.unknownCritical, 0]],
  },
  {
    name: 'key usage: a client certificate whose key may only sign certificates',
    build: async () => {
      const chain = await makeChain();
      const leaf = await craftCertificate({
        subject: 'CN=odd usage',
        issuer: chain.inter,
        ca: false,
        ekus: [EKU.clientAuth],
        keyUsages: x509.KeyUsageFlags.keyCertSign,
      });
      return request(chain, { leaf: leaf.cert });
    },
    expect: [[C.keyUsage, 0]],
  },
  {
    name: 'connection point identity missing: a client certificate without the URI name',
    build: async () =>
      request(await makeChain({ profile: 'client' }), { purpose: 'connection-point', site: SITE }),
    expect: [[C.noIdentity, 0]],
  },
  {
    name: 'connection point identity missing: two identities in one certificate',
    build: async () =>
      request(
        await makeChain({
          profile: 'connection-point',
          leaf: { uris: [connectionPointUri(SITE, 'cp01'), connectionPointUri(SITE, 'cp02')] },
        }),
        { purpose: 'connection-point' },
      ),
    expect: [[C.noIdentity, 0]],
  },
  {
    name: 'site mismatch: the connection point belongs to another site',
    build: async () =>
      request(await makeChain({ profile: 'connection-point' }), { purpose: 'connection-point', site: 'X02' }),
    expect: [[C.siteMismatch, 0]],
  },
  {
    name: 'every problem at once, sorted by depth: expired SHA-1 server leaf for a client, expired intermediate',
    build: async () =>
      request(
        await makeChain({
          profile: 'server',
          leaf: { notBefore: daysFromNow(-30), notAfter: daysFromNow(-1), signatureHash: 'SHA-1' },
          inter: { notBefore: daysFromNow(-30), notAfter: daysFromNow(-2) },
        }),
      ),
    expect: [
      [C.expired, 0],
      [C.weakSignature, 0],
      [C.wrongEku, 0],
      [C.expired, 1],
    ],
  },
];

test('every VerifyCode has a refusal case above', () => {
  const tested = new Set(refusals.flatMap((c) => c.expect.map(([code]) => code)));
  assert.equal(
    Object.values(VerifyCode).filter((code) => !tested.has(code)),
    [],
  );
});

for (const c of refusals) {
  test(`refused: ${c.name}`, async () => {
    const result = await verify(await c.build());
    assertFailures(result, c.expect);
    assert.equal(
      result.failures.map((f) => f.depth),
      [...result.failures.map((f) => f.depth)].sort((a, b) => a - b),
      'failures are sorted by depth',
    );
  });
}

test('untrusted root: the chain is still reported, ending at the untrusted root, with no trusted link', async () => {
  const chain = await makeChain();
  const trusted = await makeRoot({ subject: 'CN=Someone Else Root' });
  const result = await verify(
    request(chain, { presented: [chain.inter.cert, chain.root.cert], trust: { roots: [trusted.cert] } }),
  );
  assert.equal(
    result.chain.map((l) => [l.thumbprint, l.trustedRoot]),
    [
      [chain.leaf.cert.thumbprint, false],
      [chain.inter.cert.thumbprint, false],
      [chain.root.cert.thumbprint, false],
    ],
  );
});

test('wildcard: accepted with allowWildcard for exactly one label', async () => {
  const chain = await makeChain({ profile: 'server', leaf: { dns: ['*.contoso.com'] } });
  for (const serviceName of [SERVICE_NAME, 'portal.contoso.com']) {
    assertGoodChain(
      await verify(request(chain, { purpose: 'server', serviceName, allowWildcard: true })),
      chain,
    );
  }
});

test('the same P-521 key is not refused for the client purpose (the curve rule is for web certificates)', async () => {
  const chain = await makeChain({ leaf: { keyPair: await ecKeyPair('P-521') } });
  assertGoodChain(await verify(request(chain)), chain);
});

test('name constraints that permit the names: the chain passes (no over-refusal)', async () => {
  const chain = await makeChain();
  const constrained = await craftCertificate({
    subject: 'CN=Contoso only',
    issuer: chain.root,
    ca: true,
    extensions: [dnsConstraints({ permitted: ['contoso.com'], excluded: ['secret.contoso.com'] })],
  });
  const leafFor = (dns: string) =>
    craftCertificate({
      subject: `CN=${dns}`,
      issuer: constrained,
      ca: false,
      ekus: [EKU.serverAuth],
      dns: [dns],
    });
  const good = await leafFor('cmg.contoso.com');
  const ok = await verify(
    request(chain, { leaf: good.cert, presented: [constrained.cert], purpose: 'server' }),
  );
  assert.is(ok.ok, true, JSON.stringify(ok.failures));
  const excluded = await leafFor('a.secret.contoso.com');
  assertFailures(
    await verify(request(chain, { leaf: excluded.cert, presented: [constrained.cert], purpose: 'server' })),
    [[C.nameConstraints, 0]],
  );
});

test('a negative serial number (as openssl can mint) is found in its CRL: serials compare as DER bytes', async () => {
  const chain = await makeChain();
  const dir = mkdtempSync(join(tmpdir(), 'cmg-negserial-'));
  try {
    writeFileSync(join(dir, 'inter.pem'), chain.inter.cert.toPem());
    writeFileSync(join(dir, 'inter.key'), await privateKeyPem(chain.inter.keyPair.privateKey));
    writeFileSync(
      join(dir, 'ext.cnf'),
      'extendedKeyUsage = clientAuth\nkeyUsage = critical, digitalSignature\n',
    );
    opensslOk(
      [
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        'leaf.key',
        '-subj',
        '/CN=negative serial',
        '-out',
        'leaf.csr',
      ],
      { cwd: dir },
    );
    opensslOk(
      [
        'x509',
        '-req',
        '-in',
        'leaf.csr',
        '-CA',
        'inter.pem',
        '-CAkey',
        'inter.key',
        '-set_serial',
        '-0x1234',
        '-days',
        '2',
        '-extfile',
        'ext.cnf',
        '-out',
        'leaf.pem',
      ],
      { cwd: dir },
    );
    const leaf = Certificate.fromDer(
      parsePem(readFileSync(join(dir, 'leaf.pem'), 'latin1'))[0]?.der ?? Buffer.alloc(0),
    );
    assert.is(leaf.native.serialNumber, '-1234', 'Node writes it as a negative number');
    // The CRL lists the serial as its DER bytes, as an openssl CA writes it: -0x1234 is ED CC.
    assert.is(leaf.serialNumber, 'EDCC');
    const crl = await makeCrl(chain.inter, { revoked: ['EDCC'] });
    const result = await verify(request(chain, { leaf, trust: { roots: [chain.root.cert], crls: [crl] } }));
    assertFailures(result, [[C.revoked, 0]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a renewed root (same name and key) is preferred to its expired copy, whichever is listed first', async () => {
  const old = await makeRoot({
    subject: 'CN=Renewed Root',
    notBefore: daysFromNow(-400),
    notAfter: daysFromNow(-1),
  });
  const renewed = await makeRoot({ subject: 'CN=Renewed Root', keyPair: old.keyPair });
  const inter = await makeIntermediate(renewed);
  const leaf = await makeLeaf('client', inter);
  for (const roots of [
    [old.cert, renewed.cert],
    [renewed.cert, old.cert],
  ]) {
    const result = await verify(request({ root: renewed, inter, leaf }, { trust: { roots } }));
    assert.is(result.ok, true, JSON.stringify(result.failures));
    assert.is(result.chain.at(-1)?.thumbprint, renewed.cert.thumbprint);
  }
});

test.run();
