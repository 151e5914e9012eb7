import { type Certificate, EKU } from './certificate.js';
import { ConstraintCode, constraintProblems } from './constraints.js';
import type { Crl } from './crl.js';
import { type ConnectionPointIdentity, connectionPointIdentity } from './identity.js';

import type { Purpose } from './names.js';

export { PURPOSES, type Purpose } from './names.js';

const PURPOSE_EKU: Record<Purpose, string> = {
  client: EKU.clientAuth,
  server: EKU.serverAuth,
  'connection-point': EKU.clientAuth,
};
const PURPOSE_EKU_NAME: Record<Purpose, string> = {
  client: 'Client Authentication (1.3.6.1.5.5.7.3.2)',
  server: 'Server Authentication (1.3.6.1.5.5.7.3.1)',
  'connection-point': 'Client Authentication (1.3.6.1.5.5.7.3.2)',
};

/** Stable reasons a chain is refused; scripts and the gateway's x-cmg-error match on these. */
export const VerifyCode = {
  untrustedRoot: 'CMG_CERT_UNTRUSTED_ROOT',
  missingIntermediate: 'CMG_CERT_MISSING_INTERMEDIATE',
  badSignature: 'CMG_CERT_BAD_SIGNATURE',
  notACA: 'CMG_CERT_ISSUER_NOT_CA',
  expired: 'CMG_CERT_EXPIRED',
  notYetValid: 'CMG_CERT_NOT_YET_VALID',
  wrongEku: 'CMG_CERT_WRONG_EKU',
  revoked: 'CMG_CERT_REVOKED',
  crlUnavailable: 'CMG_CERT_CRL_UNAVAILABLE',
  crlExpired: 'CMG_CERT_CRL_EXPIRED',
  nameMismatch: 'CMG_CERT_NAME_MISMATCH',
  wildcard: 'CMG_CERT_WILDCARD',
  keyTooSmall: 'CMG_CERT_KEY_TOO_SMALL',
  keyUnsupported: 'CMG_CERT_KEY_UNSUPPORTED',
  weakSignature: 'CMG_CERT_WEAK_SIGNATURE',
  noIdentity: 'CMG_CERT_NO_CONNECTION_POINT_ID',
  siteMismatch: 'CMG_CERT_SITE_MISMATCH',
  chainTooLong: 'CMG_CERT_CHAIN_TOO_LONG',
  ...ConstraintCode,
} as const;

export interface TrustStore {
  roots: Certificate[];
  intermediates?: Certificate[];
  crls?: Crl[];
}

export interface VerifyRequest {
  leaf: Certificate;
  /** Certificates sent with the leaf (a TLS peer's chain, the rest of a file): candidates, never anchors. */
  presented?: Certificate[];
  trust: TrustStore;
  purpose: Purpose;
  /** Every issuer in the chain must have a current CRL, not only those that happen to be given. */
  requireCrl?: boolean;
  /** Server purpose: the name the certificate must carry. */
  serviceName?: string;
  allowWildcard?: boolean;
  /** Connection point purpose: the site its identity must name. */
  site?: string;
  at?: Date;
}

export interface ChainLink {
  depth: number;
  subject: string;
  issuer: string;
  serialNumber: string;
  thumbprint: string;
  notBefore: string;
  notAfter: string;
  trustedRoot: boolean;
}

export interface VerifyFailure {
  code: string;
  message: string;
  /** 0 is the certificate checked, 1 its issuer, and so on. */
  depth: number;
  subject: string;
}

export interface VerifyResult {
  ok: boolean;
  purpose: Purpose;
  chain: ChainLink[];
  failures: VerifyFailure[];
  identity?: ConnectionPointIdentity;
}

const MIN_RSA_BITS = 2048;
const WEB_CURVES = new Set(['P-256', 'P-384']);
/** Signature hashes accepted: SHA-256 or stronger (SHA-224, SHA-1 and MD5 are not). */
const STRONG_HASHES = new Set(['SHA-256', 'SHA-384', 'SHA-512']);
/** Longer than any real PKI; a chain still without a trusted root here is refused, not accepted. */
const MAX_CHAIN = 10;

/** DNS name matching for the service name: exact (case-insensitive), or a wildcard for exactly one left-most label. */
export function matchServiceName(cert: Certificate, name: string): 'exact' | 'wildcard' | 'none' {
  const wanted = name.toLowerCase().replace(/\.$/, '');
  let viaWildcard = false;
  for (const dns of cert.subjectAltNames.dns) {
    const pattern = dns.toLowerCase().replace(/\.$/, '');
    if (pattern === wanted) return 'exact';
    if (pattern.startsWith('*.') && wanted.includes('.')) {
      const [first, ...rest] = wanted.split('.');
      if (first && first.length > 0 && rest.join('.') === pattern.slice(2)) viaWildcard = true;
    }
  }
  return viaWildcard ? 'wildcard' : 'none';
}

