/**
 * The operations of `cmg certs` that make files: CAs, certificates, CRLs, the
 * management certificate, web requests, PFX conversion. Each returns what it
 * wrote; nothing is written when an output exists and `force` is not set.
 */
import { existsSync } from 'node:fs';
import type { Certificate, CertificateInfo } from './certificate.js';
import { createCrl, normalizeSerial, parseSerial, type RevocationReason, type RevokedEntry } from './crl.js';
import { createCsr } from './csr.js';
import { CertUsageError } from './errors.js';
import { connectionPointUri } from './identity.js';
import { type Issuer, issueCertificate, type Profile } from './issue.js';
import {
  generateKeyPair,
  importPrivateKey,
  type KeyType,
  privateKeyDer,
  privateKeyPem,
  publicKeyDer,
} from './keys.js';
import { OutputFiles } from './output.js';
import { writePfx } from './pfx.js';
import { type PassphraseSource, readBundle, readInputFile } from './read.js';
import { pickLeaf } from './web-check.js';

/** A passphrase an admin sets for a new PFX: it protects a private key, so an empty one is refused. */
async function newPfxPassphrase(source: PassphraseSource, file: string): Promise<string> {
  const passphrase = await source(file);
  if (passphrase === '') {
    throw new CertUsageError('CMG_PFX_PASSPHRASE_EMPTY', `the passphrase for ${file} is empty`, {
      hint: 'A PFX protects a private key: give it a passphrase.',
    });
  }
  return passphrase;
}

export interface Written {
  files: { path: string; mode: string }[];
}

/** `pki/root` -> `pki/root.pem`; a name that already ends in .pem/.crt/.cer keeps it. */
export function certPathOf(prefix: string): string {
  if (prefix === '' || /[\\/]$/.test(prefix)) {
    throw new CertUsageError(
      'CMG_USAGE',
      `--out ${JSON.stringify(prefix)} names a folder; give a file name such as pki/root`,
    );
  }
  return /\.(pem|crt|cer)$/i.test(prefix) ? prefix : `${prefix}.pem`;
}

/** The key beside a certificate: `ca.pem` -> `ca.key`. */
export function keyPathOf(certPath: string): string {
  return certPath.replace(/\.(pem|crt|cer)$/i, '') + '.key';
}

/** A CA to sign with: its certificate (first in the file) and its key (given, beside it, or in the same PEM/PFX). */
export async function loadIssuer(
  certFile: string,
  keyFile?: string,
  passphrase?: PassphraseSource,
): Promise<Issuer> {
  const bundle = await readBundle(certFile, passphrase);
  const cert = bundle.certificates[0];
  if (!cert) throw new CertUsageError('CMG_CERT_NO_CERTIFICATE', `${certFile} holds no certificate`);
  if (!cert.isCA) {
    throw new CertUsageError(
      'CMG_CERT_NOT_A_CA',
      `${certFile} ("${cert.subject}") is not a CA certificate and cannot sign`,
    );
  }
  let keyData = bundle.key;
  const keyPath = keyFile ?? (keyData ? undefined : keyPathOf(certFile));
  if (keyPath) {
    if (!existsSync(keyPath)) {
      throw new CertUsageError('CMG_CERT_KEY_NOT_FOUND', `the CA's private key was not found at ${keyPath}`, {
        hint: 'Name it with --issuer-key (or --ca-key).',
      });
    }
    keyData = readInputFile(keyPath);
  }
  const pair = await importPrivateKey(keyData as Buffer, keyPath ?? certFile);
  // A key from another CA would sign certificates that nothing can verify: refuse it before writing anything.
  if (!cert.spki.equals(await publicKeyDer(pair.publicKey))) {
    throw new CertUsageError(
      'CMG_CERT_KEY_MISMATCH',
      `the private key ${keyPath ?? `in ${certFile}`} does not belong to "${cert.subject}" (${certFile})`,
      { hint: "Give the CA's own key with --issuer-key (or --ca-key)." },
    );
  }
  return { cert, key: pair.privateKey, keyType: pair.type };
}

export interface MadeCertificate extends Written {
  certificate: CertificateInfo;
}

