import { AsnConvert } from '@peculiar/asn1-schema';
import { NameConstraints } from '@peculiar/asn1-x509';
import type { Certificate } from './certificate.js';

/**
 * The limits a CA puts on what it vouches for, checked over a built chain
 * (leaf first): path length, name constraints, critical extensions nobody here
 * understands, and key usage. A constraint cmg cannot evaluate fails closed.
 */
export interface ConstraintProblem {
  code: string;
  message: string;
  depth: number;
}

export const ConstraintCode = {
  pathLength: 'CMG_CERT_PATH_LENGTH_EXCEEDED',
  nameConstraints: 'CMG_CERT_NAME_CONSTRAINTS',
  unknownCritical: 'CMG_CERT_UNKNOWN_CRITICAL_EXTENSION',
  keyUsage: 'CMG_CERT_WRONG_KEY_USAGE',
} as const;

/**
 * Extensions cmg processes, or may safely accept as critical. Policy extensions
 * are accepted without policy processing: cmg does not restrict by policy.
 */
const KNOWN_EXTENSIONS = new Set([
  '2.5.29.14', // subject key identifier
  '2.5.29.15', // key usage
  '2.5.29.17', // subject alternative name
  '2.5.29.19', // basic constraints
  '2.5.29.30', // name constraints
  '2.5.29.31', // CRL distribution points
  '2.5.29.32', // certificate policies
  '2.5.29.33', // policy mappings
  '2.5.29.35', // authority key identifier
  '2.5.29.36', // policy constraints
  '2.5.29.37', // extended key usage
  '2.5.29.54', // inhibit any-policy
  '1.3.6.1.5.5.7.1.1', // authority information access
]);

/** RFC 5280: a DNS constraint admits the name itself and any name with labels added on the left. */
function dnsWithin(name: string, constraint: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  const c = constraint.toLowerCase().replace(/\.$/, '');
  if (c === '') return true;
  if (c.startsWith('.')) return n.endsWith(c);
  return n === c || n.endsWith(`.${c}`);
}

function nameConstraintProblems(chain: Certificate[]): ConstraintProblem[] {
  const problems: ConstraintProblem[] = [];
  for (let depth = 1; depth < chain.length; depth++) {
    const ca = chain[depth] as Certificate;
    const ext = ca.x509.extensions.find((e) => e.type === '2.5.29.30');
    if (!ext) continue;
    let nc: NameConstraints;
    try {
      nc = AsnConvert.parse(ext.value, NameConstraints);
    } catch {
      problems.push({
        code: ConstraintCode.nameConstraints,
        message: 'its name constraints cannot be read',
        depth,
      });
      continue;
    }
    const permitted = [...(nc.permittedSubtrees ?? [])].map((s) => s.base);
    const excluded = [...(nc.excludedSubtrees ?? [])].map((s) => s.base);
    const unsupported = [...permitted, ...excluded].find((b) => b.dNSName === undefined);
    if (unsupported) {
      // Only DNS constraints are evaluated; any other kind could be the one that forbids this chain.
      problems.push({
        code: ConstraintCode.nameConstraints,
        message:
          'it carries name constraints other than DNS names, which cmg does not evaluate: refused rather than guessed',
        depth,
      });
      continue;
    }
    const permittedDns = permitted.map((b) => b.dNSName as string);
    const excludedDns = excluded.map((b) => b.dNSName as string);
    // Every certificate it vouches for, directly or through others, is bound by its constraints.
    for (let below = 0; below < depth; below++) {
      const cert = chain[below] as Certificate;
      for (const name of cert.subjectAltNames.dns) {
        if (permittedDns.length > 0 && !permittedDns.some((c) => dnsWithin(name, c))) {
          problems.push({
            code: ConstraintCode.nameConstraints,
            message: `DNS name ${name} is outside the names permitted by "${ca.subject}" (${permittedDns.join(', ')})`,
            depth: below,
          });
        }
        const hit = excludedDns.find((c) => dnsWithin(name, c));
        if (hit !== undefined) {
          problems.push({
            code: ConstraintCode.nameConstraints,
            message: `DNS name ${name} is excluded by "${ca.subject}" (${hit})`,
            depth: below,
          });
        }
      }
    }
  }
  return problems;
}

export function constraintProblems(chain: Certificate[]): ConstraintProblem[] {
  const problems: ConstraintProblem[] = [];
  for (const [depth, cert] of chain.entries()) {
    for (const ext of cert.x509.extensions) {
      if (ext.critical && !KNOWN_EXTENSIONS.has(ext.type)) {
        problems.push({
          code: ConstraintCode.unknownCritical,
          message: `it has a critical extension cmg does not understand (${ext.type}); RFC 5280 requires refusing it`,
          depth,
        });
      }
    }
    // Path length: how many CAs may stand between this CA and the certificate at the end of the chain.
    const limit = depth > 0 ? cert.pathLength : undefined;
    if (limit !== undefined && depth - 1 > limit) {
      problems.push({
        code: ConstraintCode.pathLength,
        message: `its path length constraint (${limit}) allows ${limit} CA(s) below it; the chain has ${depth - 1}`,
        depth,
      });
    }
    const usages = cert.keyUsages;
    if (usages !== undefined) {
      if (depth > 0 && !usages.includes('keyCertSign')) {
        problems.push({
          code: ConstraintCode.keyUsage,
          message: 'its key usage does not allow signing certificates',
          depth,
        });
      }
      if (depth === 0 && !usages.includes('digitalSignature') && !usages.includes('keyAgreement')) {
        problems.push({
          code: ConstraintCode.keyUsage,
          message: `its key usage (${usages.join(', ') || 'none'}) does not allow the signatures TLS authentication needs`,
          depth,
        });
      }
    }
  }
  return [...problems, ...nameConstraintProblems(chain)];
}
