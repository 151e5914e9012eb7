import type { ClientSessionOptions, ServerSessionOptions, Settings } from 'node:http2';

/**
 * The channel's wire protocol, shared by both daemons (docs/channel.md).
 * A connection point dials TLS to the gateway offering ALPN `cmg-channel/1`;
 * on that socket the gateway is the HTTP/2 client and the connection point
 * the server (reverse HTTP/2), so each client request is one stream with its
 * own flow control.
 */
export const CHANNEL_ALPN = 'cmg-channel/1';
/** The version the ALPN name carries; a new one is offered as `cmg-channel/2` beside it. */
export const CHANNEL_PROTOCOL_VERSION = 1;

/** The long-lived stream on which the connection point sends its manifest, updates and drain notice. */
export const CONTROL_PATH = '/.cmg/control';

/** Headers the gateway adds to a forwarded request, and the answers' own. */
export const ChannelHeader = {
  /** The published prefix the gateway routed the request to. */
  endpoint: 'cmg-endpoint',
  /** The gateway's id for the request, in both daemons' logs. */
  requestId: 'cmg-request-id',
  /** Gateway -> connection point on the control stream. */
  gatewayInstance: 'cmg-gateway-instance',
  /** On a refusal or failure: the stable error code (CONTRACT.md). */
  error: 'x-cmg-error',
} as const;

/** Codes the connection point answers with (`x-cmg-error`), in the gateway's `CMGService_...` family. */
export const ConnectorErrorCode = {
  internalRoleFailed: 'CMGService_InternalRoleFailed',
  notPublished: 'CMGService_NotFound',
  invalidTarget: 'CMGService_InvalidUrl',
} as const;

/** Client-supplied headers with these prefixes never cross the channel: they are the channel's own. */
export function isChannelHeader(lower: string): boolean {
  return lower.startsWith('cmg-') || lower.startsWith('x-cmg-');
}

/**
 * Flow-control windows decide bulk speed (FINDINGS.md: the 64 KB defaults
 * give about 120 MB/s; 1 MB per stream and 16-64 MB per session about
 * 200 MB/s, one direction at a time). A window is credit, not an allocation: memory is only held while
 * a reader is slower than its writer, and then by backpressure at most one
 * window per stream.
 */
export const STREAM_WINDOW = 1 << 20;
/**
 * No larger than a stream's window. With 32 MB, uploads and downloads at
 * once deadlocked the channel (test/e2e/faults.test.ts; plain Node shows it
 * too): Node's HTTP/2 session stops reading its socket while its own write
 * is pending, so when both ends may queue more than the socket buffers hold,
 * both wait for the other to read. With 1 MB, what either end has in flight
 * fits in the buffers. The price is throughput at a distance: at most 1 MB in
 * flight per channel, about 20 MB/s per channel at 50 ms round trip.
 */
export const SESSION_WINDOW = 1 << 20;

const settings: Settings = {
  initialWindowSize: STREAM_WINDOW,
  // Clients hold notification requests open: thousands of streams per channel.
  maxConcurrentStreams: 100_000,
  enablePush: false,
};

/** Both ends of a channel: thousands of open streams must not trip nghttp2's session memory guard. */
const common = {
  settings,
  maxSessionMemory: 512,
  maxOutstandingPings: 4,
  // Headers were bounded at the gateway's edge (maxHeaderBytes); the channel carries what passed.
  maxHeaderListPairs: 2_000,
} as const;

export const gatewaySessionOptions: ClientSessionOptions = { ...common };
export const connectorSessionOptions: ServerSessionOptions = { ...common };
