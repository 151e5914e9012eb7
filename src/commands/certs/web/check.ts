import { Args, Flags } from '@oclif/core';
import type { WebCheckResult } from '../../../certs/web-check.js';
import { CmgCommand } from '../../base.js';
import { certFlags, list, parseAt, passphraseFrom } from '../flags.js';

type Result = WebCheckResult & { file: string };

export default class CertsWebCheck extends CmgCommand<typeof CertsWebCheck> {
  static override summary = 'Check a web service certificate file against the rules of the gateway';
  static override description =
    'Checks the name, Server Authentication EKU, key (RSA 2048+ or ECDSA P-256/P-384), SHA-256+ signature, validity, ' +
    'the chain in the file, trust (the system roots, or --roots), revocation (--crl) and the private key. Exits 1 when ' +
    'any rule fails, each failure with its own reason and code.';
  static override examples = [
    '<%= config.bin %> certs web check web.pfx --service-name cmg.contoso.com --passphrase-env CMG_PFX_PASS',
    '<%= config.bin %> certs web check web.pem --service-name cmg.contoso.com --roots web-root.pem --json',
  ];
  static override args = {
    file: Args.string({ description: 'PEM, DER, PKCS#7 or PFX file', required: true }),
  };
  static override flags = {
    'service-name': Flags.string({ description: 'the name clients use', required: true }),
    'allow-wildcard': Flags.boolean({
      description: 'accept a wildcard name that covers the service name',
      default: false,
    }),
    roots: Flags.string({ description: 'trusted root files, comma-separated (default: the system roots)' }),
    crl: Flags.string({ description: 'CRL files, comma-separated' }),
    'require-crl': Flags.boolean({
      description: 'fail when an issuer in the chain has no CRL given',
      default: false,
    }),
    at: Flags.string({ description: 'judge validity at this time (ISO 8601) instead of now' }),
    'passphrase-env': certFlags.passphraseEnv,
    'passphrase-file': certFlags.passphraseFile,
  };

  async run(): Promise<Result> {
    const { webCheckFile } = await import('../../../certs/examine.js');
    const f = this.flags;
    return webCheckFile({
      file: this.args.file,
      serviceName: f['service-name'],
      allowWildcard: f['allow-wildcard'],
      roots: list(f.roots),
      crls: list(f.crl),
      requireCrl: f['require-crl'],
      at: parseAt(f.at),
      passphrase: passphraseFrom(f),
    });
  }

  protected override exitCodeOf(r: Result): number {
    return r.ok ? 0 : 1;
  }

  protected render(r: Result): void {
    this.log(
      `${r.file}: "${r.certificate.subject}" for ${r.serviceName}: ${r.ok ? 'passes every rule' : 'FAILS'}`,
    );
    for (const c of r.checks) {
      this.log(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.check}`);
      for (const p of c.problems) this.log(`       ${p.code}: ${p.subject}: ${p.message}`);
    }
  }
}
