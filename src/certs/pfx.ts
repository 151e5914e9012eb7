import { createHash, createHmac, randomBytes } from 'node:crypto';
import forge from 'node-forge';
import { CertError } from './errors.js';

/**
 * PKCS#12 (PFX) with node-forge, which reads what Windows and OpenSSL write,
 * including legacy files (3DES keys, RC2-40 certificates: the default of older
 * Windows exports) that OpenSSL 3 refuses without its legacy provider.
 *
 * forge parses RSA keys and RSA-signed certificates into its own objects and
 * leaves anything else (ECDSA) as raw ASN.1; both come out of here as DER, so
 * callers never see forge types. forge's writer only takes RSA keys, so PFX
 * files are assembled here from forge's primitives around raw PKCS#8 and
 * certificate DER: any key type, AES-256-CBC (PBES2, PBKDF2-HMAC-SHA256) for the
 * key, an HMAC-SHA256 integrity MAC, as OpenSSL 3 writes by default.
 */
export interface PfxContents {
  /** PKCS#8 DER of the private key, when the file holds one. */
  keyDer?: Buffer;
  /** Certificates in DER, in file order. */
  certificates: Buffer[];
}

const { asn1, pki, pkcs12 } = forge;
const BAG = {
  key: '1.2.840.113549.1.12.10.1.1',
  shroudedKey: '1.2.840.113549.1.12.10.1.2',
  cert: '1.2.840.113549.1.12.10.1.3',
};
const OID_LOCAL_KEY_ID = '1.2.840.113549.1.9.21';
const OID_FRIENDLY_NAME = '1.2.840.113549.1.9.20';
const OID_DATA = '1.2.840.113549.1.7.1';
const OID_X509_CERT = '1.2.840.113549.1.9.22.1';
const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
const MAC_ITERATIONS = 2048;
const KEY_ITERATIONS = 2048;

const toBuffer = (bytes: string) => Buffer.from(bytes, 'binary');
const derOf = (node: forge.asn1.Asn1) => toBuffer(asn1.toDer(node).getBytes());

export function looksLikePfx(der: Buffer): boolean {
  try {
    const root = asn1.fromDer(der.toString('binary'), false);
    const seq = root.value as forge.asn1.Asn1[];
    const version = seq[0];
    return (
      Array.isArray(seq) &&
      version?.type === asn1.Type.INTEGER &&
      asn1.derToInteger(version.value as string) === 3
    );
  } catch {
    return false;
  }
}

/**
 * PKCS#12 encodes a passphrase as UTF-16 for its MAC and legacy ciphers but as
 * raw bytes for PBES2 (AES), and forge uses one JS string for both: only ASCII
 * passphrases mean the same thing everywhere, so cmg asks for ASCII.
 */
export function checkPfxPassphrase(passphrase: string, source: string): void {
  if (!/^[\x20-\x7e]*$/.test(passphrase)) {
    throw new CertError(
      'CMG_PFX_PASSPHRASE_NOT_ASCII',
      `the passphrase for ${source} has characters outside printable ASCII`,
      {
        hint: 'Use a passphrase of printable ASCII characters (Windows, OpenSSL and cmg encode others differently).',
      },
    );
  }
}

/** Reads a PFX. A wrong passphrase or a corrupt file is a CertError that says which. */
export function readPfx(der: Buffer, passphrase: string, source = 'the PFX file'): PfxContents {
  checkPfxPassphrase(passphrase, source);
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = pkcs12.pkcs12FromAsn1(asn1.fromDer(der.toString('binary'), false), false, passphrase);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const wrongPassword = /MAC could not be verified|Invalid password|decrypt/i.test(message);
    throw new CertError(
      wrongPassword ? 'CMG_PFX_BAD_PASSPHRASE' : 'CMG_PFX_UNREADABLE',
      wrongPassword ? `wrong passphrase for ${source}` : `${source} is not a readable PFX (${message})`,
      {
        cause: err,
        hint: wrongPassword
          ? 'Check the passphrase source (--passphrase-env or --passphrase-file).'
          : undefined,
      },
    );
  }
  const contents: PfxContents = { certificates: [] };
  for (const safe of p12.safeContents) {
    for (const bag of safe.safeBags) {
      if (bag.type === BAG.cert) {
        if (bag.cert) contents.certificates.push(derOf(pki.certificateToAsn1(bag.cert)));
        else if (bag.asn1) contents.certificates.push(derOf(bag.asn1));
      } else if (bag.type === BAG.key || bag.type === BAG.shroudedKey) {
        if (contents.keyDer) {
          throw new CertError(
            'CMG_PFX_SEVERAL_KEYS',
            `${source} holds more than one private key; cmg expects one`,
          );
        }
        if (bag.key)
          contents.keyDer = derOf(
            pki.wrapRsaPrivateKey(pki.privateKeyToAsn1(bag.key as forge.pki.rsa.PrivateKey)),
          );
        else if (bag.asn1) contents.keyDer = derOf(bag.asn1);
      }
    }
  }
  return contents;
}

