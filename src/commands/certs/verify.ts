import { Flags } from '@oclif/core';
import type { VerifyFilesResult } from '../../certs/examine.js';
import { PURPOSES, type Purpose } from '../../certs/names.js';
import { CmgCommand } from '../base.js';
import { certFlags, list, parseAt, passphraseFrom } from './flags.js';

export default class CertsVerify extends CmgCommand<typeof CertsVerify> {
  static override summary = 'Build a certificate chain and say exactly which link fails and why';
  static override description =
    'The same checks the gateway makes on clients and connection points: chain to a trusted root, validity, EKU, ' +
    'revocation, key size, signature hash, and for servers the name. Exits 1 when the certificate fails.';
  static override examples = [
    '<%= config.bin %> certs verify --cert client.pem --roots client-root.pem --intermediates client-issuing.pem --crl client-root.crl,client-issuing.crl --purpose client',
    '<%= config.bin %> certs verify --cert web.pem --roots web-root.pem --purpose server --service-name cmg.contoso.com',
  ];
  static override flags = {
    cert: Flags.string({
      description: 'the certificate (the rest of the file counts as its presented chain)',
      required: true,
    }),
    roots: Flags.string({ description: 'trusted root files or folders, comma-separated', required: true }),
    intermediates: Flags.string({ description: 'intermediate certificate files, comma-separated' }),
    crl: Flags.string({ description: 'CRL files, comma-separated' }),
    'require-crl': Flags.boolean({
      description: 'fail when an issuer in the chain has no CRL given',
      default: false,
    }),
    purpose: Flags.string({
      description: 'what the certificate must be good for',
      options: [...PURPOSES],
      required: true,
    }),
    'service-name': Flags.string({ description: 'server purpose: the name the certificate must carry' }),
    'allow-wildcard': Flags.boolean({
      description: 'accept a wildcard name that covers the service name',
      default: false,
    }),
    site: Flags.string({ description: 'connection-point purpose: the site it must belong to' }),
    at: Flags.string({ description: 'judge validity at this time (ISO 8601) instead of now' }),
    'passphrase-env': certFlags.passphraseEnv,
    'passphrase-file': certFlags.passphraseFile,
  };

  async run(): Promise<VerifyFilesResult> {
    const { verifyFiles } = await import('../../certs/examine.js');
    const f = this.flags;
    return verifyFiles({
      cert: f.cert,
      roots: list(f.roots),
      intermediates: list(f.intermediates),
      crls: list(f.crl),
      purpose: f.purpose as Purpose,
      requireCrl: f['require-crl'],
      serviceName: f['service-name'],
      allowWildcard: f['allow-wildcard'],
      site: f.site,
      at: parseAt(f.at),
      passphrase: passphraseFrom(f),
    });
  }

  protected override exitCodeOf(r: VerifyFilesResult): number {
    return r.ok ? 0 : 1;
  }

  protected render(r: VerifyFilesResult): void {
    this.log(`${r.file}: "${r.certificate.subject}" for ${r.purpose} use: ${r.ok ? 'OK' : 'FAILED'}`);
    this.log('chain:');
    for (const l of r.chain) {
      this.log(
        `  [${l.depth}] ${l.subject} (thumbprint ${l.thumbprint})${l.trustedRoot ? ' - trusted root' : ''}`,
      );
    }
    for (const p of r.failures) this.log(`  FAIL at [${p.depth}] ${p.subject}: ${p.code}: ${p.message}`);
    if (r.identity) this.log(`connection point ${r.identity.id} of site ${r.identity.site}`);
  }
}
