/**
 * Fault injection and measurement for the e2e reliability suites (faults,
 * resources): a TCP proxy that can silently stop forwarding (a network that
 * drops everything without closing anything), an internal role that breaks
 * its answers off on purpose, a client transfer that reports exactly how it
 * ended, a keep-alive load burst, and what /proc says about a daemon's file
 * descriptors and memory.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { createServer as createNetServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { createSecureContext, TLSSocket } from 'node:tls';
import { gatewayRequestOptions, type LabPki, SERVICE } from './cluster.js';

// ------------------------------------------------------------------ blackhole proxy

export interface BlackholeProxy {
  port: number;
  /** Connections accepted so far. */
  accepted(): number;
  /** Bytes read and thrown away while black-holed (both ways). */
  dropped(): number;
  /**
   * From now on no byte crosses, either way, on the connections open now and
   * on those accepted later, and nothing is closed (no FIN or RST is passed
   * on): both ends see a connection that is open and silent.
   */
  blackhole(): void;
  /** New connections are forwarded again (the black-holed ones stay as they are). */
  restore(): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
  holed: boolean;
}

/** A TCP proxy on 127.0.0.1 to `targetHost:targetPort`, piping bytes both ways until `blackhole()`. */
export async function startBlackholeProxy(
  targetPort: number,
  targetHost = '127.0.0.1',
): Promise<BlackholeProxy> {
  const pairs = new Set<Pair>();
  let holing = false;
  let accepted = 0;
  let dropped = 0;

  // While holed, bytes are still read (and dropped), so the sender sees no backpressure either.
  const relay = (pair: Pair, from: Socket, to: () => Socket | undefined) => {
    from.on('data', (chunk: Buffer) => {
      const dest = to();
      if (pair.holed || !dest) {
        dropped += chunk.length;
        return;
      }
      if (!dest.write(chunk)) {
        from.pause();
        dest.once('drain', () => from.resume());
      }
    });
    from.on('end', () => {
      if (!pair.holed) to()?.end();
    });
    from.on('close', () => {
      if (!pair.holed) to()?.destroy();
      if (pair.client.destroyed && (pair.upstream?.destroyed ?? true)) pairs.delete(pair);
    });
    from.on('error', () => undefined);
  };

  const server: Server = createNetServer({ allowHalfOpen: true }, (client) => {
    accepted++;
    const pair: Pair = { client, upstream: undefined, holed: holing };
    pairs.add(pair);
    relay(pair, client, () => pair.upstream);
    // Cut off: the far side is never reached, and the dialer's handshake gets no answer.
    if (pair.holed) return;
    client.pause();
    const upstream = netConnect({ port: targetPort, host: targetHost, allowHalfOpen: true });
    pair.upstream = upstream;
    relay(pair, upstream, () => client);
    upstream.once('connect', () => {
      if (!pair.holed) client.resume();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    accepted: () => accepted,
    dropped: () => dropped,
    blackhole: () => {
      holing = true;
      for (const p of pairs) {
        p.holed = true;
        p.client.resume();
        p.upstream?.resume();
      }
    },
    restore: () => {
      holing = false;
    },
    close: async () => {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream?.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ------------------------------------------------------------------ an internal role that fails on purpose

/** How the faulty role fails, by the last segment of the path it is asked for. */
export const Fault = {
  /** Reads the request, then closes the connection (FIN) without a byte of answer. */
  closeBeforeAnswer: 'close-before-answer',
  /** Reads the request, then resets the connection (TCP RST) without a byte of answer. */
  resetBeforeAnswer: 'reset-before-answer',
  /** `200` with `Content-Length: 1000000`, up to 300,000 bytes of it, then a TCP RST (which may discard the last ones). */
  resetMidContentLength: 'reset-mid-content-length',
  /** `200` chunked, 300,000 bytes in chunks, then a FIN without the last chunk. */
  closeMidChunked: 'close-mid-chunked',
  /** `200` chunked, 300,000 bytes in chunks, then a TCP RST. */
  resetMidChunked: 'reset-mid-chunked',
} as const;

export const FAULT_TOTAL = 1_000_000;
export const FAULT_SENT = 300_000;

export interface FaultyRole {
  url: string;
  /** Request lines received (`GET /path HTTP/1.1`). */
  seen: string[];
  close(): Promise<void>;
}

/**
 * An HTTPS internal role (the lab's `mp` certificate) that answers every
 * request with the failure its path names (see `Fault`). TLS is layered on a
 * plain TCP socket the role keeps, so it can send a real RST
 * (`resetAndDestroy`) under the TLS session.
 */
export async function startFaultyRole(pki: LabPki): Promise<FaultyRole> {
  const seen: string[] = [];
  const raws = new Set<Socket>();
  const secureContext = createSecureContext({ cert: pki.text('mp.pem'), key: pki.text('mp.key') });
  const server = createNetServer((raw) => {
    raws.add(raw);
    raw.on('close', () => raws.delete(raw));
    raw.on('error', () => undefined);
    const tls = new TLSSocket(raw, { isServer: true, secureContext });
    tls.on('error', () => undefined);
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      tls.off('data', onData);
      const line = head.slice(0, head.indexOf('\r\n'));
      seen.push(line);
      const path = line.split(' ')[1] ?? '';
      void fail(tls, raw, path.split('?')[0]?.split('/').pop() ?? '');
    };
    tls.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    url: `https://127.0.0.1:${port}`,
    seen,
    close: async () => {
      for (const r of raws) r.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const write = (tls: TLSSocket, data: string | Buffer) =>
  new Promise<void>((resolve) => tls.write(data, () => resolve()));

async function fail(tls: TLSSocket, raw: Socket, fault: string): Promise<void> {
  const body = Buffer.alloc(FAULT_SENT, 0x61);
  switch (fault) {
    case Fault.closeBeforeAnswer:
      tls.end();
      return;
    case Fault.resetBeforeAnswer:
      raw.resetAndDestroy();
      return;
    case Fault.resetMidContentLength:
      await write(
        tls,
        `HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${FAULT_TOTAL}\r\n\r\n`,
      );
      // In pieces, each handed to the socket before the next: the reset then cuts after all of them.
      for (let at = 0; at < body.length; at += 50_000) await write(tls, body.subarray(at, at + 50_000));
      raw.resetAndDestroy();
      return;
    case Fault.closeMidChunked:
    case Fault.resetMidChunked:
      await write(
        tls,
        'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n',
      );
      for (let at = 0; at < body.length; at += 50_000) {
        await write(tls, `${(50_000).toString(16)}\r\n`);
        await write(tls, body.subarray(at, at + 50_000));
        await write(tls, '\r\n');
      }
      if (fault === Fault.closeMidChunked) tls.end();
      else raw.resetAndDestroy();
      return;
    default:
      await write(tls, 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      tls.end();
  }
}

// ------------------------------------------------------------------ a client transfer, and how it ended

export type TransferKind =
  /** A whole answer arrived (whatever its status): check its status and hash. */
  | 'answered'
  /** The answer began and broke off: the client saw it incomplete (aborted / length not reached / no last chunk). */
  | 'cut'
  /** No answer: the connection failed before a status line (reset, refused, closed). */
  | 'connection-error'
  /** Nothing moved, either way, for `hangMs`: the client gave up. */
  | 'hung';

export interface TransferOutcome {
  kind: TransferKind;
  status?: number;
  /** The answer's `x-cmg-error`. */
  error?: string;
  /** The answer's Content-Length, when it had one. */
  contentLength?: number;
  /** Answer body bytes received, and their SHA-256. */
  bytes: number;
  sha256: string;
  /** The answer body when it was small (up to 64 KB), for JSON answers. */
  body: Buffer;
  /** Request body bytes handed to the socket. */
  sent: number;
  /** The client's error, when there was one (code and message). */
  message?: string;
  startedAt: number;
  endedAt: number;
}

export interface TransferRequest {
  port: number;
  method?: string;
  path: string;
  headers?: Record<string, string | number>;
  /** The request body, produced as it is sent. */
  body?: AsyncIterable<Buffer>;
  cert?: string;
  /** No byte either way for this long: the transfer is declared hung. */
  hangMs: number;
  /** Called with each answer chunk's length (progress across many transfers). */
  onBytes?: (n: number) => void;
}

/**
 * One HTTPS request to the gateway on its own connection, which never
 * rejects: it resolves with how the transfer ended. An incomplete answer is
 * told from a complete one by Node's own parser (`res.complete`: the
 * Content-Length reached, or the last chunk seen).
 */
export function transfer(pki: LabPki, r: TransferRequest): Promise<TransferOutcome> {
  return new Promise((resolve) => {
    const startedAt = Date.now();
    const hash = createHash('sha256');
    const kept: Buffer[] = [];
    let bytes = 0;
    let sent = 0;
    let status: number | undefined;
    let error: string | undefined;
    let contentLength: number | undefined;
    let settled = false;
    let hung = false;
    const finish = (kind: TransferKind, err?: Error & { code?: string }) => {
      if (settled) return;
      settled = true;
      resolve({
        kind,
        ...(status !== undefined ? { status } : {}),
        ...(error !== undefined ? { error } : {}),
        ...(contentLength !== undefined ? { contentLength } : {}),
        bytes,
        sha256: hash.digest('hex'),
        body: Buffer.concat(kept),
        sent,
        ...(err ? { message: `${err.code ?? ''} ${err.message}`.trim() } : {}),
        startedAt,
        endedAt: Date.now(),
      });
      req.destroy();
    };
    const req = httpsRequest(gatewayRequestOptions(pki, r, r.hangMs));
    req.on('timeout', () => {
      hung = true;
      req.destroy(new Error(`nothing moved for ${r.hangMs} ms`));
    });
    req.on('error', (err) => {
      if (hung) finish('hung', err);
      else if (status === undefined) finish('connection-error', err);
      else finish('cut', err);
    });
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      const code = res.headers['x-cmg-error'];
      if (typeof code === 'string') error = code;
      if (res.headers['content-length'] !== undefined) contentLength = Number(res.headers['content-length']);
      res.on('data', (c: Buffer) => {
        hash.update(c);
        if (bytes < 65536) kept.push(c);
        bytes += c.length;
        r.onBytes?.(c.length);
      });
      res.on('end', () => finish(res.complete ? 'answered' : 'cut'));
      res.on('error', (err) => finish(hung ? 'hung' : 'cut', err));
      res.on('close', () => finish(hung ? 'hung' : res.complete ? 'answered' : 'cut'));
    });
    const body = r.body;
    if (body === undefined) {
      req.end();
      return;
    }
    void (async () => {
      for await (const chunk of body) {
        if (settled || req.destroyed) return;
        sent += chunk.length;
        if (!req.write(chunk)) {
          await new Promise<void>((resume) => {
            const go = () => {
              req.off('drain', go);
              req.off('close', go);
              resume();
            };
            req.on('drain', go);
            req.on('close', go);
          });
        }
      }
      if (!settled && !req.destroyed) req.end();
    })().catch(() => undefined);
  });
}

// ------------------------------------------------------------------ keep-alive load

export interface BurstResult {
  statuses: Record<number, number>;
  /** Client errors, by message. */
  errors: Record<string, number>;
  ms: number;
  /** TLS connections the clients opened. */
  connections: number;
}

/**
 * `total` GETs of `path` from `clients` keep-alive clients (one connection
 * each, the client certificate presented), each client sending its next
 * request when its answer is read. The connections are closed at the end.
 */
export async function keepAliveBurst(
  pki: LabPki,
  o: { port: number; path: string; total: number; clients: number; cert?: string },
): Promise<BurstResult> {
  const agent = new Agent({
    keepAlive: true,
    maxSockets: o.clients,
    ca: pki.text('web-root.pem'),
    ...(o.cert ? { cert: pki.text(`${o.cert}.pem`), key: pki.text(`${o.cert}.key`) } : {}),
    servername: SERVICE,
  });
  let connections = 0;
  const statuses: Record<number, number> = {};
  const errors: Record<string, number> = {};
  let next = 0;
  const started = Date.now();
  const one = () =>
    new Promise<void>((resolve) => {
      const req = httpsRequest({
        host: '127.0.0.1',
        port: o.port,
        path: o.path,
        agent,
        servername: SERVICE,
        timeout: 15_000,
      });
      req.on('socket', (s) => {
        if (!(s as Socket & { counted?: boolean }).counted) {
          (s as Socket & { counted?: boolean }).counted = true;
          connections++;
        }
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 15 s')));
      req.on('error', (err) => {
        errors[err.message] = (errors[err.message] ?? 0) + 1;
        resolve();
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => {
          statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
          resolve();
        });
      });
      req.end();
    });
  const client = async () => {
    while (next < o.total) {
      next++;
      await one();
    }
  };
  try {
    await Promise.all(Array.from({ length: o.clients }, client));
  } finally {
    agent.destroy();
  }
  return { statuses, errors, ms: Date.now() - started, connections };
}

// ------------------------------------------------------------------ /proc

export interface ProcStats {
  fds: number;
  rssKb: number;
}

/** Open file descriptors (entries of /proc/PID/fd) and resident memory (VmRSS) of a process. */
export function procStats(pid: number): ProcStats {
  const fds = readdirSync(`/proc/${pid}/fd`).length;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!rss) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return { fds, rssKb: Number(rss[1]) };
}

/** What kinds of descriptors a process holds (socket, pipe, anon_inode:[eventpoll], files...), for messages. */
export function fdKinds(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const kind = target.replace(/:\[\d+\]$/, '').replace(/^\/.*/, 'file');
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}
