import { StringDecoder } from 'node:string_decoder';
import * as z from 'zod';
import { CHANNEL_PROTOCOL_VERSION } from './protocol.js';

/**
 * Messages the connection point sends on the control stream, one JSON object
 * per line. The gateway parses them strictly: a connection point is
 * authenticated, but a malformed manifest must end its channel, not the
 * gateway.
 */
const PATH_RULE = 'expected an absolute path without query, escapes, spaces, empty or dot segments';

const endpoint = z.strictObject({
  external: z
    .string()
    .max(1024)
    // As the connector's config accepts them: absolute, no query, no encoding, no empty, "." or ".." segments.
    .regex(/^(\/[^/?#%\\\s\p{Cc}]+)+$/u, PATH_RULE)
    .refine((v) => !v.split('/').some((seg) => seg === '.' || seg === '..'), PATH_RULE),
  maxContentLength: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
});

const manifest = z.strictObject({
  type: z.literal('manifest'),
  protocol: z.literal(CHANNEL_PROTOCOL_VERSION),
  /** Increases with each manifest of one connection point process; the gateway keeps the newest. */
  serial: z.number().int().min(0),
  software: z.string().max(200),
  heartbeatSeconds: z.number().int().min(1).max(60),
  endpoints: z.array(endpoint).max(10_000),
});

const drain = z.strictObject({ type: z.literal('drain'), reason: z.string().max(500) });

const message = z.discriminatedUnion('type', [manifest, drain]);

export type ControlMessage = z.output<typeof message>;
export type Manifest = z.output<typeof manifest>;
export type ManifestEndpoint = z.output<typeof endpoint>;

/** A manifest of ten thousand endpoints fits well within this. */
export const MAX_CONTROL_LINE = 4 << 20;

export function encodeControl(msg: ControlMessage): string {
  return `${JSON.stringify(msg)}\n`;
}

/** One line of the control stream, or why it cannot be accepted. */
export function parseControl(
  line: string,
): { ok: true; message: ControlMessage } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, reason: 'control message is not JSON' };
  }
  const parsed = message.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: `control message refused: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
    };
  }
  return { ok: true, message: parsed.data };
}

/**
 * Splits a byte stream into lines, refusing one longer than `max` (a peer
 * that never sends a newline must not grow the buffer without bound).
 */
export class LineSplitter {
  private pending = '';
  // A character split across two chunks must not be decoded as two halves.
  private readonly decoder = new StringDecoder('utf8');

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly max = MAX_CONTROL_LINE,
  ) {}

  /** Returns false when a line passed the limit (nothing more is delivered): the stream must be closed. */
  push(chunk: Buffer | string): boolean {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let nl = this.pending.indexOf('\n');
    while (nl !== -1) {
      if (nl > this.max) return false;
      const line = this.pending.slice(0, nl);
      this.pending = this.pending.slice(nl + 1);
      if (line.trim() !== '') this.onLine(line);
      nl = this.pending.indexOf('\n');
    }
    return this.pending.length <= this.max;
  }
}
