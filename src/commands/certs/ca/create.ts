import { Flags } from '@oclif/core';
import type { CreateCaOptions, MadeCertificate } from '../../../certs/make.js';
import { CmgCommand } from '../../base.js';
import { asKeyType, certFlags, list, renderWritten } from '../flags.js';

export default class CertsCaCreate extends CmgCommand<typeof CertsCaCreate> {
  static override summary = 'Create a root CA, or a subordinate CA signed by --issuer';
  static override examples = [
    '<%= config.bin %> certs ca create --out pki/root --subject "CN=Contoso Client Root, O=Contoso"',
    '<%= config.bin %> certs ca create --out pki/issuing --subject "CN=Contoso Issuing CA" --issuer pki/root.pem',
  ];
  static override flags = {
    out: Flags.string({ description: 'output name: writes OUT.pem and OUT.key (0600)', required: true }),
    subject: Flags.string({
      description: 'distinguished name, such as "CN=Contoso Root, O=Contoso"',
      required: true,
    }),
    issuer: Flags.string({
      description: 'certificate of the CA that signs this one (absent: a self-signed root)',
    }),
    'issuer-key': certFlags.issuerKey,
    'path-length': Flags.integer({ description: 'how many CAs may follow below this one', min: 0 }),
    'crl-url': certFlags.crlUrl,
    'key-type': certFlags.keyType,
    days: certFlags.days(),
    force: certFlags.force,
  };

  async run(): Promise<MadeCertificate> {
    const { createCa, loadIssuer } = await import('../../../certs/make.js');
    const f = this.flags;
    const options: CreateCaOptions = {
      out: f.out,
      subject: f.subject,
      keyType: asKeyType(f['key-type']),
      days: f.days,
      pathLength: f['path-length'],
      issuer: f.issuer ? await loadIssuer(f.issuer, f['issuer-key']) : undefined,
      crlUrls: list(f['crl-url']),
      force: f.force,
    };
    return createCa(options);
  }

  protected render(r: MadeCertificate): void {
    this.log(
      `created CA "${r.certificate.subject}" (thumbprint ${r.certificate.thumbprint}), valid to ${r.certificate.notAfter}`,
    );
    renderWritten((l) => this.log(l), r.files);
  }
}
