import { Flags } from '@oclif/core';
import type { WebRequestResult } from '../../../certs/make.js';
import { CmgCommand } from '../../base.js';
import { asKeyType, certFlags, renderWritten } from '../flags.js';

export default class CertsWebRequest extends CmgCommand<typeof CertsWebRequest> {
  static override summary = 'Create a key and a certificate request (CSR) for the web service certificate';
  static override description =
    'Send OUT.csr to a public CA; keep OUT.key (0600). The request names the service name as subject and DNS name.';
  static override examples = ['<%= config.bin %> certs web request --service-name cmg.contoso.com --out web'];
  static override flags = {
    'service-name': Flags.string({
      description: 'the name clients use, such as cmg.contoso.com',
      required: true,
    }),
    out: Flags.string({ description: 'output name: OUT.csr and OUT.key', required: true }),
    subject: Flags.string({ description: 'distinguished name (default: CN=<service name>)' }),
    'key-type': certFlags.keyType,
    force: certFlags.force,
  };

  async run(): Promise<WebRequestResult> {
    const { createWebRequest } = await import('../../../certs/make.js');
    const f = this.flags;
    return createWebRequest({
      serviceName: f['service-name'],
      out: f.out,
      subject: f.subject,
      keyType: asKeyType(f['key-type']),
      force: f.force,
    });
  }

  protected render(r: WebRequestResult): void {
    this.log(`certificate request for "${r.subject}" (DNS ${r.dns.join(', ')})`);
    renderWritten((l) => this.log(l), r.files);
  }
}
