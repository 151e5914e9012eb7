/**
 * verifyChain: a good chain passes, and every refusal reason is reported with its exact code at the
 * depth of the certificate at fault (0 the leaf, 1 its issuer, ...), and nothing else.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EKU } from '../../src/certs/certificate.js';
import { connectionPointUri } from '../../src/certs/identity.js';
import { VerifyCode, type VerifyRequest, type VerifyResult, verifyChain } from '../../src/certs/verify.js';
import { x509 } from '../../src/certs/x509.js';
import {
  type Chain,
  CP_ID,
  craftCertificate,
  daysFromNow,
  ecKeyPair,
  makeChain,
  makeCrl,
  makeIntermediate,
  makeLeaf,
  makeRoot,
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
    expect: [[C.notACA, 1]],
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

test.run();
