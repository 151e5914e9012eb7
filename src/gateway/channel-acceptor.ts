import { connect, constants } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { type ConnectionPointIdentity, connectionPointIdentity } from '../certs/identity.js';
import { type TrustStore, verifyChain } from '../certs/verify.js';
import { peerChain } from './peer-chain.js';

export type ChannelVerdict =
  | { ok: true; identity: ConnectionPointIdentity; subject: string; thumbprint: string }
  | { ok: false; reason: string; subject?: string };

/**
 * Who is dialing in: a connection point's certificate must chain to the
 * channel CA with the Client Authentication EKU and carry exactly one
 * `urn:cmg:site:...:connection-point:...` name; its site must be served here.
 * Nothing the peer says later can change the identity taken from it.
 */
export async function checkConnectionPoint(
  socket: TLSSocket,
  trust: TrustStore,
  sites: ReadonlySet<string>,
): Promise<ChannelVerdict> {
  let chain: ReturnType<typeof peerChain>;
  try {
    chain = peerChain(socket);
  } catch (err) {
    return {
      ok: false,
      reason: `CMG_CERT_UNREADABLE: the certificate cannot be parsed (${(err as Error).message})`,
    };
  }
  const [leaf, ...rest] = chain;
  if (!leaf) return { ok: false, reason: 'no certificate was presented' };
  const result = await verifyChain({
    leaf,
    presented: rest,
    trust,
    purpose: 'connection-point',
    at: new Date(),
  });
  if (!result.ok) {
    return {
      ok: false,
      subject: leaf.subject,
      reason: result.failures
        .map((f) => `${f.code} at depth ${f.depth} (${f.subject}): ${f.message}`)
        .join('; '),
    };
  }
  const identity = result.identity ?? connectionPointIdentity(leaf);
  if (!identity)
    return { ok: false, subject: leaf.subject, reason: 'the certificate names no connection point' };
  if (!sites.has(identity.site)) {
    return {
      ok: false,
      subject: leaf.subject,
      reason: `site ${identity.site} is not served by this gateway (channel.sites: ${[...sites].join(', ')})`,
    };
  }
  return { ok: true, identity, subject: leaf.subject, thumbprint: leaf.thumbprint };
}

/**
 * Refuses a channel so that the connection point can log why: an HTTP/2
 * GOAWAY whose debug data is the reason, then the socket closes.
 */
export function refuseChannel(socket: TLSSocket, reason: string): void {
  const session = connect('https://refused.cmg-channel', { createConnection: () => socket });
  session.on('error', () => undefined);
  const done = setTimeout(() => {
    session.destroy();
    socket.destroy();
  }, 1000);
  done.unref();
  session.on('connect', () => {
    session.goaway(constants.NGHTTP2_REFUSED_STREAM, 0, Buffer.from(reason.slice(0, 1000)));
    session.close(() => {
      clearTimeout(done);
      socket.destroy();
    });
  });
}
