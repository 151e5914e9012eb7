import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { isDnsName } from '../names.js';
import { Certificate, EKU } from './certificate.js';
import { CertUsageError } from './errors.js';
import { type KeyPair, type KeyType, keyForHash, type SignatureHash, signingAlgorithm } from './keys.js';
/** What a certificate is for; each profile fixes its extensions. */
import type { Profile } from './names.js';
import { type CryptoKey, x509 } from './x509.js';

export { PROFILES, type Profile } from './names.js';

export interface Issuer {
  cert: Certificate;
  key: CryptoKey;
  keyType: KeyType;
}

export interface IssueRequest {
  profile: Profile;
  /** Distinguished name, `CN=cp01, O=Contoso`. */
  subject: string;
  keyPair: KeyPair;
  /** Absent: self-signed (a root, or a management certificate). */
  issuer?: Issuer;
  notBefore?: Date;
  notAfter?: Date;
  /** Validity in days from notBefore, when notAfter is not given. */
  days?: number;
  dns?: string[];
  ips?: string[];
  uris?: string[];
  crlUrls?: string[];
  /** CA path length constraint. */
  pathLength?: number;
  /** Only for tests that need a weak certificate to refuse. */
  signatureHash?: SignatureHash;
}

/** Checks a distinguished name parses to at least one attribute; @peculiar reads "not a dn" as an empty name. */
export function checkSubject(subject: string): string {
  let attributes = 0;
  try {
    attributes = new x509.Name(subject).toJSON().length;
  } catch {
    attributes = 0;
  }
  if (attributes === 0 || !/^\s*[A-Za-z][A-Za-z0-9.]*\s*=/.test(subject)) {
    throw new CertUsageError('CMG_CERT_BAD_SUBJECT', `not a distinguished name: ${JSON.stringify(subject)}`, {
      hint: 'Write it as attribute=value pairs, such as "CN=Contoso Root, O=Contoso".',
    });
  }
  return subject;
}

/** 16 random bytes, positive (high bit clear), as RFC 5280 and the CA/B forum ask. */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f || 0x01;
  return bytes.toString('hex').toUpperCase();
}

function keyUsages(profile: Profile, keyType: KeyType): x509.KeyUsageFlags {
  const F = x509.KeyUsageFlags;
  if (profile === 'root-ca' || profile === 'sub-ca') return F.keyCertSign | F.cRLSign | F.digitalSignature;
  // RSA key exchange needs keyEncipherment; ECDSA keys only sign.
  return keyType.startsWith('rsa') ? F.digitalSignature | F.keyEncipherment : F.digitalSignature;
}

const PROFILE_EKUS: Record<Profile, string[] | undefined> = {
  'root-ca': undefined,
  'sub-ca': undefined,
  client: [EKU.clientAuth],
  server: [EKU.serverAuth],
  'connection-point': [EKU.clientAuth],
  management: [EKU.clientAuth],
};

/** Issues a certificate with the extensions of its profile. */
export async function issueCertificate(req: IssueRequest): Promise<Certificate> {
  checkSubject(req.subject);
  const isCA = req.profile === 'root-ca' || req.profile === 'sub-ca';
  // Back-date a little: a clock a minute behind on another machine must not find it "not yet valid".
  const notBefore = req.notBefore ?? new Date(Date.now() - 5 * 60_000);
  const notAfter =
    req.notAfter ?? new Date(notBefore.getTime() + (req.days ?? (isCA ? 3650 : 365)) * 86_400_000);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(isCA, isCA ? req.pathLength : undefined, true),
    new x509.KeyUsagesExtension(keyUsages(req.profile, req.keyPair.type), true),
    await x509.SubjectKeyIdentifierExtension.create(req.keyPair.publicKey),
  ];
  const ekus = PROFILE_EKUS[req.profile];
  if (ekus) extensions.push(new x509.ExtendedKeyUsageExtension(ekus));
  if (req.issuer) {
    const ski = req.issuer.cert.x509.getExtension(x509.SubjectKeyIdentifierExtension);
    extensions.push(
      ski
        ? new x509.AuthorityKeyIdentifierExtension(ski.keyId)
        : await x509.AuthorityKeyIdentifierExtension.create(req.issuer.cert.x509),
    );
  }
  const names: x509.JsonGeneralName[] = [
    ...(req.dns ?? []).map((value) => {
      if (!isDnsName(value, { wildcard: true })) {
        throw new CertUsageError(
          'CMG_USAGE',
          `not a DNS name: ${JSON.stringify(value)} (a wildcard may only be the first label)`,
        );
      }
      return { type: 'dns' as const, value };
    }),
    ...(req.ips ?? []).map((value) => {
      if (isIP(value) === 0)
        throw new CertUsageError('CMG_USAGE', `not an IP address: ${JSON.stringify(value)}`);
      return { type: 'ip' as const, value };
    }),
    ...(req.uris ?? []).map((value) => ({ type: 'url' as const, value })),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  if (req.crlUrls && req.crlUrls.length > 0)
    extensions.push(new x509.CRLDistributionPointsExtension(req.crlUrls));

  const signer = req.issuer ?? { key: req.keyPair.privateKey, keyType: req.keyPair.type };
  const signingKey = await keyForHash(signer.key, req.signatureHash);
  const common = {
    serialNumber: randomSerial(),
    notBefore,
    notAfter,
    extensions,
    signingAlgorithm: signingAlgorithm(
      signer.keyType,
      req.signatureHash,
    ) as x509.X509CertificateCreateParams['signingAlgorithm'],
  };
  const cert = req.issuer
    ? await x509.X509CertificateGenerator.create({
        ...common,
        subject: req.subject,
        issuer: req.issuer.cert.x509.subjectName, // the same encoding, byte for byte
        publicKey: req.keyPair.publicKey,
        signingKey,
      })
    : await x509.X509CertificateGenerator.createSelfSigned({
        ...common,
        name: req.subject,
        keys: { privateKey: signingKey, publicKey: req.keyPair.publicKey },
      });
  return Certificate.fromPeculiar(cert);
}
