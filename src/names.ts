/**
 * Names as every part of cmg checks them, so that a config the lab writes and
 * a certificate `cmg certs` issues pass the same rules `cmg config check` applies.
 */

const HOSTNAME = /^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$/;

/**
 * A DNS name by its syntax, and not a number in disguise: resolvers (and URL parsers) read a name whose
 * last label is a number (`1.2.3`, `300.1.1.1`, `0x7f.1`) as an IPv4 address, and no top-level domain
 * is numeric, so such a name is either a valid IPv4 address or a mistake. With `wildcard`, a first
 * label of `*` is allowed (certificate names).
 */
export function isDnsName(v: string, options: { wildcard?: boolean } = {}): boolean {
  const name = options.wildcard && v.startsWith('*.') ? v.slice(2) : v;
  const last = name.replace(/\.$/, '').split('.').at(-1) ?? '';
  return HOSTNAME.test(name) && !/^([0-9]+|0x[0-9a-f]*)$/i.test(last);
}

/** Reserved by Configuration Manager: never a site code. */
export const RESERVED_SITE_CODES: ReadonlySet<string> = new Set(['AUX', 'CON', 'NUL', 'PRN', 'SMS']);

export function isSiteCodeSyntax(v: string): boolean {
  return /^[A-Za-z0-9]{3}$/.test(v);
}

export function isReservedSiteCode(v: string): boolean {
  return RESERVED_SITE_CODES.has(v.toUpperCase());
}
