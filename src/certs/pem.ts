/** PEM armour (RFC 7468): one base64 body per BEGIN/END pair, 64 columns. */
export interface PemBlock {
  label: string;
  der: Buffer;
  /** An old-style OpenSSL encrypted key: `Proc-Type: 4,ENCRYPTED` headers, the body is ciphertext. */
  encrypted: boolean;
}

export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** Every PEM block in a text, in order; text around and between blocks (comments, "Bag Attributes") is ignored. */
export function parsePem(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const inner = m[2] ?? '';
    const body = inner.replace(/^[A-Za-z-]+:.*$/gm, '').replace(/\s+/g, '');
    const encrypted = /^Proc-Type:.*ENCRYPTED/m.test(inner);
    blocks.push({ label: m[1] ?? '', der: Buffer.from(body, 'base64'), encrypted });
  }
  return blocks;
}

/** PEM anywhere in the file: `openssl x509 -text` output puts kilobytes of text before the block. */
export function looksLikePem(data: Buffer): boolean {
  return data.includes('-----BEGIN ');
}
