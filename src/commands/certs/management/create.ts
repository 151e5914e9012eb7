import { Flags } from '@oclif/core';
import type { MadeCertificate } from '../../../certs/make.js';
import { CmgCommand } from '../../base.js';
import { asKeyType, certFlags, passphraseFrom, renderWritten } from '../flags.js';

export default class CertsManagementCreate extends CmgCommand<typeof CertsManagementCreate> {
  static override summary = 'Create the management certificate cmg deploy signs in to Azure with';
  static override description =
    'Writes OUT.cer (DER: upload it to the app registration under "Certificates & secrets"), OUT.pem (private key and ' +
    'certificate, 0600: what the Azure SDK certificate credential reads) and, with --pfx, OUT.pfx.';
  static override examples = [
    '<%= config.bin %> certs management create --out cmg-deploy',
    'CMG_PFX_PASS=... <%= config.bin %> certs management create --out cmg-deploy --pfx --passphrase-env CMG_PFX_PASS',
  ];
  static override flags = {
    out: Flags.string({ description: 'output name: OUT.cer, OUT.pem (and OUT.pfx)', required: true }),
    subject: Flags.string({ description: 'distinguished name', default: 'CN=cmg deploy' }),
    pfx: Flags.boolean({
      description: 'also write OUT.pfx (passphrase from --passphrase-env, --passphrase-file or a prompt)',
    }),
    'passphrase-env': certFlags.passphraseEnv,
    'passphrase-file': certFlags.passphraseFile,
    // Entra ID app registrations take RSA certificates.
    'key-type': Flags.string({
      description: 'RSA key size',
      options: ['rsa2048', 'rsa3072', 'rsa4096'],
      default: 'rsa2048',
    }),
    days: certFlags.days(365),
    force: certFlags.force,
  };

  async run(): Promise<MadeCertificate> {
    const { createManagementCertificate } = await import('../../../certs/make.js');
    const f = this.flags;
    return createManagementCertificate({
      out: f.out,
      subject: f.subject,
      days: f.days ?? 365,
      keyType: asKeyType(f['key-type']),
      pfxPassphrase: f.pfx ? passphraseFrom(f, true) : undefined,
      force: f.force,
    });
  }

  protected render(r: MadeCertificate): void {
    this.log(
      `management certificate "${r.certificate.subject}", thumbprint ${r.certificate.thumbprint}, valid to ${r.certificate.notAfter}`,
    );
    renderWritten((l) => this.log(l), r.files);
    this.note('Upload the .cer file to the app registration; give cmg deploy the .pem file.');
  }
}
