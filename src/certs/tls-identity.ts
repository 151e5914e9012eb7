import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { TlsMaterial } from '../config/schema-parts.js';
import type { Certificate } from './certificate.js';
import { CertUsageError } from './errors.js';
import { readBundle, readInputFile } from './read.js';
import { pickLeaf } from './web-check.js';

/** A daemon's own certificate for TLS: the leaf, the chain to send after it, and its key. */
export interface TlsIdentity {
  leaf: Certificate;
  /** The leaf first, then the other certificates of the file (intermediates), as TLS sends them. */
  chain: Certificate[];
  key: KeyObject;
}

function keyObjectOf(data: Buffer, source: string): KeyObject {
  try {
    if (data.includes('-----BEGIN')) return createPrivateKey(data);
    try {
      return createPrivateKey({ key: data, format: 'der', type: 'pkcs8' });
    } catch {
      return createPrivateKey({ key: data, format: 'der', type: 'pkcs1' });
    }
  } catch (err) {
    throw new CertUsageError('CMG_CERT_KEY_UNREADABLE', `${source} holds no private key cmg can read`, {
      hint: 'Give an unencrypted PEM key (PKCS#8, PKCS#1 or SEC1), or a PFX with its key.',
      cause: err,
    });
  }
}

/**
 * Reads a daemon's `tls` material (PEM pair, or PFX with its passphrase from
 * the environment) and checks that the key belongs to the certificate, so a
 * mismatch is a clear error at start, not a TLS failure at the first client.
 */
export async function loadTlsIdentity(
  tls: TlsMaterial,
  env: NodeJS.ProcessEnv = process.env,
): Promise<TlsIdentity> {
  const certFile = tls.kind === 'pem' ? tls.certFile : tls.pfxFile;
  const bundle = await readBundle(certFile, async () =>
    tls.kind === 'pfx' && tls.passphraseEnv ? (env[tls.passphraseEnv] ?? '') : '',
  );
  const keySource = tls.kind === 'pem' ? tls.keyFile : certFile;
  const keyData = tls.kind === 'pem' ? readInputFile(tls.keyFile) : bundle.key;
  if (!keyData) {
    throw new CertUsageError('CMG_CERT_KEY_NOT_FOUND', `${certFile} holds no private key`, {
      hint: 'Export the PFX with its private key.',
    });
  }
  const key = keyObjectOf(keyData, keySource);
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  const leaf = pickLeaf(bundle.certificates);
  const own = bundle.certificates.find((c) => c.spki.equals(spki));
  if (!leaf || !own) {
    throw new CertUsageError(
      'CMG_CERT_KEY_MISMATCH',
      leaf
        ? `the private key ${keySource} does not belong to any certificate in ${certFile}`
        : `${certFile} holds no certificate`,
      { hint: 'Give the certificate and the key that were issued together.' },
    );
  }
  return { leaf: own, chain: [own, ...bundle.certificates.filter((c) => c !== own)], key };
}

/** The identity as `tls.createSecureContext` options. */
export function secureContextOf(identity: TlsIdentity): { cert: string; key: string } {
  return {
    cert: identity.chain.map((c) => c.toPem()).join(''),
    key: identity.key.export({ format: 'pem', type: 'pkcs8' }) as string,
  };
}
