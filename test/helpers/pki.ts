/**
 * Builders for certificate tests, shared by test/certs and the command tests:
 *
 * - `makeRoot`, `makeIntermediate`, `makeLeaf`, `makeChain`: certificates of every cmg profile, with
 *   their keys, through the real `issueCertificate`;
 * - `craftCertificate`: the odd certificates no profile makes (a CA limited to some extended key usages);
 * - `rsaKeyPair`: RSA keys of any size (1024 bits, which cmg itself refuses to make or import);
 * - `makeCrl`: a CRL of a CA revoking some of its certificates;
 * - `useTempDir`: a fresh folder per test that writes certificates, CRLs and keys as PEM or DER;
 * - `succeeds` / `failsWith`: an expected success or an expected cmg error code;
 * - `openssl`: the real openssl binary.
 *
 * Keys default to P-256, the fastest to generate; dates default to what cmg itself picks.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import type { Test } from 'uvu';
import { Certificate } from '../../src/certs/certificate.js';
import { Crl, createCrl } from '../../src/certs/crl.js';
import { connectionPointUri } from '../../src/certs/identity.js';
import { type Issuer, issueCertificate, type Profile, randomSerial } from '../../src/certs/issue.js';
import {
  generateKeyPair,
  type KeyPair,
  type KeyType,
  privateKeyPem,
  type SignatureHash,
  signingAlgorithm,
} from '../../src/certs/keys.js';
import { type CryptoKeyPair, subtle, x509 } from '../../src/certs/x509.js';
import { CmgError } from '../../src/errors.js';
import { type TempDir as BaseTempDir, useTempDir as useBaseTempDir } from './temp-dir.js';

export const DAY = 86_400_000;

/** `n` days from now; negative is in the past. */
export function daysFromNow(n: number): Date {
  return new Date(Date.now() + n * DAY);
}

/** The names leaves carry by default. */
export const SERVICE_NAME = 'gw.contoso.com';
export const SITE = 'P01';
export const CP_ID = 'cp01';

// ---------------------------------------------------------------- certificates

/** A certificate with its key pair, and the same pair in the shape issuers and CRLs take. */
export interface Issued {
  cert: Certificate;
  keyPair: KeyPair;
  /** This certificate as the `issuer` of issueCertificate and createCrl. */
  signer: Issuer;
}

export interface CertOptions {
  subject?: string;
  /** Key type of a new key pair; P-256 unless said. Ignored when `keyPair` is given. */
  keyType?: KeyType;
  keyPair?: KeyPair;
  notBefore?: Date;
  notAfter?: Date;
  days?: number;
  signatureHash?: SignatureHash;
  dns?: string[];
  ips?: string[];
  uris?: string[];
  crlUrls?: string[];
  pathLength?: number;
  /**
   * Sign with this issuer instead (its key and type), while the certificate still names `issuer`
   * (issuer name and authority key identifier): a signature that does not verify.
   */
  signWith?: Issued;
}

function asSigner(cert: Certificate, keyPair: KeyPair): Issuer {
  return { cert, key: keyPair.privateKey, keyType: keyPair.type };
}

/** Issues a certificate of `profile`, self-signed when `issuer` is undefined. */
export async function issue(
  profile: Profile,
  issuer: Issued | undefined,
  options: CertOptions = {},
): Promise<Issued> {
  const { keyType, keyPair: given, signWith, subject, ...rest } = options;
  const keyPair = given ?? (await generateKeyPair(keyType ?? 'p256'));
  const signer =
    issuer && signWith
      ? { ...issuer.signer, key: signWith.keyPair.privateKey, keyType: signWith.keyPair.type }
      : issuer?.signer;
  const cert = await succeeds(() =>
    issueCertificate({
      profile,
      subject: subject ?? `CN=${profile} ${randomSerial().slice(0, 8)}`,
      keyPair,
      ...(signer ? { issuer: signer } : {}),
      ...rest,
    }),
  );
  return { cert, keyPair, signer: asSigner(cert, keyPair) };
}

export function makeRoot(options: CertOptions = {}): Promise<Issued> {
  return issue('root-ca', undefined, { subject: 'CN=Test Root CA, O=Contoso', ...options });
}

export function makeIntermediate(parent: Issued, options: CertOptions = {}): Promise<Issued> {
  return issue('sub-ca', parent, { subject: 'CN=Test Issuing CA, O=Contoso', ...options });
}

/** Leaf names by profile: a server carries SERVICE_NAME, a connection point SITE and CP_ID. */
const LEAF_DEFAULTS: Partial<Record<Profile, CertOptions>> = {
  server: { subject: `CN=${SERVICE_NAME}`, dns: [SERVICE_NAME] },
  client: { subject: 'CN=client01.contoso.com', dns: ['client01.contoso.com'] },
  'connection-point': { subject: `CN=${CP_ID}`, uris: [connectionPointUri(SITE, CP_ID)] },
  management: { subject: 'CN=cmg management' },
};

