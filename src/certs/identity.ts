import { isReservedSiteCode } from '../names.js';
import type { Certificate } from './certificate.js';
import { CertUsageError } from './errors.js';

/**
 * A connection point's identity travels in its certificate, never in anything
 * the peer says: the URI subject alternative name
 * `urn:cmg:site:<SITECODE>:connection-point:<ID>`.
 */
export interface ConnectionPointIdentity {
  site: string;
  id: string;
}

const URN = /^urn:cmg:site:([A-Za-z0-9]{3}):connection-point:([A-Za-z0-9][A-Za-z0-9._-]{0,62})$/;

export function connectionPointUri(site: string, id: string): string {
  if (isReservedSiteCode(site)) {
    throw new CertUsageError(
      'CMG_USAGE',
      `${site.toUpperCase()} is reserved and cannot be a site code (nor can AUX, CON, NUL, PRN, SMS)`,
    );
  }
  const uri = `urn:cmg:site:${site.toUpperCase()}:connection-point:${id}`;
  if (!URN.test(uri)) {
    throw new CertUsageError(
      'CMG_USAGE',
      `invalid connection point identity ${JSON.stringify(uri)}: the site is three letters or digits, the id 1-63 of letters, digits, ".", "_", "-"`,
    );
  }
  return uri;
}

/** The identity in a certificate, or undefined when it has none (or more than one, which is refused too). */
export function connectionPointIdentity(cert: Certificate): ConnectionPointIdentity | undefined {
  const found = cert.subjectAltNames.uri.map((u) => URN.exec(u)).filter((m) => m !== null);
  if (found.length !== 1) return undefined;
  const [, site, id] = found[0] as RegExpExecArray;
  return { site: (site ?? '').toUpperCase(), id: id ?? '' };
}
