import { Flags } from '@oclif/core';
import type { PfxConversion } from '../../certs/make.js';
import { UsageError } from '../../errors.js';
import { CmgCommand } from '../base.js';
import { certFlags, list, passphraseFrom, renderWritten } from './flags.js';

export default class CertsPfx extends CmgCommand<typeof CertsPfx> {
  static override summary = 'Convert between PFX and PEM';
  static override description =
    'With --pfx: writes OUT.pem (certificate and chain) and OUT.key (0600). With --cert and --key: writes the PFX ' +
    'OUT (0600; AES-256 key encryption, SHA-256 MAC). The passphrase comes from --passphrase-env, --passphrase-file or a prompt.';
  static override examples = [
    '<%= config.bin %> certs pfx --pfx web.pfx --out web --passphrase-env CMG_PFX_PASS',
    '<%= config.bin %> certs pfx --cert web.pem --key web.key --out web.pfx --passphrase-file pass.txt',
  ];
  static override flags = {
    pfx: Flags.string({ description: 'PFX to convert to PEM', exclusive: ['cert', 'key'] }),
    cert: Flags.string({
      description: 'PEM certificate files (leaf and chain), comma-separated',
      dependsOn: ['key'],
    }),
    key: Flags.string({ description: 'PEM private key', dependsOn: ['cert'] }),
    out: Flags.string({ description: 'output: a name for OUT.pem/OUT.key, or the PFX file', required: true }),
    'friendly-name': Flags.string({ description: 'friendly name stored in the PFX' }),
    'passphrase-env': certFlags.passphraseEnv,
    'passphrase-file': certFlags.passphraseFile,
    force: certFlags.force,
  };

  async run(): Promise<PfxConversion> {
    const { pemToPfx, pfxToPem } = await import('../../certs/make.js');
    const f = this.flags;
    if (f.pfx) return pfxToPem({ pfxFile: f.pfx, out: f.out, passphrase: passphraseFrom(f), force: f.force });
    if (f.cert && f.key) {
      return pemToPfx({
        certFiles: list(f.cert),
        keyFile: f.key,
        out: f.out,
        passphrase: passphraseFrom(f, true),
        friendlyName: f['friendly-name'],
        force: f.force,
      });
    }
    throw new UsageError('give --pfx (PFX to PEM), or --cert and --key (PEM to PFX)');
  }

  protected render(r: PfxConversion): void {
    for (const c of r.certificates) this.log(`${c.subject} (${c.thumbprint})`);
    renderWritten((l) => this.log(l), r.files);
  }
}
