import { readCertificates, readCrls } from '../certs/read.js';
import { loadTlsIdentity, type TlsIdentity } from '../certs/tls-identity.js';
import type { TrustStore } from '../certs/verify.js';
import type { GatewayConfig } from '../config/gateway.js';

/** Everything the gateway reads from certificate files: what SIGHUP reloads as one piece. */
export interface GatewayTrust {
  identity: TlsIdentity;
  /** Clients: trusted roots, intermediates and CRLs (`clientAuth`). */
  clients: TrustStore;
  /** Connection points: the channel CA(s). */
  channels: TrustStore;
}

export async function loadGatewayTrust(
  config: GatewayConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<GatewayTrust> {
  const [identity, roots, intermediates, crls, channelRoots] = await Promise.all([
    loadTlsIdentity(config.tls, env),
    readCertificates(config.clientAuth.trustedRootFiles),
    readCertificates(config.clientAuth.intermediateFiles),
    readCrls(config.clientAuth.crlFiles),
    readCertificates(config.channel.caFiles),
  ]);
  return { identity, clients: { roots, intermediates, crls }, channels: { roots: channelRoots } };
}
