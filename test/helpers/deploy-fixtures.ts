import type { TemplateInput } from '../../src/deploy/template.js';

/** A PEM-shaped certificate placeholder: the template copies certificates as text. */
export const fakePem = (label: string) =>
  `-----BEGIN CERTIFICATE-----\nTUlJ${label}\n-----END CERTIFICATE-----\n`;

/** The template input of the deploy tests: two instances of contosocmg in westeurope, storage artifact. */
export const templateInput = (over: Partial<TemplateInput> = {}): TemplateInput => ({
  subscriptionId: '11111111-2222-3333-4444-555555555555',
  resourceGroup: 'cmg-prod',
  region: 'westeurope',
  prefix: 'contosocmg',
  serviceName: 'cmg.contoso.com',
  instances: 2,
  vmSize: 'Standard_A2_v2',
  sites: ['PS1'],
  trustedRoots: [fakePem('root1'), fakePem('root2')],
  intermediates: [fakePem('int1')],
  crls: [Buffer.from('crl bytes').toString('base64')],
  checkCrl: true,
  channelCas: [fakePem('channelca')],
  artifact: { kind: 'storage', container: 'artifacts', blob: 'cmg-0.1.0', sha256: 'a'.repeat(64) },
  ...over,
});
