/**
 * The operations of `cmg certs` that read and judge: inspect, verify, web
 * check, roots export. Each takes file names and returns data to print.
 */
import type { CertificateInfo } from './certificate.js';
import { CertUsageError } from './errors.js';
import type { Written } from './make.js';
import { OutputFiles } from './output.js';
import {
  type BundleFormat,
  type PassphraseSource,
  readBundle,
  readBundles,
  readCertificates,
  readCrls,
} from './read.js';
import { type Purpose, type VerifyResult, verifyChain } from './verify.js';
import { checkWebCertificate, pickLeaf, type WebCheckResult } from './web-check.js';

export interface CrlInfo {
  issuer: string;
  thisUpdate: string;
  nextUpdate?: string;
  crlNumber?: number;
  revoked: { serialNumber: string; revocationDate: string; reason?: string }[];
}

export interface InspectedFile {
  file: string;
  format: BundleFormat;
  hasPrivateKey: boolean;
  certificates: CertificateInfo[];
  crls: CrlInfo[];
}

export async function inspectFiles(files: string[], passphrase?: PassphraseSource): Promise<InspectedFile[]> {
  const out: InspectedFile[] = [];
  for (const file of files) {
    const b = await readBundle(file, passphrase);
    out.push({
      file,
      format: b.format,
      hasPrivateKey: b.key !== undefined,
      certificates: b.certificates.map((c) => c.describe()),
      crls: b.crls.map((crl) => ({
        issuer: crl.issuer,
        thisUpdate: crl.thisUpdate.toISOString(),
        ...(crl.nextUpdate ? { nextUpdate: crl.nextUpdate.toISOString() } : {}),
        ...(crl.crlNumber === undefined ? {} : { crlNumber: crl.crlNumber }),
        revoked: crl.entries.map((e) => ({
          serialNumber: e.serialNumber,
          revocationDate: e.revocationDate.toISOString(),
          ...(e.reason ? { reason: e.reason } : {}),
        })),
      })),
    });
  }
  return out;
}

export interface VerifyFilesOptions {
  cert: string;
  roots: string[];
  intermediates: string[];
  crls: string[];
  purpose: Purpose;
  requireCrl: boolean;
  serviceName?: string | undefined;
  allowWildcard: boolean;
  site?: string | undefined;
  at?: Date | undefined;
  passphrase?: PassphraseSource;
}

export interface VerifyFilesResult extends VerifyResult {
  file: string;
  certificate: CertificateInfo;
}

/** `cmg certs verify`: the file's certificate (the rest of the file counts as presented intermediates). */
export async function verifyFiles(o: VerifyFilesOptions): Promise<VerifyFilesResult> {
  const bundle = await readBundle(o.cert, o.passphrase);
  const leaf = pickLeaf(bundle.certificates, bundle.key);
  if (!leaf) throw new CertUsageError('CMG_CERT_NO_CERTIFICATE', `${o.cert} holds no certificate`);
  const roots = await readCertificates(o.roots, o.passphrase);
  if (roots.length === 0)
    throw new CertUsageError('CMG_USAGE', `no certificate found in --roots ${o.roots.join(', ')}`);
  const result = await verifyChain({
    leaf,
    presented: bundle.certificates.filter((c) => c !== leaf),
    trust: {
      roots,
      intermediates: await readCertificates(o.intermediates, o.passphrase),
      crls: await readCrls(o.crls),
    },
    purpose: o.purpose,
    requireCrl: o.requireCrl,
    allowWildcard: o.allowWildcard,
    ...(o.serviceName ? { serviceName: o.serviceName } : {}),
    ...(o.site ? { site: o.site } : {}),
    ...(o.at ? { at: o.at } : {}),
  });
  return { file: o.cert, certificate: leaf.describe(), ...result };
}

export async function webCheckFile(o: {
  file: string;
  serviceName: string;
  allowWildcard: boolean;
  roots: string[];
  crls: string[];
  requireCrl: boolean;
  at?: Date | undefined;
  passphrase?: PassphraseSource;
}): Promise<WebCheckResult & { file: string }> {
  const bundle = await readBundle(o.file, o.passphrase);
  if (bundle.certificates.length === 0) {
    throw new CertUsageError('CMG_CERT_NO_CERTIFICATE', `${o.file} holds no certificate`);
  }
  const result = await checkWebCertificate({
    certificates: bundle.certificates,
    keyDer: bundle.key,
    keyExpected: bundle.format === 'pfx',
    serviceName: o.serviceName,
    allowWildcard: o.allowWildcard,
    ...(o.roots.length > 0 ? { roots: await readCertificates(o.roots, o.passphrase) } : {}),
    crls: await readCrls(o.crls),
    requireCrl: o.requireCrl,
    ...(o.at ? { at: o.at } : {}),
  });
  return { file: o.file, ...result };
}

export interface RootsExportResult extends Written {
  roots: { subject: string; thumbprint: string; from: string }[];
  intermediates: { subject: string; thumbprint: string; from: string }[];
  skipped: { subject: string; thumbprint: string; from: string; why: string }[];
}

/**
 * Gathers the trusted roots and intermediates of the client PKI from files and
 * folders into the two PEM files the gateway config references: the "upload
 * the root chain" step. Leaf certificates are skipped and listed.
 */
export async function exportRoots(o: {
  inputs: string[];
  outRoots: string;
  outIntermediates: string;
  passphrase?: PassphraseSource;
  force: boolean;
}): Promise<RootsExportResult> {
  const seen = new Set<string>();
  const result: Omit<RootsExportResult, 'files'> = { roots: [], intermediates: [], skipped: [] };
  const rootPem: string[] = [];
  const interPem: string[] = [];
  for (const bundle of await readBundles(o.inputs, o.passphrase)) {
    for (const cert of bundle.certificates) {
      if (seen.has(cert.thumbprint)) continue;
      seen.add(cert.thumbprint);
      const entry = { subject: cert.subject, thumbprint: cert.thumbprint, from: bundle.source };
      if (!cert.isCA) result.skipped.push({ ...entry, why: 'not a CA certificate' });
      else if (cert.isSelfSigned) {
        result.roots.push(entry);
        rootPem.push(cert.toPem());
      } else {
        result.intermediates.push(entry);
        interPem.push(cert.toPem());
      }
    }
  }
  if (result.roots.length === 0) {
    throw new CertUsageError(
      'CMG_CERT_NO_ROOT',
      `no root certificate (self-signed CA) found in ${o.inputs.join(', ')}`,
    );
  }
  const files = new OutputFiles().add(o.outRoots, rootPem.join(''));
  if (interPem.length > 0) files.add(o.outIntermediates, interPem.join(''));
  return { ...result, files: files.commit(o.force) };
}