/** Key strength rule of the contract: RSA of at least 2048 bits; for a web certificate, ECDSA only on P-256 or P-384. */
export function keyProblem(
  cert: Certificate,
  webRules: boolean,
): { code: string; message: string } | undefined {
  const key = cert.key;
  if (key.algorithm === 'RSA' && (key.bits ?? 0) < MIN_RSA_BITS) {
    return {
      code: VerifyCode.keyTooSmall,
      message: `RSA key of ${key.bits} bits; at least ${MIN_RSA_BITS} are required`,
    };
  }
  if (webRules && key.algorithm === 'EC' && !WEB_CURVES.has(key.curve ?? '')) {
    return {
      code: VerifyCode.keyUnsupported,
      message: `ECDSA key on curve ${key.curve}; P-256 or P-384 is required`,
    };
  }
  if (webRules && key.algorithm !== 'RSA' && key.algorithm !== 'EC') {
    return { code: VerifyCode.keyUnsupported, message: `${key.algorithm} key; RSA or ECDSA is required` };
  }
  return undefined;
}

/**
 * Finds the issuer of `cert` among candidates: name and key identifiers first,
 * then a signature that verifies. A renewed CA can exist twice (same name and
 * key, other dates): prefer the copy valid at `at`.
 */
function findIssuer(
  cert: Certificate,
  candidates: Certificate[],
  at: Date,
): { issuer?: Certificate; nameOnly?: Certificate } {
  const byName = candidates.filter((c) => c.thumbprint !== cert.thumbprint && cert.names(c));
  const verified = byName.filter((c) => cert.native.verify(c.native.publicKey));
  const issuer = verified.find((c) => c.isValidAt(at)) ?? verified[0];
  return issuer ? { issuer } : { nameOnly: byName[0] };
}

function describeLink(cert: Certificate, depth: number, trustedRoot: boolean): ChainLink {
  return {
    depth,
    subject: cert.subject,
    issuer: cert.issuer,
    serialNumber: cert.serialNumber,
    thumbprint: cert.thumbprint,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    trustedRoot,
  };
}

/**
 * Builds the chain from `leaf` to a trusted root and checks every link.
 * All problems are reported, each with the depth of the certificate at fault,
 * so an admin learns in one run what is wrong with the whole chain.
 */
