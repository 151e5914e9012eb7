import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { CertError } from './errors.js';
import type { KeyType } from './names.js';
import { toPem } from './pem.js';
import {
  type CryptoKey,
  type CryptoKeyPair,
  type EcKeyGenParams,
  type RsaHashedKeyGenParams,
  type SigningAlgorithm,
  subtle,
} from './x509.js';

export { KEY_TYPES, type KeyType } from './names.js';

/** A key pair as WebCrypto keys (what @peculiar/x509 signs with) plus what it is. */
export interface KeyPair {
  type: KeyType;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

export type SignatureHash = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

const RSA_BITS: Record<string, number> = { rsa2048: 2048, rsa3072: 3072, rsa4096: 4096 };
const CURVES: Record<string, string> = { p256: 'P-256', p384: 'P-384' };

/** The signature algorithm a key signs with: SHA-256, or SHA-384 for P-384 (same strength as the curve). */
export function signingAlgorithm(type: KeyType, hash?: SignatureHash): SigningAlgorithm {
  const curve = CURVES[type];
  if (curve) return { name: 'ECDSA', hash: hash ?? (curve === 'P-384' ? 'SHA-384' : 'SHA-256') };
  return { name: 'RSASSA-PKCS1-v1_5', hash: hash ?? 'SHA-256' };
}

function generationParams(type: KeyType): RsaHashedKeyGenParams | EcKeyGenParams {
  const bits = RSA_BITS[type];
  if (bits) {
    return {
      name: 'RSASSA-PKCS1-v1_5',
      hash: 'SHA-256',
      modulusLength: bits,
      publicExponent: new Uint8Array([1, 0, 1]),
    };
  }
  return { name: 'ECDSA', namedCurve: CURVES[type] ?? 'P-256' };
}

/** Generates a key pair with Node's native crypto (through WebCrypto): RSA in milliseconds, not seconds. */
export async function generateKeyPair(type: KeyType): Promise<KeyPair> {
  const pair = (await subtle.generateKey(generationParams(type), true, ['sign', 'verify'])) as CryptoKeyPair;
  return { type, privateKey: pair.privateKey, publicKey: pair.publicKey };
}

/** The key type of a Node key object, or an error naming what is not supported. */
export function keyTypeOf(key: KeyObject): KeyType {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    const type = `rsa${details.modulusLength}`;
    if (type in RSA_BITS) return type as KeyType;
    throw new CertError(
      'CMG_CERT_KEY_UNSUPPORTED',
      `RSA keys of ${details.modulusLength} bits are not supported`,
      {
        hint: 'Use RSA 2048, 3072 or 4096, or ECDSA P-256 or P-384.',
      },
    );
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve =
      details.namedCurve === 'prime256v1' ? 'p256' : details.namedCurve === 'secp384r1' ? 'p384' : undefined;
    if (curve) return curve;
  }
  throw new CertError(
    'CMG_CERT_KEY_UNSUPPORTED',
    `${key.asymmetricKeyType} keys${details.namedCurve ? ` on curve ${details.namedCurve}` : ''} are not supported`,
    { hint: 'Use RSA 2048, 3072 or 4096, or ECDSA P-256 or P-384.' },
  );
}

/** DER keys carry no label: try PKCS#8, then SEC1 (EC), then PKCS#1 (RSA), as OpenSSL writes them. */
function privateKeyFromDer(der: Buffer): KeyObject {
  let first: unknown;
  for (const type of ['pkcs8', 'sec1', 'pkcs1'] as const) {
    try {
      return createPrivateKey({ key: der, format: 'der', type });
    } catch (err) {
      first ??= err;
    }
  }
  throw first;
}

/**
 * A WebCrypto RSA key signs with the hash it was imported with; to sign with
 * another (tests that need a SHA-1 certificate, SHA-384 on request), import it
 * again with that hash. ECDSA keys take the hash per signature and pass as they are.
 */
export async function keyForHash(key: CryptoKey, hash: SignatureHash | undefined): Promise<CryptoKey> {
  const alg = key.algorithm as { name: string; hash?: { name: string } };
  if (!hash || alg.name !== 'RSASSA-PKCS1-v1_5' || alg.hash?.name === hash) return key;
  const pkcs8 = await subtle.exportKey('pkcs8', key);
  return subtle.importKey('pkcs8', pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash }, true, ['sign']);
}

/**
 * Reads a private key in any form OpenSSL and Windows tools write unencrypted:
 * PKCS#8 PEM or DER, PKCS#1 ("RSA PRIVATE KEY"), SEC1 ("EC PRIVATE KEY").
 */
export async function importPrivateKey(data: Buffer | KeyObject, source = 'the key'): Promise<KeyPair> {
  let keyObject: KeyObject;
  try {
    if (!Buffer.isBuffer(data)) keyObject = data;
    else if (data.includes('-----BEGIN')) keyObject = createPrivateKey(data);
    else keyObject = privateKeyFromDer(data);
  } catch (err) {
    const encrypted = data instanceof Buffer && data.includes('ENCRYPTED');
    throw new CertError(
      'CMG_CERT_KEY_UNREADABLE',
      `${source} is not a private key cmg can read${encrypted ? ' (it is encrypted)' : ''}`,
      {
        cause: err,
        hint: encrypted
          ? 'Decrypt it first (openssl pkey -in KEY -out plain.key), or bring it in a PFX.'
          : 'Expected an unencrypted PKCS#8, PKCS#1 or SEC1 key, PEM or DER.',
      },
    );
  }
  const type = keyTypeOf(keyObject);
  const der = keyObject.export({ format: 'der', type: 'pkcs8' });
  const alg = type.startsWith('rsa')
    ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
    : { name: 'ECDSA', namedCurve: CURVES[type] };
  const privateKey = await subtle.importKey('pkcs8', der, alg, true, ['sign']);
  const spki = createPublicKey(keyObject).export({ format: 'der', type: 'spki' });
  const publicKey = await subtle.importKey('spki', spki, alg, true, ['verify']);
  return { type, privateKey, publicKey };
}

/** The public key (SPKI DER) of a private key given as PEM (any form) or PKCS#8 DER. */
export function spkiOfPrivateKey(data: Buffer): Buffer {
  try {
    const key = data.includes('-----BEGIN') ? createPrivateKey(data) : privateKeyFromDer(data);
    return createPublicKey(key).export({ format: 'der', type: 'spki' });
  } catch (err) {
    throw new CertError(
      'CMG_CERT_KEY_UNREADABLE',
      'the private key in the file cannot be read (corrupt or unsupported)',
      {
        cause: err,
      },
    );
  }
}

export async function privateKeyDer(key: CryptoKey): Promise<Buffer> {
  return Buffer.from(await subtle.exportKey('pkcs8', key));
}

/** PKCS#8 PEM, the form both OpenSSL and Node read. */
export async function privateKeyPem(key: CryptoKey): Promise<string> {
  return toPem('PRIVATE KEY', await privateKeyDer(key));
}

export async function publicKeyDer(key: CryptoKey): Promise<Buffer> {
  return Buffer.from(await subtle.exportKey('spki', key));
}
