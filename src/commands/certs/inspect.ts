import { Args } from '@oclif/core';
import type { InspectedFile } from '../../certs/examine.js';
import { CmgCommand } from '../base.js';
import { certFlags, passphraseFrom } from './flags.js';

export default class CertsInspect extends CmgCommand<typeof CertsInspect> {
  static override summary = 'Show what certificate files hold: PEM, DER, PKCS#7 or PFX, and CRLs';
  static override description =
    'For each certificate: subject, issuer, serial, validity, thumbprint (SHA-1, as Windows shows it), SHA-256 ' +
    'fingerprint, key, signature algorithm, EKUs, alternative names, CA flag and CRL distribution points.';
  static override examples = [
    '<%= config.bin %> certs inspect web.pem',
    '<%= config.bin %> certs inspect web.pfx --passphrase-env CMG_PFX_PASS --json',
  ];
  static override strict = false;
  static override args = { file: Args.string({ description: 'files to inspect', required: true }) };
  static override flags = {
    'passphrase-env': certFlags.passphraseEnv,
    'passphrase-file': certFlags.passphraseFile,
  };

  async run(): Promise<InspectedFile[]> {
    const { inspectFiles } = await import('../../certs/examine.js');
    const { argv } = await this.parse(CertsInspect);
    return inspectFiles(argv as string[], passphraseFrom(this.flags));
  }

  protected render(files: InspectedFile[]): void {
    for (const f of files) {
      this.log(`${f.file} (${f.format}${f.hasPrivateKey ? ', with private key' : ''})`);
      for (const c of f.certificates) {
        const key = c.key.bits
          ? `${c.key.algorithm} ${c.key.bits}`
          : `${c.key.algorithm} ${c.key.curve ?? ''}`;
        const sans = [
          ...c.subjectAltNames.dns.map((n) => `DNS:${n}`),
          ...c.subjectAltNames.ip.map((n) => `IP:${n}`),
          ...c.subjectAltNames.uri.map((n) => `URI:${n}`),
          ...c.subjectAltNames.email.map((n) => `email:${n}`),
        ];
        const rows: [string, string][] = [
          ['subject', c.subject],
          ['issuer', c.issuer],
          ['serial', c.serialNumber],
          ['valid', `${c.notBefore} to ${c.notAfter}`],
          ['thumbprint', c.thumbprint],
          ['sha256', c.sha256Fingerprint],
          ['key', key.trim()],
          ['signature', c.signatureAlgorithm],
          ['EKU', c.extendedKeyUsages.map((e) => e.name ?? e.oid).join(', ') || '(none)'],
          ['key usage', c.keyUsages.join(', ') || '(none)'],
          ['names', sans.join(', ') || '(none)'],
          ['CA', c.isCA ? `yes${c.pathLength === undefined ? '' : `, path length ${c.pathLength}`}` : 'no'],
          ['self-signed', c.selfSigned ? 'yes' : 'no'],
          ['CRL DPs', c.crlDistributionPoints.join(', ') || '(none)'],
        ];
        this.log('');
        for (const [k, v] of rows) this.log(`  ${k.padEnd(12)} ${v}`);
      }
      for (const crl of f.crls) {
        this.log('');
        this.log(`  CRL of      ${crl.issuer}`);
        this.log(`  number      ${crl.crlNumber ?? '(none)'}`);
        this.log(`  updated     ${crl.thisUpdate}, next ${crl.nextUpdate ?? '(none)'}`);
        this.log(`  revoked     ${crl.revoked.length === 0 ? '(none)' : ''}`);
        for (const r of crl.revoked)
          this.log(`    ${r.serialNumber} on ${r.revocationDate}${r.reason ? ` (${r.reason})` : ''}`);
      }
      this.log('');
    }
  }
}
