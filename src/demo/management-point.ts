import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { attachFramedConnection, clientSocketOf, takeFramedRequest } from '../gateway/framed-connection.js';

/** What the stand-in saw of one request (tests assert on it: a refused request must never appear here). */
export interface SeenRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  bodyBytes: number;
  bodySha256: string;
  /** False when the request body broke off (the proxy aborted it). */
  complete: boolean;
}

export interface StandInOptions {
  cert: string;
  key: string;
  host?: string;
  port?: number;
}

export interface StandInMp {
  url: string;
  port: number;
  requests: SeenRequest[];
  /** Answers to `stall` and `headers-then-stall` still open: a cancelled request closes its own. */
  stalledOpen(): number;
  close(): Promise<void>;
}

/** Deterministic content: byte i is (i * 31 + 7) mod 251, so any range can be checked without storing it. */
export function contentByte(i: number): number {
  return (i * 31 + 7) % 251;
}

/** The pattern repeats every 251 bytes: one period (plus a chunk) precomputed, slices are copies. */
const PERIOD = 251;
const PATTERN = Buffer.from(Array.from({ length: PERIOD * 262 }, (_, i) => contentByte(i)));

export function contentSlice(start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  let at = 0;
  while (at < out.length) {
    const from = (start + at) % PERIOD;
    const n = Math.min(out.length - at, PATTERN.length - from);
    PATTERN.copy(out, at, from, from + n);
    at += n;
  }
  return out;
}

const MPLIST = `<MPList><MP Name="MP01.CORP.CONTOSO.COM" FQDN="mp01.corp.contoso.com"><Version>9135</Version><Capabilities SchemaVersion="1.0"><Property Name="SSLState" Value="63"/></Capabilities></MP></MPList>`;

/**
 * A stand-in for a management point, answering like one where the gateway's
 * behaviour depends on it: `GET /SMS_MP/.sms_aut?MPLIST`, `CCM_POST` to
 * `/ccm_system/request`, content downloads with `Range`. It speaks HTTPS and,
 * like IIS, accepts ConfigMgr's verbs (through the same framer the gateway
 * uses, since Node's parser refuses them). Test-only paths under `/CCM_System/`:
 * `echo` (what arrived), `hold?ms=N`, `stall` (never answers), `partial`
 * (answer breaks off), `duplicate-header` (two Content-Type headers), `headers-then-stall`.
 */
export async function startStandInMp(options: StandInOptions): Promise<StandInMp> {
  const requests: SeenRequest[] = [];
  const http = createHttpServer({ maxHeaderSize: 65536 }, (req, res) => void handle(req, res));
  const stalled = new Set<ServerResponse>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const entry = takeFramedRequest(req);
    if (!entry) return;
    const hash = createHash('sha256');
    let bytes = 0;
    let complete = true;
    try {
      for await (const chunk of req) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
    } catch {
      complete = false;
    }
    if (req.readableAborted) complete = false;
    const seen: SeenRequest = {
      method: entry.method,
      url: entry.target,
      headers: { ...req.headers },
      bodyBytes: bytes,
      bodySha256: hash.digest('hex'),
      complete,
    };
    requests.push(seen);
    if (!complete) return;
    const url = new URL(entry.target, 'https://mp');
    const path = url.pathname.toLowerCase();
    if (path === '/sms_mp/.sms_aut' && url.search.toUpperCase().includes('MPLIST')) {
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(MPLIST);
    } else if (path === '/ccm_system/request' && entry.method === 'CCM_POST') {
      const reply = `<ReplyMessage><Sha256>${seen.bodySha256}</Sha256><Bytes>${bytes}</Bytes></ReplyMessage>`;
      res.writeHead(200, { 'content-type': 'multipart/mixed; boundary="aAbBcCdDv1234567890VxXyYzZ"' });
      res.end(reply);
    } else if (path.startsWith('/ccm_client/content/')) {
      serveContent(req, res, Number(path.split('/').pop()));
    } else if (path === '/ccm_system/echo' || path.startsWith('/ccm_system/echo/')) {
      const body = JSON.stringify(seen);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(entry.method === 'HEAD' ? undefined : body);
    } else if (path === '/ccm_system/hold') {
      const ms = Number(url.searchParams.get('ms') ?? '1000');
      const t = setTimeout(() => res.end('held'), ms);
      res.on('close', () => clearTimeout(t));
    } else if (path === '/ccm_system/stall') {
      stall(req, res);
    } else if (path === '/ccm_system/headers-then-stall') {
      res.writeHead(200, { 'content-length': 1000 });
      res.write('x');
      stall(req, res);
    } else if (path === '/ccm_system/duplicate-header') {
      // Not something IIS sends, but an internal role may: HTTP/2 cannot carry it.
      res.setHeader('content-type', ['text/plain', 'text/html']);
      res.end('two content types');
    } else if (path === '/ccm_system/partial') {
      res.writeHead(200, { 'content-length': 1_000_000 });
      res.write(contentSlice(0, 100_000), () => res.destroy());
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found on the stand-in management point\n');
    }
  }

  /**
   * An answer that never comes. The connection is half-open (pipelined requests stay answerable
   * after the client's FIN), so Node alone would notice a cancelled request only at its next
   * write; like IIS, the stand-in drops the request as soon as the client closes its side.
   */
  function stall(req: IncomingMessage, res: ServerResponse): void {
    stalled.add(res);
    const raw = clientSocketOf(req);
    const gone = () => res.destroy();
    raw?.once('end', gone);
    res.on('close', () => {
      stalled.delete(res);
      raw?.off('end', gone);
    });
  }

  function serveContent(req: IncomingMessage, res: ServerResponse, size: number): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > 2 ** 34) {
      res.writeHead(400).end();
      return;
    }
    let start = 0;
    let end = size;
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(size, Number(range[2]) + 1) : size;
      if (start >= end) {
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      res.writeHead(206, {
        'content-range': `bytes ${start}-${end - 1}/${size}`,
        'content-length': end - start,
      });
    } else {
      res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' });
    }
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    let at = start;
    const pump = () => {
      while (at < end) {
        const next = Math.min(end, at + 65536);
        const ok = res.write(contentSlice(at, next));
        at = next;
        if (!ok) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  }

  const tls = createTlsServer({ cert: options.cert, key: options.key, allowHalfOpen: true }, (socket) => {
    socket.on('error', () => undefined);
    attachFramedConnection(http, socket, {
      maxHeaderBytes: 65536,
      maxUrlLength: 65536,
      headTimeoutMs: 30_000,
    });
  });
  tls.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(tls, 'listening');
  const port = (tls.address() as AddressInfo).port;
  return {
    url: `https://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    requests,
    stalledOpen: () => stalled.size,
    close: async () => {
      for (const res of stalled) res.destroy();
      tls.close();
      await new Promise((r) => setTimeout(r, 0));
    },
  };
}
