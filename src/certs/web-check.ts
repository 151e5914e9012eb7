import { rootCertificates } from 'node:tls';
import { Certificate, type CertificateInfo } from './certificate.js';
import type { Crl } from './crl.js';
import { spkiOfPrivateKey } from './keys.js';
import { parsePem } from './pem.js';
import { type ChainLink, VerifyCode, verifyChain } from './verify.js';

/** The web service certificate rules of the contract, one line each in `cmg certs web check`. */
export const WEB_CHECKS = [
  'name',
  'eku',
  'key',
  'signature',
  'validity',
  'chain',
  'trust',
  'revocation',
  'privateKey',
] as const;
export type WebCheckName = (typeof WEB_CHECKS)[number];

const CHECK_OF_CODE: Record<string, WebCheckName> = {
  [VerifyCode.nameMismatch]: 'name',
  [VerifyCode.wildcard]: 'name',
  [VerifyCode.wrongEku]: 'eku',
  [VerifyCode.keyTooSmall]: 'key',
  [VerifyCode.keyUnsupported]: 'key',
  [VerifyCode.weakSignature]: 'signature',
  [VerifyCode.expired]: 'validity',
  [VerifyCode.notYetValid]: 'validity',
  [VerifyCode.missingIntermediate]: 'trust',
  [VerifyCode.untrustedRoot]: 'trust',
  [VerifyCode.badSignature]: 'trust',
  [VerifyCode.notACA]: 'trust',
  [VerifyCode.revoked]: 'revocation',
  [VerifyCode.crlUnavailable]: 'revocation',
  [VerifyCode.crlExpired]: 'revocation',
  [VerifyCode.nameConstraints]: 'name',
  [VerifyCode.keyUsage]: 'eku',
};

export interface WebCheckRequest {
  /** The file's certificates (the web certificate and, ideally, its chain). */
  certificates: Certificate[];
  /** The file's private key (PEM of any form, or PKCS#8 DER from a PFX), when it holds one. */
  keyDer?: Buffer | undefined;
  /** True when the file is a PFX: the gateway then needs the key from it. */
  keyExpected?: boolean;
  serviceName: string;
  allowWildcard?: boolean;
  /** Trusted roots; the system's (Node's Mozilla bundle) when absent, as for a public CA certificate. */
  roots?: Certificate[];
  crls?: Crl[];
  requireCrl?: boolean;
  at?: Date;
}

export interface WebCheckLine {
  check: WebCheckName;
  ok: boolean;
  problems: { code: string; message: string; depth: number; subject: string }[];
}

export interface WebCheckResult {
  ok: boolean;
  serviceName: string;
  certificate: CertificateInfo;
  checks: WebCheckLine[];
  chain: ChainLink[];
}

let systemRoots: Certificate[] | undefined;
export function systemTrustedRoots(): Certificate[] {
  systemRoots ??= rootCertificates.flatMap((pem) => parsePem(pem).map((b) => Certificate.fromDer(b.der)));
  return systemRoots;
}

/** The certificate a file is about: the one matching its key, else the first that is not a CA, else the first. */
export function pickLeaf(certificates: Certificate[], key?: Buffer): Certificate | undefined {
  if (key) {
    const spki = spkiOfPrivateKey(key);
    const match = certificates.find((c) => c.spki.equals(spki));
    if (match) return match;
  }
  return certificates.find((c) => !c.isCA) ?? certificates[0];
}

/** Checks a web service certificate file against the contract's rules; every rule is reported. */
export async function checkWebCertificate(req: WebCheckRequest): Promise<WebCheckResult> {
  const leaf = pickLeaf(req.certificates, req.keyDer);
  if (!leaf) throw new RangeError('no certificate to check');
  const rest = req.certificates.filter((c) => c !== leaf);
  const result = await verifyChain({
    leaf,
    presented: rest,
    trust: { roots: req.roots ?? systemTrustedRoots(), crls: req.crls ?? [] },
    purpose: 'server',
    serviceName: req.serviceName,
    allowWildcard: req.allowWildcard ?? false,
    requireCrl: req.requireCrl ?? false,
    at: req.at ?? new Date(),
  });
  const lines = new Map<WebCheckName, WebCheckLine>(
    WEB_CHECKS.map((check) => [check, { check, ok: true, problems: [] }]),
  );
  const add = (check: WebCheckName, p: WebCheckLine['problems'][number]) => {
    const line = lines.get(check) as WebCheckLine;
    line.ok = false;
    line.problems.push(p);
  };
  for (const f of result.failures) add(CHECK_OF_CODE[f.code] ?? 'trust', f);

  // The gateway sends the chain it has: every intermediate between the certificate and the root the
  // clients trust must be in the file. The chain is built from the file and the roots alone, so an
  // intermediate that is not in the file shows up as a missing one.
  if (result.failures.some((f) => f.code === VerifyCode.missingIntermediate)) {
    add('chain', {
      code: 'CMG_WEB_CHAIN_NOT_IN_FILE',
      message:
        'the file lacks an intermediate certificate of the chain; include them (PFX: "Include all certificates in the certification path")',
      depth: 0,
      subject: leaf.subject,
    });
  }
  if (req.keyDer) {
    if (!leaf.spki.equals(spkiOfPrivateKey(req.keyDer))) {
      add('privateKey', {
        code: 'CMG_WEB_KEY_MISMATCH',
        message: 'the private key in the file does not belong to the certificate',
        depth: 0,
        subject: leaf.subject,
      });
    }
  } else if (req.keyExpected) {
    add('privateKey', {
      code: 'CMG_WEB_KEY_MISSING',
      message: 'the PFX holds no private key; export it with "Yes, export the private key"',
      depth: 0,
      subject: leaf.subject,
    });
  }
  const checks = [...lines.values()];
  return {
    ok: checks.every((c) => c.ok),
    serviceName: req.serviceName,
    certificate: leaf.describe(),
    checks,
    chain: result.chain,
  };
}
