import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Certificate } from './certificate.js';
import { Crl } from './crl.js';
import { CertError, CertUsageError } from './errors.js';
import { looksLikePem, parsePem } from './pem.js';
import { looksLikePfx, readPfx } from './pfx.js';
import { x509 } from './x509.js';

export type BundleFormat = 'pem' | 'der' | 'pkcs7' | 'pfx' | 'crl';

/** Everything one file holds: certificates, CRLs, and a private key (PEM or PFX). */
export interface Bundle {
  source: string;
  format: BundleFormat;
  certificates: Certificate[];
  crls: Crl[];
  /** PKCS#8, PKCS#1 or SEC1, PEM or DER, as found: hand it to importPrivateKey. */
  key?: Buffer;
}

/** Where a PFX passphrase comes from; asked only when a PFX is actually read. */
export type PassphraseSource = (source: string) => Promise<string>;

const CERT_FILE_EXTENSIONS = new Set([
  '.pem',
  '.crt',
  '.cer',
  '.der',
  '.p7b',
  '.p7c',
  '.pfx',
  '.p12',
  '.crl',
]);

/** Far beyond any certificate, key, CRL or PFX file; a bigger one is not what the admin meant to give. */
const MAX_INPUT_BYTES = 16 * 1024 * 1024;

/** Reads an input file (certificate, key, CRL, PFX): a missing, unreadable or huge file is a usage error. */
export function readInputFile(path: string): Buffer {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
    size = st.size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CertUsageError(
      code === 'ENOENT' ? 'CMG_CERT_FILE_NOT_FOUND' : 'CMG_CERT_FILE_UNREADABLE',
      code === 'ENOENT'
        ? `file not found: ${path}`
        : code === 'EISDIR'
          ? `${path} is a folder, not a file`
          : `cannot read ${path} (${code})`,
      { cause: err },
    );
  }
  if (size > MAX_INPUT_BYTES) {
    throw new CertUsageError(
      'CMG_CERT_FILE_TOO_LARGE',
      `${path} is ${size} bytes: not a certificate, key, CRL or PFX file`,
    );
  }
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CertUsageError(
      'CMG_CERT_FILE_UNREADABLE',
      `cannot read ${path} (${(err as NodeJS.ErrnoException).code})`,
      {
        cause: err,
      },
    );
  }
}

function pkcs7Certificates(der: Buffer): Certificate[] | undefined {
  try {
    const list = new x509.X509Certificates(der);
    return list.length > 0 ? [...list].map((c) => Certificate.fromPeculiar(c)) : undefined;
  } catch {
    return undefined;
  }
}

function fromPem(path: string, data: Buffer): Bundle {
  const bundle: Bundle = { source: path, format: 'pem', certificates: [], crls: [] };
  for (const block of parsePem(data.toString('latin1'))) {
    const label = block.encrypted ? 'ENCRYPTED PRIVATE KEY' : block.label;
    switch (label) {
      case 'CERTIFICATE':
      case 'X509 CERTIFICATE':
        bundle.certificates.push(Certificate.fromDer(block.der, `a certificate in ${path}`));
        break;
      case 'X509 CRL':
      case 'CRL':
        bundle.crls.push(Crl.fromDer(block.der, `a CRL in ${path}`));
        break;
      case 'PKCS7':
      case 'CMS': {
        const certs = pkcs7Certificates(block.der);
        if (!certs)
          throw new CertError(
            'CMG_CERT_UNREADABLE',
            `the PKCS#7 block in ${path} holds no readable certificate`,
          );
        bundle.certificates.push(...certs);
        break;
      }
      case 'PRIVATE KEY':
      case 'RSA PRIVATE KEY':
      case 'EC PRIVATE KEY':
        bundle.key = Buffer.from(
          `-----BEGIN ${block.label}-----\n${block.der.toString('base64')}\n-----END ${block.label}-----\n`,
        );
        break;
      case 'ENCRYPTED PRIVATE KEY':
        throw new CertUsageError('CMG_CERT_KEY_ENCRYPTED', `the private key in ${path} is encrypted`, {
          hint: 'Bring the key unencrypted with mode 0600, or in a PFX whose passphrase cmg can read.',
        });
      default:
      // Other blocks (parameters, CSRs) are not certificates: leave them.
    }
  }
  return bundle;
}

/**
 * Reads a certificate file in any common form: PEM (any number of
 * certificates, CRLs, a key), DER certificate or CRL, PKCS#7 (.p7b), or PFX.
 */
export async function readBundle(path: string, passphrase?: PassphraseSource): Promise<Bundle> {
  const data = readInputFile(path);
  if (looksLikePem(data)) return fromPem(path, data);
  try {
    return { source: path, format: 'der', certificates: [Certificate.fromDer(data, path)], crls: [] };
  } catch {
    // not a DER certificate
  }
  try {
    return { source: path, format: 'crl', certificates: [], crls: [Crl.fromDer(data, path)] };
  } catch {
    // not a DER CRL
  }
  if (looksLikePfx(data)) {
    if (!passphrase) {
      throw new CertUsageError('CMG_PFX_PASSPHRASE_NEEDED', `${path} is a PFX: its passphrase is needed`, {
        hint: 'Give it with --passphrase-env VAR or --passphrase-file FILE (or run in a terminal to be asked).',
      });
    }
    const contents = readPfx(data, await passphrase(path), path);
    return {
      source: path,
      format: 'pfx',
      certificates: contents.certificates.map((der) => Certificate.fromDer(der, `a certificate in ${path}`)),
      crls: [],
      ...(contents.keyDer ? { key: contents.keyDer } : {}),
    };
  }
  const pkcs7 = pkcs7Certificates(data);
  if (pkcs7) return { source: path, format: 'pkcs7', certificates: pkcs7, crls: [] };
  throw new CertError('CMG_CERT_UNREADABLE', `${path} holds no certificate, CRL or PFX that cmg can read`, {
    hint: 'Expected PEM, DER, PKCS#7 (.p7b) or PFX (.pfx/.p12).',
  });
}

/** Files and folders (their certificate files, one level) into bundles, in the order given. */
export async function readBundles(paths: string[], passphrase?: PassphraseSource): Promise<Bundle[]> {
  const out: Bundle[] = [];
  for (const path of paths) {
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      // readBundle reports the missing file
    }
    if (isDir) {
      const files = readdirSync(path)
        .filter((f) => CERT_FILE_EXTENSIONS.has(extname(f).toLowerCase()))
        .sort();
      for (const f of files) out.push(await readBundle(join(path, f), passphrase));
    } else {
      out.push(await readBundle(path, passphrase));
    }
  }
  return out;
}

/** Every certificate in the files, without duplicates (by thumbprint), in order. */
export async function readCertificates(
  paths: string[],
  passphrase?: PassphraseSource,
): Promise<Certificate[]> {
  const seen = new Set<string>();
  const out: Certificate[] = [];
  for (const bundle of await readBundles(paths, passphrase)) {
    for (const cert of bundle.certificates) {
      if (!seen.has(cert.thumbprint)) {
        seen.add(cert.thumbprint);
        out.push(cert);
      }
    }
  }
  return out;
}

export async function readCrls(paths: string[]): Promise<Crl[]> {
  return (await readBundles(paths)).flatMap((b) => b.crls);
}