async function makeAndWrite(
  opts: {
    out: string;
    force: boolean;
    profile: Profile;
    subject: string;
    keyType: KeyType;
    issuer?: Issuer | undefined;
    days?: number | undefined;
    dns?: string[];
    ips?: string[];
    uris?: string[];
    crlUrls?: string[];
    pathLength?: number | undefined;
  },
  /** Which files to write; default: `<out>.pem` and `<out>.key`. */
  layout?: (files: OutputFiles, cert: Certificate, keyPem: string, keyDer: Buffer) => void,
): Promise<MadeCertificate> {
  const keyPair = await generateKeyPair(opts.keyType);
  const cert = await issueCertificate({
    profile: opts.profile,
    subject: opts.subject,
    keyPair,
    ...(opts.issuer ? { issuer: opts.issuer } : {}),
    ...(opts.days === undefined ? {} : { days: opts.days }),
    dns: opts.dns ?? [],
    ips: opts.ips ?? [],
    uris: opts.uris ?? [],
    crlUrls: opts.crlUrls ?? [],
    ...(opts.pathLength === undefined ? {} : { pathLength: opts.pathLength }),
  });
  const keyPem = await privateKeyPem(keyPair.privateKey);
  const files = new OutputFiles();
  if (layout) {
    layout(files, cert, keyPem, await privateKeyDer(keyPair.privateKey));
  } else {
    const certPath = certPathOf(opts.out);
    files.add(certPath, cert.toPem());
    files.add(keyPathOf(certPath), keyPem, { secret: true });
  }
  return { certificate: cert.describe(), files: files.commit(opts.force) };
}

export interface CreateCaOptions {
  out: string;
  subject: string;
  keyType: KeyType;
  days?: number | undefined;
  pathLength?: number | undefined;
  issuer?: Issuer | undefined;
  crlUrls?: string[];
  force: boolean;
}

export function createCa(o: CreateCaOptions): Promise<MadeCertificate> {
  return makeAndWrite({ ...o, profile: o.issuer ? 'sub-ca' : 'root-ca' });
}

export type IssueType = 'client' | 'server' | 'connection-point';

export interface IssueOptions {
  type: IssueType;
  out: string;
  issuer: Issuer;
  subject?: string | undefined;
  dns: string[];
  ips: string[];
  site?: string | undefined;
  id?: string | undefined;
  keyType: KeyType;
  days?: number | undefined;
  crlUrls: string[];
  force: boolean;
}

export function issue(o: IssueOptions): Promise<MadeCertificate> {
  const uris: string[] = [];
  if (o.type === 'connection-point') {
    if (!o.site || !o.id) {
      throw new CertUsageError('CMG_USAGE', 'a connection point certificate needs --site and --id');
    }
    uris.push(connectionPointUri(o.site, o.id));
  }
  if (o.type === 'server' && o.dns.length === 0 && o.ips.length === 0) {
    throw new CertUsageError('CMG_USAGE', 'a server certificate needs at least one --dns name (or --ip)');
  }
  const subject =
    o.subject ?? `CN=${o.type === 'connection-point' ? o.id : (o.dns[0] ?? o.ips[0] ?? o.type)}`;
  return makeAndWrite({ ...o, profile: o.type, subject, uris });
}

export interface CrlOptions {
  ca: Issuer;
  out: string;
  revokeCertificates: Certificate[];
  revokeSerials: string[];
  reason?: RevocationReason | undefined;
  days: number;
  force: boolean;
}

export interface CrlResult extends Written {
  crlNumber: number;
  entries: { serialNumber: string; revocationDate: string; reason?: string }[];
  nextUpdate: string;
}

/**
 * Writes the CA's CRL. An existing CRL of the same CA at `out` is extended:
 * its entries are kept and its number goes up by one, so `--revoke` adds.
 */
export async function writeCrl(o: CrlOptions): Promise<CrlResult> {
  let entries: RevokedEntry[] = [];
  let crlNumber = 1;
  let replaceOwn = false;
  if (existsSync(o.out)) {
    // Only a file holding this CA's CRL and nothing else is extended in place; anything more needs --force.
    const bundle = await readBundle(o.out);
    const previous =
      bundle.crls.length === 1 && bundle.certificates.length === 0 && !bundle.key
        ? bundle.crls[0]
        : undefined;
    if (previous && (await previous.isSignedBy(o.ca.cert))) {
      entries = previous.entries;
      crlNumber = (previous.crlNumber ?? 0) + 1;
      replaceOwn = true;
    }
  }
  const now = new Date();
  for (const cert of o.revokeCertificates) {
    if (cert.issuer !== o.ca.cert.subject || !cert.isIssuedBy(o.ca.cert)) {
      throw new CertUsageError(
        'CMG_CERT_NOT_ISSUED_BY_CA',
        `"${cert.subject}" (serial ${cert.serialNumber}) was not issued by "${o.ca.cert.subject}"; only its issuer can revoke it`,
      );
    }
  }
  const serials = [...o.revokeCertificates.map((c) => c.serialNumber), ...o.revokeSerials.map(parseSerial)];
  for (const serial of serials) {
    if (!entries.some((e) => e.serialNumber === normalizeSerial(serial))) {
      entries.push({ serialNumber: serial, revocationDate: now, ...(o.reason ? { reason: o.reason } : {}) });
    }
  }
  const crl = await createCrl({
    issuer: o.ca,
    entries,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + o.days * 86_400_000),
    crlNumber,
  });
  const files = new OutputFiles().add(o.out, crl.toPem()).commit(o.force || replaceOwn);
  return {
    files,
    crlNumber,
    nextUpdate: (crl.nextUpdate as Date).toISOString(),
    entries: crl.entries.map((e) => ({
      serialNumber: e.serialNumber,
      revocationDate: e.revocationDate.toISOString(),
      ...(e.reason ? { reason: e.reason } : {}),
    })),
  };
}