export async function verifyChain(req: VerifyRequest): Promise<VerifyResult> {
  const at = req.at ?? new Date();
  const roots = req.trust.roots;
  const rootPrints = new Set(roots.map((r) => r.thumbprint));
  const others = [...(req.presented ?? []), ...(req.trust.intermediates ?? [])];
  const failures: VerifyFailure[] = [];
  const fail = (code: string, message: string, depth: number, cert: Certificate) =>
    failures.push({ code, message, depth, subject: cert.subject });

  // 1. Build the chain.
  const chain: Certificate[] = [req.leaf];
  let trusted = rootPrints.has(req.leaf.thumbprint);
  while (!trusted && chain.length < MAX_CHAIN) {
    const current = chain[chain.length - 1] as Certificate;
    const depth = chain.length - 1;
    // A self-signed certificate that is not a trusted root ends the chain, even when a trusted root
    // has the same name: it is another root, not a badly signed child of the trusted one.
    if (current.isSelfSigned) {
      fail(
        VerifyCode.untrustedRoot,
        `the chain ends at the self-signed root "${current.subject}" (thumbprint ${current.thumbprint}), which is not among the trusted roots`,
        depth,
        current,
      );
      break;
    }
    // Trust anchors first: a chain that reaches a configured root ends there.
    const fromRoots = findIssuer(current, roots, at);
    const found = fromRoots.issuer ? fromRoots : findIssuer(current, others, at);
    if (found.issuer && !chain.some((c) => c.thumbprint === found.issuer?.thumbprint)) {
      chain.push(found.issuer);
      trusted = rootPrints.has(found.issuer.thumbprint);
      continue;
    }
    const nameOnly = fromRoots.nameOnly ?? found.nameOnly;
    if (nameOnly) {
      fail(
        VerifyCode.badSignature,
        `the signature does not verify with the key of its issuer "${nameOnly.subject}" (thumbprint ${nameOnly.thumbprint})`,
        depth,
        current,
      );
    } else {
      fail(
        VerifyCode.missingIntermediate,
        `no certificate of its issuer "${current.issuer}" was found among the presented certificates, the intermediates or the trusted roots`,
        depth,
        current,
      );
    }
    break;
  }
  if (!trusted && failures.length === 0) {
    const top = chain[chain.length - 1] as Certificate;
    fail(
      VerifyCode.chainTooLong,
      `no trusted root within ${MAX_CHAIN} certificates of the chain`,
      chain.length - 1,
      top,
    );
  }

  // 2. Check every link.
  for (const [depth, cert] of chain.entries()) {
    const isRoot = trusted && depth === chain.length - 1;
    if (at < cert.notBefore) {
      fail(VerifyCode.notYetValid, `not valid before ${cert.notBefore.toISOString()}`, depth, cert);
    }
    if (at > cert.notAfter)
      fail(VerifyCode.expired, `expired on ${cert.notAfter.toISOString()}`, depth, cert);
    if (depth > 0 && !cert.isCA) {
      fail(
        VerifyCode.notACA,
        'it issued a certificate but is not a certification authority (basic constraints)',
        depth,
        cert,
      );
    }
    // A trust anchor's self-signature proves nothing, so its hash does not matter; every other signature does.
    const sig = cert.signatureAlgorithm;
    if (!isRoot && !STRONG_HASHES.has(sig.hash)) {
      fail(VerifyCode.weakSignature, `signed with ${sig.name}; SHA-256 or stronger is required`, depth, cert);
    }
    const key = keyProblem(cert, depth === 0 && req.purpose === 'server');
    if (key) fail(key.code, key.message, depth, cert);
    const ekus = cert.extendedKeyUsages;
    const wanted = PURPOSE_EKU[req.purpose];
    if (depth === 0) {
      if (!ekus?.includes(wanted)) {
        fail(
          VerifyCode.wrongEku,
          `lacks the ${PURPOSE_EKU_NAME[req.purpose]} extended key usage${ekus ? ` (has ${ekus.join(', ')})` : ' (it has no extended key usage extension)'}`,
          depth,
          cert,
        );
      }
    } else if (ekus && !ekus.includes(wanted) && !ekus.includes(EKU.anyExtendedKeyUsage)) {
      // An issuing CA constrained to other usages cannot vouch for this purpose (as OpenSSL and Windows judge it).
      fail(VerifyCode.wrongEku, `is limited to extended key usages ${ekus.join(', ')}`, depth, cert);
    }
  }

  for (const p of constraintProblems(chain)) fail(p.code, p.message, p.depth, chain[p.depth] as Certificate);

  // 3. Revocation: each certificate against the CRLs its issuer signed.
  for (let depth = 0; depth < chain.length - (trusted ? 1 : 0); depth++) {
    const cert = chain[depth] as Certificate;
    const issuer = chain[depth + 1];
    if (!issuer) continue;
    const crls: Crl[] = [];
    for (const crl of req.trust.crls ?? []) if (await crl.isSignedBy(issuer)) crls.push(crl);
    if (crls.length === 0) {
      if (req.requireCrl) {
        fail(VerifyCode.crlUnavailable, `no CRL of its issuer "${issuer.subject}" was given`, depth, cert);
      }
      continue;
    }
    const newest = crls.reduce((a, b) => (b.thisUpdate > a.thisUpdate ? b : a));
    const entry = crls.map((c) => c.find(cert.serialNumber)).find((e) => e !== undefined);
    if (entry) {
      fail(
        VerifyCode.revoked,
        `revoked on ${entry.revocationDate.toISOString()}${entry.reason ? ` (${entry.reason})` : ''} by a CRL of "${issuer.subject}"`,
        depth,
        cert,
      );
    } else if (newest.nextUpdate && newest.nextUpdate < at) {
      fail(
        VerifyCode.crlExpired,
        `the newest CRL of "${issuer.subject}" expired on ${newest.nextUpdate.toISOString()}; publish a fresh one`,
        depth,
        cert,
      );
    }
  }

  // 4. What the purpose asks of the certificate itself.
  const leaf = req.leaf;
  if (req.purpose === 'server' && req.serviceName) {
    const match = matchServiceName(leaf, req.serviceName);
    if (match === 'none') {
      const names = leaf.subjectAltNames.dns;
      fail(
        VerifyCode.nameMismatch,
        `does not carry the name ${req.serviceName} (its DNS names: ${names.length > 0 ? names.join(', ') : 'none'})`,
        0,
        leaf,
      );
    } else if (match === 'wildcard' && !req.allowWildcard) {
      fail(
        VerifyCode.wildcard,
        `covers ${req.serviceName} only through a wildcard name; use a certificate for the exact name, or allow wildcards (--allow-wildcard)`,
        0,
        leaf,
      );
    }
  }
  let identity: ConnectionPointIdentity | undefined;
  if (req.purpose === 'connection-point') {
    identity = connectionPointIdentity(leaf);
    if (!identity) {
      fail(
        VerifyCode.noIdentity,
        'has no (or more than one) URI name urn:cmg:site:<SITE>:connection-point:<ID>',
        0,
        leaf,
      );
    } else if (req.site && identity.site !== req.site.toUpperCase()) {
      fail(
        VerifyCode.siteMismatch,
        `belongs to site ${identity.site}, not ${req.site.toUpperCase()}`,
        0,
        leaf,
      );
    }
  }

  return {
    ok: failures.length === 0,
    purpose: req.purpose,
    chain: chain.map((c, depth) => describeLink(c, depth, trusted && depth === chain.length - 1)),
    failures: failures.sort((a, b) => a.depth - b.depth),
    ...(identity ? { identity } : {}),
  };
}
