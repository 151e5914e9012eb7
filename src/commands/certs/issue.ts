import { Flags } from '@oclif/core';
import type { IssueType, MadeCertificate } from '../../certs/make.js';
import { CmgCommand } from '../base.js';
import { asKeyType, certFlags, list, renderWritten } from './flags.js';

export default class CertsIssue extends CmgCommand<typeof CertsIssue> {
  static override summary = 'Issue a client, server or connection point certificate from a CA';
  static override description =
    'A connection point certificate carries the URI name urn:cmg:site:<SITE>:connection-point:<ID> and the Client ' +
    'Authentication EKU; the gateway takes the site and id from it.';
  static override examples = [
    '<%= config.bin %> certs issue --type client --issuer pki/issuing.pem --out pki/client01 --subject CN=client01',
    '<%= config.bin %> certs issue --type server --issuer pki/corp-root.pem --out pki/mp01 --dns mp01.corp.contoso.com',
    '<%= config.bin %> certs issue --type connection-point --issuer pki/channel-ca.pem --out pki/cp01 --site PS1 --id cp01',
  ];
  static override flags = {
    type: Flags.string({
      description: 'what the certificate is for',
      options: ['client', 'server', 'connection-point'],
      required: true,
    }),
    issuer: Flags.string({ description: 'certificate of the issuing CA', required: true }),
    'issuer-key': certFlags.issuerKey,
    out: Flags.string({ description: 'output name: writes OUT.pem and OUT.key (0600)', required: true }),
    subject: Flags.string({ description: 'distinguished name (default: CN from --id or the first --dns)' }),
    dns: Flags.string({ description: 'DNS names, comma-separated' }),
    ip: Flags.string({ description: 'IP addresses, comma-separated' }),
    site: Flags.string({ description: 'site code (connection point)' }),
    id: Flags.string({ description: 'connection point id (connection point)' }),
    'crl-url': certFlags.crlUrl,
    'key-type': certFlags.keyType,
    days: certFlags.days(),
    force: certFlags.force,
  };

  async run(): Promise<MadeCertificate> {
    const { issue, loadIssuer } = await import('../../certs/make.js');
    const f = this.flags;
    return issue({
      type: f.type as IssueType,
      out: f.out,
      issuer: await loadIssuer(f.issuer, f['issuer-key']),
      subject: f.subject,
      dns: list(f.dns),
      ips: list(f.ip),
      site: f.site,
      id: f.id,
      keyType: asKeyType(f['key-type']),
      days: f.days,
      crlUrls: list(f['crl-url']),
      force: f.force,
    });
  }

  protected render(r: MadeCertificate): void {
    const c = r.certificate;
    this.log(
      `issued "${c.subject}" by "${c.issuer}" (serial ${c.serialNumber}, thumbprint ${c.thumbprint}), valid to ${c.notAfter}`,
    );
    renderWritten((l) => this.log(l), r.files);
  }
}
