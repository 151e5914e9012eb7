import { Args, Flags } from '@oclif/core';
import type { RootsExportResult } from '../../../certs/examine.js';
import { CmgCommand } from '../../base.js';
import { certFlags, passphraseFrom, renderWritten } from '../flags.js';

export default class CertsRootsExport extends CmgCommand<typeof CertsRootsExport> {
  static override summary =
    'Gather trusted roots and intermediates into the files the gateway config references';
  static override description =
    'Reads PEM, DER, PKCS#7 and PFX files, or folders of them; writes the self-signed CA certificates to --out-roots ' +
    '(clientAuth.trustedRootFiles) and the other CA certificates to --out-intermediates ' +
    '(clientAuth.intermediateFiles). Leaf certificates are skipped and listed.';
  static override examples = [
    '<%= config.bin %> certs roots export exported-from-windows/ --out-roots roots.pem --out-intermediates intermediates.pem',
  ];
  static override strict = false;
  static override args = { input: Args.string({ description: 'files or folders', required: true }) };
  static override flags = {
    'out-roots': Flags.string({ description: 'PEM file for the roots', default: 'trusted-roots.pem' }),
    'out-intermediates': Flags.string({
      description: 'PEM file for the intermediates',
      default: 'intermediates.pem',
    }),
    'passphrase-env': certFlags.passphraseEnv,
    'passphrase-file': certFlags.passphraseFile,
    force: certFlags.force,
  };

  async run(): Promise<RootsExportResult> {
    const { exportRoots } = await import('../../../certs/examine.js');
    const { argv } = await this.parse(CertsRootsExport);
    const f = this.flags;
    return exportRoots({
      inputs: argv as string[],
      outRoots: f['out-roots'],
      outIntermediates: f['out-intermediates'],
      passphrase: passphraseFrom(f),
      force: f.force,
    });
  }

  protected render(r: RootsExportResult): void {
    for (const c of r.roots) this.log(`root          ${c.subject} (${c.thumbprint}) from ${c.from}`);
    for (const c of r.intermediates) this.log(`intermediate  ${c.subject} (${c.thumbprint}) from ${c.from}`);
    for (const c of r.skipped)
      this.log(`skipped       ${c.subject} (${c.thumbprint}) from ${c.from}: ${c.why}`);
    renderWritten((l) => this.log(l), r.files);
  }
}