function contentInfoData(content: Buffer): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(OID_DATA).getBytes()),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, content.toString('binary')),
    ]),
  ]);
}

function bagAttributes(localKeyId: Buffer, friendlyName?: string): forge.asn1.Asn1 {
  const attrs = [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(OID_LOCAL_KEY_ID).getBytes()),
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, [
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, localKeyId.toString('binary')),
      ]),
    ]),
  ];
  if (friendlyName) {
    attrs.push(
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(OID_FRIENDLY_NAME).getBytes()),
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, [
          // forge's encoder turns a BMPString's JS string into UTF-16BE itself.
          asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BMPSTRING, false, friendlyName),
        ]),
      ]),
    );
  }
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, attrs);
}

function safeBag(type: string, value: forge.asn1.Asn1, attributes?: forge.asn1.Asn1): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(type).getBytes()),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [value]),
    ...(attributes ? [attributes] : []),
  ]);
}

export interface WritePfxRequest {
  keyDer: Buffer;
  /** Leaf first, then its chain. */
  certificates: Buffer[];
  passphrase: string;
  friendlyName?: string;
}

/** Writes a PFX that Windows, OpenSSL and Azure Key Vault import. */
export function writePfx(req: WritePfxRequest): Buffer {
  checkPfxPassphrase(req.passphrase, 'the new PFX file');
  const leaf = req.certificates[0];
  const localKeyId = leaf ? createHash('sha1').update(leaf).digest() : randomBytes(20);

  const keyInfo = asn1.fromDer(req.keyDer.toString('binary'));
  const encryptedKey = pki.encryptPrivateKeyInfo(keyInfo, req.passphrase, {
    algorithm: 'aes256',
    count: KEY_ITERATIONS,
    prfAlgorithm: 'sha256',
  } as forge.pki.EncryptionOptions & { prfAlgorithm: string });
  const keySafe = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    safeBag(BAG.shroudedKey, encryptedKey, bagAttributes(localKeyId, req.friendlyName)),
  ]);
  // Certificates are public: they go in a plain data safe, as forge and many tools write them.
  const certSafe = asn1.create(
    asn1.Class.UNIVERSAL,
    asn1.Type.SEQUENCE,
    true,
    req.certificates.map((der, i) =>
      safeBag(
        BAG.cert,
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
          asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(OID_X509_CERT).getBytes()),
          asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
            asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, der.toString('binary')),
          ]),
        ]),
        i === 0 ? bagAttributes(localKeyId, req.friendlyName) : undefined,
      ),
    ),
  );
  const authSafe = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    contentInfoData(derOf(certSafe)),
    contentInfoData(derOf(keySafe)),
  ]);
  const authSafeDer = derOf(authSafe);

  // Integrity: HMAC-SHA256 keyed by the PKCS#12 key derivation (RFC 7292 appendix B, ID 3).
  const macSalt = randomBytes(16);
  const macKey = toBuffer(
    pkcs12
      .generateKey(
        req.passphrase,
        forge.util.createBuffer(macSalt.toString('binary')),
        3,
        MAC_ITERATIONS,
        32,
        forge.md.sha256.create(),
      )
      .getBytes(),
  );
  const mac = createHmac('sha256', macKey).update(authSafeDer).digest();
  const macData = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(OID_SHA256).getBytes()),
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
      ]),
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, mac.toString('binary')),
    ]),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, macSalt.toString('binary')),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(MAC_ITERATIONS).getBytes()),
  ]);
  const pfx = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(3).getBytes()),
    contentInfoData(authSafeDer),
    macData,
  ]);
  return derOf(pfx);
}
