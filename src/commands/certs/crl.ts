import { Flags } from '@oclif/core';
import type { CrlResult } from '../../certs/make.js';
import { REVOCATION_REASONS, type RevocationReason } from '../../certs/names.js';
import { CmgCommand } from '../base.js';
import { certFlags, list, renderWritten } from './flags.js';

export default class CertsCrl extends CmgCommand<typeof CertsCrl> {
  static override summary = "Create a CA's CRL, or revoke certificates by file or serial number";
  static override description =
    'An existing CRL of the same CA at --out is extended: its entries are kept and its CRL number goes up by one.';
  static override examples = [
    '<%= config.bin %> certs crl --ca pki/issuing.pem --out pki/issuing.crl',
    '<%= config.bin %> certs crl --ca pki/issuing.pem --out pki/issuing.crl --revoke pki/client01.pem --reason keyCompromise',
    '<%= config.bin %> certs crl --ca pki/issuing.pem --out pki/issuing.crl --revoke-serial 4F2A9C01',
  ];
  static override flags = {
    ca: Flags.string({ description: 'certificate of the CA that signs the CRL', required: true }),
    'ca-key': Flags.string({ description: "the CA's private key (default: beside --ca, .key)" }),
    out: Flags.string({ description: 'the CRL file (PEM)', required: true }),
    revoke: Flags.string({ description: 'certificate files to revoke, comma-separated' }),
    'revoke-serial': Flags.string({ description: 'serial numbers (hex) to revoke, comma-separated' }),
    reason: Flags.string({ description: 'revocation reason', options: [...REVOCATION_REASONS] }),
    days: Flags.integer({ description: 'days until the next update', min: 1, max: 3650, default: 30 }),
    force: certFlags.force,
  };

  async run(): Promise<CrlResult> {
    const { loadIssuer, writeCrl } = await import('../../certs/make.js');
    const { readCertificates } = await import('../../certs/read.js');
    const f = this.flags;
    return writeCrl({
      ca: await loadIssuer(f.ca, f['ca-key']),
      out: f.out,
      revokeCertificates: await readCertificates(list(f.revoke)),
      revokeSerials: list(f['revoke-serial']),
      reason: f.reason as RevocationReason | undefined,
      days: f.days,
      force: f.force,
    });
  }

  protected render(r: CrlResult): void {
    this.log(`CRL number ${r.crlNumber}, ${r.entries.length} revoked, next update ${r.nextUpdate}`);
    for (const e of r.entries)
      this.log(`  revoked ${e.serialNumber} on ${e.revocationDate}${e.reason ? ` (${e.reason})` : ''}`);
    renderWritten((l) => this.log(l), r.files);
  }
}
