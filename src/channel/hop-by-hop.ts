/**
 * Hop-by-hop headers (RFC 9110 7.6.1) and framing each leg redoes for itself:
 * never carried across the channel (HTTP/2 refuses the connection-specific
 * ones outright) nor handed to undici, which refuses `expect` and
 * `transfer-encoding` and frames the body itself.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'host',
  'http2-settings',
]);

export function isHopByHop(lower: string): boolean {
  return HOP_BY_HOP.has(lower);
}