/** A leaf of `profile` issued by `issuer` (self-signed when undefined, as a management certificate). */
export function makeLeaf(
  profile: Profile,
  issuer: Issued | undefined,
  options: CertOptions = {},
): Promise<Issued> {
  return issue(profile, issuer, { ...LEAF_DEFAULTS[profile], ...options });
}

export interface Chain {
  root: Issued;
  inter: Issued;
  leaf: Issued;
}

/** Root, issuing CA and a leaf of `profile` (client unless said); `keyType` applies to all three. */
export async function makeChain(
  options: {
    profile?: Profile;
    keyType?: KeyType;
    root?: CertOptions;
    inter?: CertOptions;
    leaf?: CertOptions;
  } = {},
): Promise<Chain> {
  const keyType = options.keyType ? { keyType: options.keyType } : {};
  const root = await makeRoot({ ...keyType, ...options.root });
  const inter = await makeIntermediate(root, { ...keyType, ...options.inter });
  const leaf = await makeLeaf(options.profile ?? 'client', inter, { ...keyType, ...options.leaf });
  return { root, inter, leaf };
}

/**
 * A certificate built directly with @peculiar/x509, for what no cmg profile makes. It has basic
 * constraints (`ca`), key usages (those of a CA or of a signing leaf unless given), a subject key
 * identifier, an authority key identifier when issued, and the extended key usages `ekus` if given.
 */
export async function craftCertificate(options: {
  subject: string;
  issuer?: Issued;
  ca: boolean;
  ekus?: string[];
  keyUsages?: x509.KeyUsageFlags;
  keyType?: KeyType;
  notBefore?: Date;
  notAfter?: Date;
  /** More extensions, as they are (name constraints, an unknown critical one). */
  extensions?: x509.Extension[];
  /** Hex of the serial's DER bytes; a first byte of 0x80 or more makes it negative. */
  serialNumber?: string;
  dns?: string[];
}): Promise<Issued> {
  const keyPair = await generateKeyPair(options.keyType ?? 'p256');
  const F = x509.KeyUsageFlags;
  const usages =
    options.keyUsages ?? (options.ca ? F.keyCertSign | F.cRLSign | F.digitalSignature : F.digitalSignature);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(options.ca, undefined, true),
    new x509.KeyUsagesExtension(usages, true),
    await x509.SubjectKeyIdentifierExtension.create(keyPair.publicKey),
  ];
  if (options.ekus) extensions.push(new x509.ExtendedKeyUsageExtension(options.ekus));
  if (options.dns) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(options.dns.map((value) => ({ type: 'dns' as const, value }))),
    );
  }
  extensions.push(...(options.extensions ?? []));
  const issuer = options.issuer;
  if (issuer) {
    const ski = issuer.cert.x509.getExtension(x509.SubjectKeyIdentifierExtension);
    if (ski) extensions.push(new x509.AuthorityKeyIdentifierExtension(ski.keyId));
  }
  const signer = issuer?.keyPair ?? keyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: options.serialNumber ?? randomSerial(),
    subject: options.subject,
    issuer: issuer ? issuer.cert.x509.subjectName : options.subject,
    notBefore: options.notBefore ?? daysFromNow(-1),
    notAfter: options.notAfter ?? daysFromNow(30),
    publicKey: keyPair.publicKey,
    signingKey: signer.privateKey,
    signingAlgorithm: signingAlgorithm(signer.type) as x509.X509CertificateCreateParams['signingAlgorithm'],
    extensions,
  });
  const certificate = Certificate.fromPeculiar(cert);
  return { cert: certificate, keyPair, signer: asSigner(certificate, keyPair) };
}

/**
 * An RSA key pair of any size through node:crypto, for sizes cmg will not generate or import (1024).
 * Its `type` says rsa2048, which only picks the signature algorithm (RSA PKCS#1 v1.5).
 */
export async function rsaKeyPair(bits: number): Promise<KeyPair> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  return {
    type: 'rsa2048',
    privateKey: await subtle.importKey(
      'pkcs8',
      privateKey.export({ format: 'der', type: 'pkcs8' }),
      alg,
      true,
      ['sign'],
    ),
    publicKey: await subtle.importKey('spki', publicKey.export({ format: 'der', type: 'spki' }), alg, true, [
      'verify',
    ]),
  };
}

/**
 * An ECDSA key pair on any curve WebCrypto knows (P-521, which cmg does not generate). Its `type` says
 * p256, which only picks the signature algorithm should it sign (ECDSA with SHA-256).
 */
