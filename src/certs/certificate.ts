import { createHash, X509Certificate as NativeCertificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate as AsnCertificate } from '@peculiar/asn1-x509';
import { normalizeSerial } from './crl.js';
import { CertError } from './errors.js';
import type { SignatureHash } from './keys.js';
import { toPem } from './pem.js';
import { x509 } from './x509.js';

export const EKU = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  anyExtendedKeyUsage: '2.5.29.37.0',
} as const;
const EKU_NAMES = new Map<string, string>(Object.entries(EKU).map(([name, oid]) => [oid, name]));

const SIGNATURES: Record<string, { name: string; hash: SignatureHash | 'MD5' | 'unknown' }> = {
  '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', hash: 'MD5' },
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', hash: 'SHA-1' },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', hash: 'SHA-256' },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', hash: 'SHA-384' },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', hash: 'SHA-512' },
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', hash: 'SHA-1' },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', hash: 'SHA-256' },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', hash: 'SHA-384' },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', hash: 'SHA-512' },
};

export interface KeyInfo {
  algorithm: string;
  bits?: number;
  curve?: string;
}

export interface SubjectAltNames {
  dns: string[];
  uri: string[];
  ip: string[];
  email: string[];
}

/** What `cmg certs inspect --json` prints for a certificate. */
export interface CertificateInfo {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  thumbprint: string;
  sha256Fingerprint: string;
  key: KeyInfo;
  signatureAlgorithm: string;
  extendedKeyUsages: { oid: string; name?: string }[];
  keyUsages: string[];
  subjectAltNames: SubjectAltNames;
  isCA: boolean;
  pathLength?: number;
  selfSigned: boolean;
  crlDistributionPoints: string[];
}

const CURVE_NAMES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

const KEY_USAGE_NAMES: [number, string][] = [
  [x509.KeyUsageFlags.digitalSignature, 'digitalSignature'],
  [x509.KeyUsageFlags.nonRepudiation, 'nonRepudiation'],
  [x509.KeyUsageFlags.keyEncipherment, 'keyEncipherment'],
  [x509.KeyUsageFlags.dataEncipherment, 'dataEncipherment'],
  [x509.KeyUsageFlags.keyAgreement, 'keyAgreement'],
  [x509.KeyUsageFlags.keyCertSign, 'keyCertSign'],
  [x509.KeyUsageFlags.cRLSign, 'cRLSign'],
  [x509.KeyUsageFlags.encipherOnly, 'encipherOnly'],
  [x509.KeyUsageFlags.decipherOnly, 'decipherOnly'],
];

/**
 * One X.509 certificate. Node's native X509Certificate (OpenSSL) answers
 * fingerprints, key details, issuer matching and signatures, which is fast
 * enough for the gateway's handshake path; @peculiar/x509 reads the extensions
 * Node does not expose (CRL distribution points, typed alternative names).
 */
export class Certificate {
  readonly native: NativeCertificate;
  private parsed: x509.X509Certificate | undefined;
  private sha1: string | undefined;
  private sha256: string | undefined;

  private constructor(readonly der: Buffer) {
    this.native = new NativeCertificate(der);
  }

  static fromDer(der: Buffer | Uint8Array, source = 'certificate'): Certificate {
    try {
      const cert = new Certificate(Buffer.from(der));
      // Both parsers read lazily: a malformed extension would otherwise throw later, deep in a
      // verification, from a certificate any TLS peer can present. Read everything now.
      cert.describe();
      cert.names(cert);
      return cert;
    } catch (err) {
      throw new CertError('CMG_CERT_UNREADABLE', `${source} is not a valid X.509 certificate`, {
        cause: err,
      });
    }
  }

  static fromPeculiar(cert: x509.X509Certificate): Certificate {
    const c = new Certificate(Buffer.from(cert.rawData));
    c.parsed = cert;
    return c;
  }

  /** The @peculiar/x509 view, parsed on first use. */
  get x509(): x509.X509Certificate {
    this.parsed ??= new x509.X509Certificate(this.der);
    return this.parsed;
  }

  get subject(): string {
    return this.x509.subject;
  }

  get issuer(): string {
    return this.x509.issuer;
  }

  /**
   * Upper-case hex of the serial's DER bytes, without leading zero bytes: the
   * form CRL entries are compared in. (Node's own string writes a negative
   * serial as "-1234", which would never match its revocation entry.)
   */
  get serialNumber(): string {
    return normalizeSerial(this.x509.serialNumber);
  }

  get notBefore(): Date {
    return new Date(this.native.validFrom);
  }

  get notAfter(): Date {
    return new Date(this.native.validTo);
  }

  /** SHA-1 of the DER, upper-case hex without separators: the Windows "Thumbprint". */
  get thumbprint(): string {
    // Memoized (the DER never changes): the gateway reads it for every request on a connection.
    this.sha1 ??= createHash('sha1').update(this.der).digest('hex').toUpperCase();
    return this.sha1;
  }

  get sha256Fingerprint(): string {
    this.sha256 ??= createHash('sha256').update(this.der).digest('hex').toUpperCase();
    return this.sha256;
  }

  /** The public key as SubjectPublicKeyInfo DER: what a private key is matched against. */
  get spki(): Buffer {
    return this.native.publicKey.export({ format: 'der', type: 'spki' });
  }

