import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { Certificate } from '../certs/certificate.js';

const chains = new WeakMap<TLSSocket, Certificate[]>();

/**
 * The certificates a TLS peer presented, its own first. Parsed once per
 * connection: a client sends many requests on one keep-alive connection.
 * Whatever Node adds from the local store is only a candidate for the chain;
 * verification decides what is trusted. A peer certificate that cannot be
 * parsed throws (CMG_CERT_UNREADABLE): the caller refuses it; an unreadable
 * certificate further up only ends the chain there.
 */
export function peerChain(socket: TLSSocket): Certificate[] {
  const cached = chains.get(socket);
  if (cached) return cached;
  const out: Certificate[] = [];
  let cert = socket.getPeerCertificate(true) as DetailedPeerCertificate | undefined;
  const seen = new Set<DetailedPeerCertificate>();
  while (cert?.raw && !seen.has(cert) && out.length < 12) {
    seen.add(cert);
    try {
      out.push(parsed(cert));
    } catch (err) {
      if (out.length === 0) throw err;
      break;
    }
    cert = cert.issuerCertificate;
  }
  chains.set(socket, out);
  return out;
}

/**
 * Parsed certificates by SHA-256 fingerprint (Node computes it for every peer
 * certificate): a client reconnects with the same certificate many times a
 * day, every client shares its issuing CAs, and a full parse costs about a
 * millisecond. The oldest entries go first when the cache is full.
 */
const parsedByFingerprint = new Map<string, Certificate>();
const PARSED_CACHE_SIZE = 20_000;

function parsed(cert: DetailedPeerCertificate): Certificate {
  const key = cert.fingerprint256;
  const hit = key ? parsedByFingerprint.get(key) : undefined;
  if (hit?.der.equals(cert.raw)) return hit;
  const fresh = Certificate.fromDer(cert.raw, 'the peer certificate');
  if (key) {
    parsedByFingerprint.set(key, fresh);
    if (parsedByFingerprint.size > PARSED_CACHE_SIZE)
      parsedByFingerprint.delete(parsedByFingerprint.keys().next().value as string);
  }
  return fresh;
}