export async function ecKeyPair(namedCurve: 'P-256' | 'P-384' | 'P-521'): Promise<KeyPair> {
  const pair = (await subtle.generateKey({ name: 'ECDSA', namedCurve }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  return { type: 'p256', privateKey: pair.privateKey, publicKey: pair.publicKey };
}

/** A CRL of `ca` revoking `revoked` (certificates or serial numbers); current for 7 days unless said. */
export function makeCrl(
  ca: Issued,
  options: {
    revoked?: (Issued | string)[];
    reason?: string;
    thisUpdate?: Date;
    nextUpdate?: Date;
    crlNumber?: number;
  } = {},
): Promise<Crl> {
  return succeeds(() =>
    createCrl({
      issuer: ca.signer,
      entries: (options.revoked ?? []).map((r) => ({
        serialNumber: typeof r === 'string' ? r : r.cert.serialNumber,
        revocationDate: daysFromNow(-1),
        ...(options.reason ? { reason: options.reason } : {}),
      })),
      ...(options.thisUpdate ? { thisUpdate: options.thisUpdate } : {}),
      nextUpdate: options.nextUpdate ?? daysFromNow(7),
      crlNumber: options.crlNumber ?? 1,
    }),
  );
}

// ---------------------------------------------------------------- files

/** What a PEM file can hold: certificates, CRLs, key pairs (their private key, PKCS#8) and raw text. */
export type PemItem = Certificate | Crl | KeyPair | Issued | string;

async function pemOf(item: PemItem): Promise<string> {
  if (typeof item === 'string') return item;
  if (item instanceof Certificate || item instanceof Crl) return item.toPem();
  if ('cert' in item) return item.cert.toPem();
  return privateKeyPem(item.privateKey);
}

/** The per-test temp folder, with PEM and DER writers. */
export interface PkiTempDir extends BaseTempDir {
  /** Writes the items, in order, as one PEM file and returns its path. */
  writePem(name: string, ...items: PemItem[]): Promise<string>;
  /** Writes a certificate or CRL as DER and returns its path. */
  writeDer(name: string, item: Certificate | Crl | Issued): string;
}

/** Makes a temp folder before each test of `suite`, removes it after (see temp-dir.ts). */
export function useTempDir(suite: Test, prefix = 'cmg-pki-'): PkiTempDir {
  const tmp = useBaseTempDir(suite, prefix) as PkiTempDir;
  tmp.writePem = async (name, ...items) => tmp.write(name, (await Promise.all(items.map(pemOf))).join(''));
  tmp.writeDer = (name, item) => tmp.write(name, 'cert' in item ? item.cert.der : item.der);
  return tmp;
}

// ---------------------------------------------------------------- outcomes

function describeCmgError(err: CmgError): string {
  return `${err.code}: ${err.message}${err.hint ? ` (hint: ${err.hint})` : ''}`;
}

/** Runs `fn`, which should succeed; a cmg error becomes a plain Error with its code and message. */
export async function succeeds<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CmgError) throw new Error(`unexpected ${describeCmgError(err)}`, { cause: err });
    throw err;
  }
}

/** Runs `fn`, which should throw a cmg error with `code`, and returns that error. */
export async function failsWith(fn: () => unknown, code: string): Promise<CmgError> {
  let result: unknown;
  try {
    result = await fn();
  } catch (err) {
    if (!(err instanceof CmgError))
      throw new Error(`expected ${code}, got a non-cmg error: ${String(err)}`, { cause: err });
    if (err.code !== code) throw new Error(`expected ${code}, got ${describeCmgError(err)}`, { cause: err });
    return err;
  }
  throw new Error(`expected ${code}, but it succeeded with ${summarize(result)}`);
}

/** A short JSON view of a value, with byte buffers as their length. */
function summarize(value: unknown): string {
  const text = JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && v.type === 'Buffer' && Array.isArray(v.data)
      ? `<${v.data.length} bytes>`
      : v,
  );
  return text === undefined ? String(value) : text.length > 400 ? `${text.slice(0, 400)}...` : text;
}

// ---------------------------------------------------------------- openssl

export interface OpensslResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the openssl binary (in `cwd`, so that file arguments may be relative); a missing binary is an
 * error that says so, a non-zero exit is only returned.
 */
export function openssl(
  args: string[],
  options: { cwd?: string; input?: string | Buffer } = {},
): OpensslResult {
  const run: SpawnSyncReturns<string> = spawnSync('openssl', args, {
    cwd: options.cwd,
    input: options.input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (run.error) {
    const missing = (run.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      missing
        ? 'the openssl binary is not on PATH: these interop tests need it (apt-get install openssl)'
        : `openssl ${args.join(' ')}: ${run.error.message}`,
      { cause: run.error },
    );
  }
  return { status: run.status ?? -1, stdout: run.stdout, stderr: run.stderr };
}

/** Runs openssl and returns its stdout; a non-zero exit throws with the command and its stderr. */
export function opensslOk(args: string[], options: { cwd?: string; input?: string | Buffer } = {}): string {
  const r = openssl(args, options);
  if (r.status !== 0)
    throw new Error(`openssl ${args.join(' ')} exited ${r.status}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}
