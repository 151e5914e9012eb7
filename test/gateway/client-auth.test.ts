import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EKU } from '../../src/certs/certificate.js';
import { ClientAuthenticator } from '../../src/gateway/client-auth.js';
import { craftCertificate, daysFromNow, makeChain, makeCrl, makeLeaf } from '../helpers/pki.js';

test('a valid client chain is admitted; the certificate is what gets forwarded', async () => {
  const chain = await makeChain();
  const auth = new ClientAuthenticator({
    trust: { roots: [chain.root.cert] },
    requireCrl: false,
    cacheMs: 60_000,
  });
  const r = await auth.check([chain.leaf.cert, chain.inter.cert]);
  assert.equal(r.ok && r.certificate.thumbprint, chain.leaf.cert.thumbprint);
});

test('no certificate: 403 ClientCertificateRequired; a bad one: 403 ClientCertificateInvalid with the reason code', async () => {
  const chain = await makeChain();
  const auth = new ClientAuthenticator({
    trust: { roots: [chain.root.cert] },
    requireCrl: false,
    cacheMs: 60_000,
  });
  const none = await auth.check([]);
  assert.is(!none.ok && none.refused, 'clientCertificateRequired');
  const server = await makeLeaf('server', chain.inter);
  const wrong = await auth.check([server.cert, chain.inter.cert]);
  assert.is(!wrong.ok && wrong.refused, 'clientCertificateInvalid');
  assert.is(!wrong.ok && wrong.code, 'CMG_CERT_WRONG_EKU');
  const stranger = await makeChain();
  const untrusted = await auth.check([stranger.leaf.cert, stranger.inter.cert, stranger.root.cert]);
  assert.is(!untrusted.ok && untrusted.code, 'CMG_CERT_UNTRUSTED_ROOT');
});

test('revocation with CRL checking on, and a verdict that is re-made once the cache time has passed', async () => {
  const chain = await makeChain();
  let now = Date.now();
  const crls = [await makeCrl(chain.inter, { revoked: [chain.leaf] }), await makeCrl(chain.root)];
  const auth = new ClientAuthenticator({
    trust: { roots: [chain.root.cert], crls },
    requireCrl: true,
    cacheMs: 1000,
    now: () => now,
  });
  const revoked = await auth.check([chain.leaf.cert, chain.inter.cert]);
  assert.is(!revoked.ok && revoked.code, 'CMG_CERT_REVOKED');
  // A certificate that expires between two checks is refused once the cached verdict is stale.
  const shortLived = await craftCertificate({
    subject: 'CN=short',
    issuer: chain.inter,
    ca: false,
    ekus: [EKU.clientAuth],
    notAfter: new Date(now + 1500),
  });
  const noCrl = new ClientAuthenticator({
    trust: { roots: [chain.root.cert] },
    requireCrl: false,
    cacheMs: 1000,
    now: () => now,
  });
  assert.is((await noCrl.check([shortLived.cert, chain.inter.cert])).ok, true);
  now += 500;
  assert.is((await noCrl.check([shortLived.cert, chain.inter.cert])).ok, true, 'cached');
  now = daysFromNow(1).getTime();
  const later = await noCrl.check([shortLived.cert, chain.inter.cert]);
  assert.is(!later.ok && later.code, 'CMG_CERT_EXPIRED');
});

test.run();