  get isCA(): boolean {
    return this.native.ca;
  }

  get pathLength(): number | undefined {
    return this.x509.getExtension(x509.BasicConstraintsExtension)?.pathLength;
  }

  /** Its own issuer: same name, and its own key verifies its signature (whatever its key usage says). */
  get isSelfSigned(): boolean {
    return this.names(this) && this.native.verify(this.native.publicKey);
  }

  /**
   * True when `issuer` is the one this certificate names: its subject equals
   * this issuer name and, when both carry key identifiers, they agree. Unlike
   * OpenSSL's check_issued this ignores the issuer's key usage, so that an
   * issuer that is not a CA is found and reported as such, not as missing.
   */
  names(issuer: Certificate): boolean {
    if (this.native.issuer !== issuer.native.subject) return false;
    const aki = this.x509.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
    const ski = issuer.x509.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    return aki === undefined || ski === undefined || aki.toLowerCase() === ski.toLowerCase();
  }

  /** Extended key usage OIDs; undefined when the certificate has no EKU extension (any use). */
  get extendedKeyUsages(): string[] | undefined {
    const ext = this.x509.getExtension(x509.ExtendedKeyUsageExtension);
    return ext ? ext.usages.map(String) : undefined;
  }

  /** Key usage bits by name; undefined when the certificate has no key usage extension. */
  get keyUsages(): string[] | undefined {
    const ext = this.x509.getExtension(x509.KeyUsagesExtension);
    return ext
      ? KEY_USAGE_NAMES.filter(([bit]) => (ext.usages & bit) !== 0).map(([, name]) => name)
      : undefined;
  }

  get subjectAltNames(): SubjectAltNames {
    const out: SubjectAltNames = { dns: [], uri: [], ip: [], email: [] };
    const ext = this.x509.getExtension(x509.SubjectAlternativeNameExtension);
    for (const name of ext?.names.items ?? []) {
      if (name.type === 'dns') out.dns.push(name.value);
      else if (name.type === 'url') out.uri.push(name.value);
      else if (name.type === 'ip') out.ip.push(name.value);
      else if (name.type === 'email') out.email.push(name.value);
    }
    return out;
  }

  get crlDistributionPoints(): string[] {
    const ext = this.x509.getExtension(x509.CRLDistributionPointsExtension);
    const urls: string[] = [];
    for (const point of ext?.distributionPoints ?? []) {
      for (const name of point.distributionPoint?.fullName ?? []) {
        if (name.uniformResourceIdentifier) urls.push(name.uniformResourceIdentifier);
      }
    }
    return urls;
  }

  get key(): KeyInfo {
    const key = this.native.publicKey;
    const details = key.asymmetricKeyDetails ?? {};
    if (key.asymmetricKeyType === 'rsa') return { algorithm: 'RSA', bits: details.modulusLength ?? 0 };
    if (key.asymmetricKeyType === 'ec') {
      const curve = details.namedCurve ?? 'unknown';
      return { algorithm: 'EC', curve: CURVE_NAMES[curve] ?? curve };
    }
    return { algorithm: (key.asymmetricKeyType ?? 'unknown').toUpperCase() };
  }

  /** Read from the raw ASN.1, so that an algorithm @peculiar does not know (MD5) is still named. */
  get signatureAlgorithm(): { oid: string; name: string; hash: SignatureHash | 'MD5' | 'unknown' } {
    const oid = AsnConvert.parse(this.der, AsnCertificate).signatureAlgorithm.algorithm;
    const known = SIGNATURES[oid];
    if (known) return { oid, ...known };
    if (oid === '1.2.840.113549.1.1.10') {
      const hash = (this.x509.signatureAlgorithm as { hash?: { name?: string } }).hash?.name ?? 'unknown';
      return { oid, name: 'rsassaPss', hash: hash as SignatureHash };
    }
    return { oid, name: oid, hash: 'unknown' };
  }

  /** True when `issuer` is the one this certificate names and its key verifies this signature. */
  isIssuedBy(issuer: Certificate): boolean {
    return this.names(issuer) && this.native.verify(issuer.native.publicKey);
  }

  isValidAt(at: Date): boolean {
    return at >= this.notBefore && at <= this.notAfter;
  }

  toPem(): string {
    return toPem('CERTIFICATE', this.der);
  }

  describe(): CertificateInfo {
    const ekus = this.extendedKeyUsages ?? [];
    const pathLength = this.pathLength;
    return {
      subject: this.subject,
      issuer: this.issuer,
      serialNumber: this.serialNumber,
      notBefore: this.notBefore.toISOString(),
      notAfter: this.notAfter.toISOString(),
      thumbprint: this.thumbprint,
      sha256Fingerprint: this.sha256Fingerprint,
      key: this.key,
      signatureAlgorithm: this.signatureAlgorithm.name,
      extendedKeyUsages: ekus.map((oid) => {
        const name = EKU_NAMES.get(oid);
        return name ? { oid, name } : { oid };
      }),
      keyUsages: this.keyUsages ?? [],
      subjectAltNames: this.subjectAltNames,
      isCA: this.isCA,
      ...(pathLength === undefined ? {} : { pathLength }),
      selfSigned: this.isSelfSigned,
      crlDistributionPoints: this.crlDistributionPoints,
    };
  }
}
