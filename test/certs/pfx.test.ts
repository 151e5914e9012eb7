/**
 * PFX (PKCS#12) written and read by cmg: round trips for RSA and EC keys, certificate order, and the
 * codes of a wrong passphrase, a non-ASCII passphrase and a file that is not a PFX.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { importPrivateKey, type KeyType, privateKeyDer, publicKeyDer } from '../../src/certs/keys.js';
import { looksLikePfx, readPfx, writePfx } from '../../src/certs/pfx.js';
import { type Chain, failsWith, makeChain, succeeds } from '../helpers/pki.js';

const PASS = 'correct horse battery staple';

async function pfxOf(chain: Chain, passphrase = PASS, certificates = [chain.leaf, chain.inter, chain.root]) {
  const keyDer = await privateKeyDer(chain.leaf.keyPair.privateKey);
  const pfx = await succeeds(() =>
    writePfx({
      keyDer,
      certificates: certificates.map((c) => c.cert.der),
      passphrase,
      friendlyName: 'cmg test',
    }),
  );
  return { pfx, keyDer };
}

for (const keyType of ['rsa2048', 'p256', 'p384'] as const satisfies KeyType[]) {
  test(`round trip (${keyType}): the same key bytes and certificate bytes come back`, async () => {
    const chain = await makeChain({ keyType });
    const { pfx, keyDer } = await pfxOf(chain);
    assert.ok(looksLikePfx(pfx));
    const back = await succeeds(() => readPfx(pfx, PASS));
    assert.ok(back.keyDer, 'a key');
    const key = await succeeds(() => importPrivateKey(back.keyDer!));
    assert.is(key.type, keyType);
    assert.equal(
      await publicKeyDer(key.publicKey),
      await publicKeyDer(chain.leaf.keyPair.publicKey),
      'the same key',
    );
    assert.equal(back.keyDer, keyDer, 'the same PKCS#8 bytes');
    assert.equal(back.certificates, [chain.leaf.cert.der, chain.inter.cert.der, chain.root.cert.der]);
  });
}

test('a chain of three certificates keeps the order it was written in, whatever that order', async () => {
  const chain = await makeChain();
  for (const order of [
    [chain.leaf, chain.inter, chain.root],
    [chain.leaf, chain.root, chain.inter],
  ]) {
    const { pfx } = await pfxOf(chain, PASS, order);
    const back = await succeeds(() => readPfx(pfx, PASS));
    assert.equal(
      back.certificates.map((der) => der.toString('hex')),
      order.map((c) => c.cert.der.toString('hex')),
    );
  }
});

test('passphrases of any printable ASCII, including an empty one, round trip', async () => {
  const chain = await makeChain();
  for (const passphrase of ['', ' ', 'p@ss w0rd!"#$%&\'()*+,-./:;<=>?[\\]^_`{|}~']) {
    const { pfx } = await pfxOf(chain, passphrase);
    const back = await succeeds(() => readPfx(pfx, passphrase));
    assert.is(back.certificates.length, 3, JSON.stringify(passphrase));
    await failsWith(() => readPfx(pfx, `${passphrase}x`), 'CMG_PFX_BAD_PASSPHRASE');
  }
});

test('a wrong passphrase is CMG_PFX_BAD_PASSPHRASE', async () => {
  const { pfx } = await pfxOf(await makeChain());
  const err = await failsWith(() => readPfx(pfx, 'not the passphrase', 'web.pfx'), 'CMG_PFX_BAD_PASSPHRASE');
  assert.match(err.message, 'web.pfx');
});

test('a passphrase outside printable ASCII is CMG_PFX_PASSPHRASE_NOT_ASCII, writing and reading', async () => {
  const chain = await makeChain();
  const { pfx, keyDer } = await pfxOf(chain);
  for (const passphrase of ['pässword', '密码', 'tab\there', 'line\n', 'emoji 🔑']) {
    await failsWith(
      () => writePfx({ keyDer, certificates: [chain.leaf.cert.der], passphrase }),
      'CMG_PFX_PASSPHRASE_NOT_ASCII',
    );
    await failsWith(() => readPfx(pfx, passphrase), 'CMG_PFX_PASSPHRASE_NOT_ASCII');
  }
});

test('what is not a PFX, or a truncated one, is CMG_PFX_UNREADABLE', async () => {
  const chain = await makeChain();
  const { pfx } = await pfxOf(chain);
  assert.not.ok(looksLikePfx(chain.leaf.cert.der));
  for (const bad of [pfx.subarray(0, pfx.length - 40), chain.leaf.cert.der, Buffer.from('not a pfx')]) {
    await failsWith(() => readPfx(bad, PASS), 'CMG_PFX_UNREADABLE');
  }
});

test.run();
