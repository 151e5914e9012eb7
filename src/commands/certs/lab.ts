import { Flags } from '@oclif/core';
import type { LabResult } from '../../certs/lab.js';
import { CmgCommand } from '../base.js';
import { asKeyType, certFlags, list, renderWritten } from './flags.js';

interface LabOutput extends Omit<LabResult, 'files'> {
  files: { path: string; mode: string }[];
}

export default class CertsLab extends CmgCommand<typeof CertsLab> {
  static override summary = 'Create a complete lab PKI and ready-to-run gateway and connection point configs';
  static override description =
    'Client root and issuing CA with a client certificate; web root with the web service certificate; channel CA with ' +
    'one certificate per connection point; corp root with the management point certificate; a CRL for every CA; ' +
    'gateway.json and connector-<id>.json (one per connection point, each with its own certificate) on loopback.';
  static override examples = [
    '<%= config.bin %> certs lab --out lab',
    '<%= config.bin %> certs lab --out lab --service-name cmg.contoso.com --site PS1 --connection-points cp01,cp02',
  ];
  static override flags = {
    out: Flags.string({ description: 'folder to create the lab in', required: true }),
    'service-name': Flags.string({ description: 'the gateway name clients use', default: 'cmg.contoso.com' }),
    site: Flags.string({ description: 'site code', default: 'PS1' }),
    'connection-points': Flags.string({
      description: 'connection point ids, comma-separated',
      default: 'cp01,cp02',
    }),
    'gateway-host': Flags.string({
      description: 'address the gateway listens on and connection points dial',
      default: '127.0.0.1',
    }),
    'gateway-port': Flags.integer({ description: 'client HTTPS port', default: 8443, min: 1, max: 65535 }),
    'channel-port': Flags.integer({ description: 'channel port', default: 10140, min: 1, max: 65535 }),
    'admin-port': Flags.integer({
      description: 'gateway admin port; connection points take the next ones',
      default: 9443,
      min: 1,
      max: 65500,
    }),
    'mp-host': Flags.string({ description: 'name of the internal management point', default: 'localhost' }),
    'mp-port': Flags.integer({
      description: 'HTTPS port of the internal management point',
      default: 8444,
      min: 1,
      max: 65535,
    }),
    'key-type': certFlags.keyType,
    days: certFlags.days(365),
    force: certFlags.force,
  };

  async run(): Promise<LabOutput> {
    const { createLab } = await import('../../certs/lab.js');
    const f = this.flags;
    const lab = await createLab({
      outDir: f.out,
      serviceName: f['service-name'],
      site: f.site,
      connectionPoints: list(f['connection-points']),
      keyType: asKeyType(f['key-type']),
      gatewayHost: f['gateway-host'],
      gatewayPort: f['gateway-port'],
      channelPort: f['channel-port'],
      adminPort: f['admin-port'],
      mpHost: f['mp-host'],
      mpPort: f['mp-port'],
      days: f.days ?? 365,
    });
    const { files, ...rest } = lab;
    return { ...rest, files: files.commit(f.force) };
  }

  protected render(r: LabOutput): void {
    this.log(`lab PKI in ${r.outDir}:`);
    for (const c of r.certificates) this.log(`  ${c.file.padEnd(22)} ${c.subject} (${c.thumbprint})`);
    renderWritten(
      (l) => this.log(l),
      r.files.filter((f) => f.path.endsWith('.json')),
    );
    this.log(`${r.files.length} files written; private keys (.key) have mode 0600.`);
    this.log(`check them with: cmg config check ${r.gatewayConfig}`);
  }
}