export interface ManagementOptions {
  out: string;
  subject: string;
  days: number;
  keyType: KeyType;
  /** When set, a PFX is written too, with this passphrase source. */
  pfxPassphrase?: PassphraseSource | undefined;
  force: boolean;
}

/**
 * The management certificate `cmg deploy` signs in with as a service
 * principal: `.cer` (DER) to upload to the app registration, `.pem` with key
 * and certificate (what @azure/identity's certificate credential reads), and
 * optionally a PFX.
 */
export async function createManagementCertificate(o: ManagementOptions): Promise<MadeCertificate> {
  const passphrase = o.pfxPassphrase ? await newPfxPassphrase(o.pfxPassphrase, `${o.out}.pfx`) : undefined;
  return makeAndWrite(
    {
      out: o.out,
      force: o.force,
      profile: 'management',
      subject: o.subject,
      keyType: o.keyType,
      days: o.days,
    },
    (files, cert, keyPem, keyDer) => {
      files.add(`${o.out}.cer`, cert.der);
      files.add(`${o.out}.pem`, `${keyPem}${cert.toPem()}`, { secret: true });
      if (passphrase !== undefined) {
        files.add(
          `${o.out}.pfx`,
          writePfx({ keyDer, certificates: [cert.der], passphrase, friendlyName: cert.subject }),
          {
            secret: true,
          },
        );
      }
    },
  );
}

export interface WebRequestResult extends Written {
  subject: string;
  dns: string[];
}

export async function createWebRequest(o: {
  serviceName: string;
  out: string;
  subject?: string | undefined;
  keyType: KeyType;
  force: boolean;
}): Promise<WebRequestResult> {
  const keyPair = await generateKeyPair(o.keyType);
  const subject = o.subject ?? `CN=${o.serviceName}`;
  const dns = [o.serviceName];
  const csr = await createCsr({ subject, keyPair, dns });
  const files = new OutputFiles()
    .add(`${o.out}.csr`, csr)
    .add(`${o.out}.key`, await privateKeyPem(keyPair.privateKey), { secret: true })
    .commit(o.force);
  return { files, subject, dns };
}

export interface PfxConversion extends Written {
  direction: 'pem-to-pfx' | 'pfx-to-pem';
  certificates: { subject: string; thumbprint: string }[];
}

/** PEM certificate (+ chain) and key into a PFX. */
export async function pemToPfx(o: {
  certFiles: string[];
  keyFile: string;
  out: string;
  passphrase: PassphraseSource;
  friendlyName?: string | undefined;
  force: boolean;
}): Promise<PfxConversion> {
  const certs: Certificate[] = [];
  for (const f of o.certFiles) certs.push(...(await readBundle(f)).certificates);
  if (certs.length === 0)
    throw new CertUsageError('CMG_CERT_NO_CERTIFICATE', `${o.certFiles.join(', ')} hold no certificate`);
  const key = await importPrivateKey(readInputFile(o.keyFile), o.keyFile);
  const keyDer = await privateKeyDer(key.privateKey);
  const leaf = pickLeaf(certs, keyDer);
  const ordered = leaf ? [leaf, ...certs.filter((c) => c !== leaf)] : certs;
  const pfx = writePfx({
    keyDer,
    certificates: ordered.map((c) => c.der),
    passphrase: await newPfxPassphrase(o.passphrase, o.out),
    ...(o.friendlyName ? { friendlyName: o.friendlyName } : {}),
  });
  return {
    direction: 'pem-to-pfx',
    certificates: ordered.map((c) => ({ subject: c.subject, thumbprint: c.thumbprint })),
    files: new OutputFiles().add(o.out, pfx, { secret: true }).commit(o.force),
  };
}

/** A PFX into `<out>.pem` (certificate and chain) and `<out>.key` (0600). */
export async function pfxToPem(o: {
  pfxFile: string;
  out: string;
  passphrase: PassphraseSource;
  force: boolean;
}): Promise<PfxConversion> {
  const bundle = await readBundle(o.pfxFile, o.passphrase);
  if (bundle.format !== 'pfx') throw new CertUsageError('CMG_USAGE', `${o.pfxFile} is not a PFX file`);
  const files = new OutputFiles().add(`${o.out}.pem`, bundle.certificates.map((c) => c.toPem()).join(''));
  if (bundle.key) {
    const key = await importPrivateKey(bundle.key, o.pfxFile);
    files.add(`${o.out}.key`, await privateKeyPem(key.privateKey), { secret: true });
  }
  return {
    direction: 'pfx-to-pem',
    certificates: bundle.certificates.map((c) => ({ subject: c.subject, thumbprint: c.thumbprint })),
    files: files.commit(o.force),
  };
}
