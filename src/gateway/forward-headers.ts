import type { Certificate } from '../certs/certificate.js';
import { isHopByHop } from '../channel/hop-by-hop.js';
import { isChannelHeader } from '../channel/protocol.js';

/** Headers only the gateway may set: whatever a client sends under these names is dropped. */
function isForwardingHeader(lower: string): boolean {
  // IIS reads X_Forwarded_For as X-Forwarded-For (both become HTTP_X_FORWARDED_FOR): underscores count as dashes.
  const name = lower.includes('_') ? lower.replaceAll('_', '-') : lower;
  return name === 'forwarded' || name.startsWith('x-forwarded-');
}

export interface ForwardContext {
  clientIp: string;
  /** The verified client certificate, when the request came with one. */
  clientCertificate?: Certificate | undefined;
}

/** `"` and `\` escaped inside an XFCC quoted value. */
const quoted = (s: string) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;

/**
 * The client certificate in the common XFCC form (as Envoy writes it), so the
 * internal role can do its own client validation: the SHA-256 of the DER, the
 * subject, and the PEM, URL-encoded.
 */
export function xfccValue(cert: Certificate): string {
  // The same certificate comes with every request on a connection, and from every connection of a client.
  let value = xfccOf.get(cert);
  if (value === undefined) {
    value = `Hash=${cert.sha256Fingerprint.toLowerCase()};Subject=${quoted(cert.subject)};Cert=${quoted(encodeURIComponent(cert.toPem()))}`;
    xfccOf.set(cert, value);
  }
  return value;
}
const xfccOf = new WeakMap<Certificate, string>();

/**
 * The request headers to forward, as [name, value] pairs in the client's order
 * with the client's spelling (ConfigMgr's CCMClientID, CCMClientIDSignature,
 * Range... pass untouched): hop-by-hop headers, the headers the Connection
 * header names, and every client-supplied forwarding or client-certificate
 * header are removed; the gateway's own X-Forwarded-For, X-Forwarded-Proto and
 * X-Forwarded-Client-Cert are added.
 */
export function forwardHeaders(rawHeaders: readonly string[], ctx: ForwardContext): [string, string][] {
  const named = new Set<string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() === 'connection') {
      for (const token of (rawHeaders[i + 1] as string).split(',')) named.add(token.trim().toLowerCase());
    }
  }
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const lower = name.toLowerCase();
    if (isHopByHop(lower) || named.has(lower) || isForwardingHeader(lower) || isChannelHeader(lower))
      continue;
    out.push([name, rawHeaders[i + 1] as string]);
  }
  out.push(['X-Forwarded-For', ctx.clientIp], ['X-Forwarded-Proto', 'https']);
  if (ctx.clientCertificate) out.push(['X-Forwarded-Client-Cert', xfccValue(ctx.clientCertificate)]);
  return out;
}
