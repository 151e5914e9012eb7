import type { KeyPair } from './keys.js';
import { signingAlgorithm } from './keys.js';
import { toPem } from './pem.js';
import { x509 } from './x509.js';

/** A PKCS#10 request for a public CA: the subject, and the DNS names in a SAN extension (what CAs issue from). */
export async function createCsr(req: { subject: string; keyPair: KeyPair; dns: string[] }): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: req.subject,
    keys: { privateKey: req.keyPair.privateKey, publicKey: req.keyPair.publicKey },
    signingAlgorithm: signingAlgorithm(
      req.keyPair.type,
    ) as x509.Pkcs10CertificateRequestCreateParams['signingAlgorithm'],
    extensions: [
      new x509.SubjectAlternativeNameExtension(req.dns.map((value) => ({ type: 'dns' as const, value }))),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ],
  });
  return toPem('CERTIFICATE REQUEST', Buffer.from(csr.rawData));
}
