import type { Certificate } from './certificate.js';
import { CertError, CertUsageError } from './errors.js';
import { type KeyType, signingAlgorithm } from './keys.js';
import { toPem } from './pem.js';
import { type CryptoKey, x509 } from './x509.js';

const CRL_NUMBER_OID = '2.5.29.20';

import { REVOCATION_REASONS } from './names.js';

export { REVOCATION_REASONS, type RevocationReason } from './names.js';

/** Reason codes as RFC 5280 numbers them (7 is unused); the last three are read, never written by cmg. */
const REASON_NAMES = [...REVOCATION_REASONS, 'unused', 'removeFromCRL', 'privilegeWithdrawn', 'aACompromise'];

export interface RevokedEntry {
  serialNumber: string;
  revocationDate: Date;
  reason?: string;
}

/** A certificate revocation list. */
export class Crl {
  private constructor(
    readonly der: Buffer,
    readonly x509: x509.X509Crl,
  ) {}

  static fromDer(der: Buffer | Uint8Array, source = 'CRL'): Crl {
    try {
      return new Crl(Buffer.from(der), new x509.X509Crl(Buffer.from(der)));
    } catch (err) {
      throw new CertError('CMG_CRL_UNREADABLE', `${source} is not a valid X.509 CRL`, { cause: err });
    }
  }

  get issuer(): string {
    return this.x509.issuer;
  }

  get thisUpdate(): Date {
    return this.x509.thisUpdate;
  }

  get nextUpdate(): Date | undefined {
    return this.x509.nextUpdate;
  }

  get crlNumber(): number | undefined {
    const ext = this.x509.extensions.find((e) => e.type === CRL_NUMBER_OID);
    return ext ? decodeSmallInteger(new Uint8Array(ext.value)) : undefined;
  }

  get entries(): RevokedEntry[] {
    return this.x509.entries.map((e) => {
      const reason = e.reason === undefined ? undefined : REASON_NAMES[e.reason];
      return {
        serialNumber: normalizeSerial(e.serialNumber),
        revocationDate: e.revocationDate,
        ...(reason === undefined ? {} : { reason }),
      };
    });
  }

  /** The revocation entry of `serial` (upper-case hex), if this CRL lists it. */
  find(serial: string): RevokedEntry | undefined {
    const wanted = normalizeSerial(serial);
    return this.entries.find((e) => e.serialNumber === wanted);
  }

  /** Issued by `ca`: same name, and `ca`'s key verifies the signature. */
  async isSignedBy(ca: Certificate): Promise<boolean> {
    if (ca.subject !== this.issuer) return false;
    try {
      return await this.x509.verify({ publicKey: ca.x509.publicKey });
    } catch {
      return false;
    }
  }

  toPem(): string {
    // "X509 CRL" is the label RFC 7468 and OpenSSL use (some libraries write plain "CRL").
    return toPem('X509 CRL', this.der);
  }
}

/** Serial numbers compare as upper-case hex of whole bytes, without leading zero bytes. */
export function normalizeSerial(serial: string): string {
  let hex = serial.replace(/[\s:]/g, '').toUpperCase();
  if (hex.length % 2 === 1) hex = `0${hex}`;
  while (hex.length > 2 && hex.startsWith('00')) hex = hex.slice(2);
  return hex;
}

/** A serial number as an admin types it: hex, optionally with colons or spaces between bytes. */
export function parseSerial(input: string): string {
  const bare = input.trim().replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]+([\s:][0-9a-fA-F]+)*$/.test(bare)) {
    throw new CertUsageError('CMG_CERT_BAD_SERIAL', `not a serial number: ${JSON.stringify(input)}`, {
      hint: 'Give it in hex, as `cmg certs inspect` shows it (4F2A9C01, or 4F:2A:9C:01).',
    });
  }
  return normalizeSerial(bare);
}

function encodeSmallInteger(n: number): Uint8Array {
  const bytes: number[] = [];
  let v = n;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  if ((bytes[0] ?? 0) & 0x80) bytes.unshift(0);
  return new Uint8Array([0x02, bytes.length, ...bytes]);
}

function decodeSmallInteger(der: Uint8Array): number | undefined {
  if (der[0] !== 0x02) return undefined;
  let n = 0;
  for (const b of der.subarray(2, 2 + (der[1] ?? 0))) n = n * 256 + b;
  return n;
}

export interface CreateCrlRequest {
  issuer: { cert: Certificate; key: CryptoKey; keyType: KeyType };
  entries: RevokedEntry[];
  thisUpdate?: Date;
  nextUpdate: Date;
  crlNumber: number;
}

/** A v2 CRL with CRL number and authority key identifier, as Microsoft and OpenSSL CAs write them. */
export async function createCrl(req: CreateCrlRequest): Promise<Crl> {
  const aki = req.issuer.cert.x509.getExtension(x509.SubjectKeyIdentifierExtension);
  const extensions: x509.Extension[] = [
    new x509.Extension(CRL_NUMBER_OID, false, encodeSmallInteger(req.crlNumber)),
  ];
  if (aki) extensions.push(new x509.AuthorityKeyIdentifierExtension(aki.keyId));
  const crl = await x509.X509CrlGenerator.create({
    issuer: req.issuer.cert.x509.subjectName,
    thisUpdate: req.thisUpdate ?? new Date(),
    nextUpdate: req.nextUpdate,
    signingAlgorithm: signingAlgorithm(req.issuer.keyType) as x509.X509CrlCreateParams['signingAlgorithm'],
    signingKey: req.issuer.key,
    extensions,
    entries: req.entries.map((e) => ({
      serialNumber: normalizeSerial(e.serialNumber),
      revocationDate: e.revocationDate,
      ...(e.reason === undefined ? {} : { reason: REASON_NAMES.indexOf(e.reason) as x509.X509CrlReason }),
    })),
  });
  return Crl.fromDer(Buffer.from(crl.rawData));
}
