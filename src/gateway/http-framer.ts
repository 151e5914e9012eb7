import { METHODS } from 'node:http';
import type { Refused } from './refusals.js';

/**
 * Node's HTTP parser (llhttp) has a fixed method list: it answers `400` to
 * ConfigMgr's `CCM_POST` and `BITS_POST` before any handler runs. The framer
 * sits between the client's socket and that parser. It frames every HTTP/1.1
 * message itself (chunked, else Content-Length, else no body), forwards each
 * head re-serialised from what it parsed (so the two parsers cannot read the
 * bytes differently) with only an extension method's name replaced by `POST`,
 * and queues the original method and target for the request handler, which
 * takes one entry per request and checks the target matches.
 *
 * It is deliberately stricter than llhttp: CL with TE, several CLs, any TE
 * other than exactly `chunked`, bare CR or LF, obs-fold, space before a colon,
 * control characters, quoted chunk extensions, a missing Host, an unsupported
 * Expect. A refused head becomes a synthetic request, queued with its refusal
 * and answered in order after the requests before it; nothing more is read on
 * that connection. A violation inside a body that is already being forwarded
 * cannot be answered in order: the framer stops and the connection is aborted,
 * so the internal role sees a broken request, never a complete one.
 */
export interface FramedRequest {
  /** The method as the client sent it (CCM_POST), whatever llhttp was given. */
  method: string;
  target: string;
  /** Set on the synthetic request that stands for a refused head. */
  refusal?: Refused;
}

export interface FramerLimits {
  /** Request line and headers together, CRLFs included. */
  maxHeaderBytes: number;
  maxUrlLength: number;
}

export interface FramerSink {
  /** Bytes for Node's HTTP parser. */
  forward(chunk: Buffer): void;
  /** A request head was forwarded (or a synthetic one for a refusal); its entry is queued. */
  request?(entry: FramedRequest): void;
  /** Nothing more will be forwarded: end the parser's input after what was sent. */
  end(): void;
  /** A body being forwarded broke its framing: the connection must be destroyed now. */
  abort(reason: string): void;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const NODE_METHODS = new Set(METHODS);
/** ConfigMgr's own verbs, carried as POST through llhttp. */
export const EXTENSION_METHODS = new Set(['CCM_POST', 'BITS_POST']);
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
const SYNTHETIC_TARGET = '/.cmg-refused';
/** Node's HTTP server reads no more than this many headers (its maxHeadersCount). */
export const MAX_HEADERS = 2000;
const MAX_EMPTY_LINES = 1;

/** 'LF' or 'CR' when the bytes hold a line end that is not CRLF, else undefined. */
function bareLineEnd(bytes: Buffer, from: number): 'LF' | 'CR' | undefined {
  for (let i = bytes.indexOf(0x0a, from); i !== -1; i = bytes.indexOf(0x0a, i + 1)) {
    if (i === 0 || bytes[i - 1] !== 0x0d) return 'LF';
  }
  for (let i = bytes.indexOf(0x0d, from); i !== -1; i = bytes.indexOf(0x0d, i + 1)) {
    if (i + 1 < bytes.length && bytes[i + 1] !== 0x0a) return 'CR';
  }
  return undefined;
}

type State =
  | { kind: 'head' }
  | { kind: 'body'; remaining: number }
  | { kind: 'chunk-size' }
  | { kind: 'chunk-data'; remaining: number }
  | { kind: 'chunk-crlf' }
  | { kind: 'trailers' }
  | { kind: 'closed' };

export class HttpFramer {
  readonly queue: FramedRequest[] = [];
  private state: State = { kind: 'head' };
  private pending: Buffer = Buffer.alloc(0);
  private emptyLines = 0;
  /** How much of an unfinished head was already checked for bare CR or LF. */
  private headScanned = 0;

  constructor(
    private readonly limits: FramerLimits,
    private readonly sink: FramerSink,
  ) {}

  /** True while part of a head has arrived and the rest has not: what a head timeout watches. */
  get awaitingHead(): boolean {
    return this.state.kind === 'head' && this.pending.length > 0;
  }

  get closed(): boolean {
    return this.state.kind === 'closed';
  }

  /** Bytes from the client. */
  push(chunk: Buffer): void {
    if (this.state.kind === 'closed') return;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (!this.closed && this.step()) {
      // each step consumes from `pending`
    }
  }

  /** The client ended its side: a message cut short is a broken request. */
  finish(): void {
    if (this.state.kind === 'closed') return;
    const midMessage = this.state.kind !== 'head';
    this.state = { kind: 'closed' };
    if (midMessage) this.sink.abort('the client closed the connection in the middle of a request body');
    else this.sink.end();
  }

  /** One unit of progress; false when more bytes are needed. */
  private step(): boolean {
    switch (this.state.kind) {
      case 'head':
        return this.head();
      case 'body': {
        const left = this.forwardBody(this.state.remaining);
        if (left === undefined) return false;
        this.state = left === 0 ? { kind: 'head' } : { kind: 'body', remaining: left };
        return true;
      }
      case 'chunk-size':
        return this.chunkSize();
      case 'chunk-data': {
        const left = this.forwardBody(this.state.remaining);
        if (left === undefined) return false;
        this.state = left === 0 ? { kind: 'chunk-crlf' } : { kind: 'chunk-data', remaining: left };
        return true;
      }
      case 'chunk-crlf': {
        if (this.pending.length < 2) return false;
        if (this.pending[0] !== 0x0d || this.pending[1] !== 0x0a)
          return this.broken('chunk data not followed by CRLF');
        this.sink.forward(CRLF);
        this.pending = this.pending.subarray(2);
        this.state = { kind: 'chunk-size' };
        return true;
      }
      case 'trailers':
        return this.trailers();
      default:
        return false;
    }
  }

  /** Forwards up to `remaining` body bytes as they are; the bytes still owed, or undefined when none arrived. */
  private forwardBody(remaining: number): number | undefined {
    if (this.pending.length === 0) return undefined;
    const n = Math.min(remaining, this.pending.length);
    this.sink.forward(this.pending.subarray(0, n));
    this.pending = this.pending.subarray(n);
    return remaining - n;
  }

  private head(): boolean {
    // One empty line before a request line is tolerated (RFC 9112 2.2) and dropped. More are refused:
    // a client sending nothing but empty lines would otherwise hold the connection, no head deadline armed.
    while (this.pending.length >= 2 && this.pending[0] === 0x0d && this.pending[1] === 0x0a) {
      if (++this.emptyLines > MAX_EMPTY_LINES)
        return this.refuse('badRequest', 'empty lines instead of a request line');
      this.pending = this.pending.subarray(2);
      this.headScanned = 0;
    }
    if (this.pending.length === 0) return false;
    const end = this.pending.indexOf(HEAD_END);
    if (end === -1) {
      // A head with bare LF (or CR) line endings never shows CRLFCRLF: refuse it now, not at the head deadline.
      // Only what arrived since the last look (less one byte: a CR may have been waiting for its LF),
      // so a head sent a byte at a time costs no more than one sent at once.
      const bare = bareLineEnd(this.pending, Math.max(0, this.headScanned - 1));
      if (bare) return this.refuse('badRequest', `bare ${bare} in the request head`);
      this.headScanned = this.pending.length;
      if (this.pending.length > this.limits.maxHeaderBytes) {
        return this.refuse('headersTooLarge', `request head over ${this.limits.maxHeaderBytes} bytes`);
      }
      return false;
    }
    this.emptyLines = 0;
    this.headScanned = 0;
    if (end + 4 > this.limits.maxHeaderBytes) {
      return this.refuse(
        'headersTooLarge',
        `request head of ${end + 4} bytes; the limit is ${this.limits.maxHeaderBytes}`,
      );
    }
    const text = this.pending.subarray(0, end).toString('latin1');
    this.pending = this.pending.subarray(end + 4);
    if (/[\r\n]/.test(text.replaceAll('\r\n', '')))
      return this.refuse('badRequest', 'bare CR or LF in the request head');
    const [requestLine = '', ...lines] = text.split('\r\n');

    const m = /^([^ ]+) ([^ ]+) HTTP\/1\.([01])$/.exec(requestLine);
    if (!m) return this.refuse('badRequest', 'malformed request line');
    const [, method = '', target = '', minor = '1'] = m;
    if (!TOKEN.test(method)) return this.refuse('badRequest', 'malformed method');
    const extension = EXTENSION_METHODS.has(method);
    // Node's server hands CONNECT to an upgrade path that drops the connection unanswered; the gateway
    // is no forward proxy.
    if (method === 'CONNECT')
      return this.refuse('badRequest', 'CONNECT is not supported (the gateway is not a proxy)');
    if (!extension && !NODE_METHODS.has(method))
      return this.refuse('badRequest', `unsupported method ${method}`);
    if (target.length > this.limits.maxUrlLength) {
      return this.refuse(
        'urlTooLong',
        `URL of ${target.length} characters; the limit is ${this.limits.maxUrlLength}`,
      );
    }
    // Only visible ASCII in a request target (RFC 9112 3.2): llhttp would refuse the rest with a bare 400, unlogged.
    const bad = /[^\x21-\x7e]/.exec(target);
    if (bad) {
      return this.refuse(
        'invalidUrl',
        `raw byte 0x${bad[0].charCodeAt(0).toString(16)} in the request target`,
      );
    }

    const out: string[] = [];
    const contentLengths: string[] = [];
    const transferEncodings: string[] = [];
    let hosts = 0;
    let expect: string | undefined;
    // Node's parser keeps only the first 2,000 headers: a Content-Length after them would be read by
    // us and not by it, and the body taken for the next request.
    if (lines.length > MAX_HEADERS)
      return this.refuse('headersTooLarge', `${lines.length} header lines; the limit is ${MAX_HEADERS}`);
    for (const line of lines) {
      const header = parseHeaderLine(line);
      if (typeof header === 'string') return this.refuse('badRequest', header);
      const lower = header.name.toLowerCase();
      if (lower === 'content-length') contentLengths.push(header.value);
      else if (lower === 'transfer-encoding') transferEncodings.push(header.value);
      else if (lower === 'host') hosts++;
      else if (lower === 'expect') expect = header.value.toLowerCase();
      out.push(`${header.name}: ${header.value}`);
    }
    if (minor === '1' && hosts !== 1)
      return this.refuse('badRequest', hosts === 0 ? 'no Host header' : 'several Host headers');
    if (hosts > 1) return this.refuse('badRequest', 'several Host headers');
    // Node answers any other expectation itself (417) without a request event, which would desynchronise the queue.
    if (expect !== undefined && expect !== '100-continue')
      return this.refuse('badRequest', `unsupported Expect: ${expect}`);
    // RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding is suspect (a 1.0 intermediary would not
    // have decoded it); the original server would have to close after it. Refused outright.
    if (minor === '0' && transferEncodings.length > 0)
      return this.refuse('badRequest', 'Transfer-Encoding in an HTTP/1.0 request');
    if (contentLengths.length > 0 && transferEncodings.length > 0) {
      return this.refuse('ambiguousLength', 'both Content-Length and Transfer-Encoding');
    }
    if (contentLengths.length > 1) return this.refuse('ambiguousLength', 'several Content-Length headers');
    if (
      transferEncodings.length > 1 ||
      (transferEncodings.length === 1 && transferEncodings[0]?.toLowerCase() !== 'chunked')
    ) {
      return this.refuse('badRequest', `unsupported Transfer-Encoding: ${transferEncodings.join(', ')}`);
    }
    let bodyLength = 0;
    if (contentLengths.length === 1) {
      const cl = contentLengths[0] ?? '';
      if (!/^\d{1,15}$/.test(cl)) return this.refuse('badRequest', `invalid Content-Length: ${cl}`);
      bodyLength = Number(cl);
    }

    const entry: FramedRequest = { method, target };
    this.queue.push(entry);
    this.sink.forward(
      Buffer.from(
        `${extension ? 'POST' : method} ${target} HTTP/1.${minor}\r\n${out.map((l) => `${l}\r\n`).join('')}\r\n`,
        'latin1',
      ),
    );
    this.sink.request?.(entry);
    if (transferEncodings.length === 1) this.state = { kind: 'chunk-size' };
    else if (bodyLength > 0) this.state = { kind: 'body', remaining: bodyLength };
    else this.state = { kind: 'head' };
    return true;
  }

  private chunkSize(): boolean {
    const eol = this.pending.indexOf(CRLF);
    if (eol === -1) {
      if (this.pending.length > 1024) return this.broken('chunk size line too long');
      return false;
    }
    const line = this.pending.subarray(0, eol).toString('latin1');
    // Extensions are tokens only; a quoted value is a known smuggling vector between parsers.
    const m =
      /^([0-9A-Fa-f]{1,15})((?:;[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:=[!#$%&'*+\-.^_`|~0-9A-Za-z]+)?)*)$/.exec(
        line,
      );
    if (!m) return this.broken(`malformed chunk size line: ${JSON.stringify(line.slice(0, 40))}`);
    const size = Number.parseInt(m[1] ?? '0', 16);
    this.sink.forward(this.pending.subarray(0, eol + 2));
    this.pending = this.pending.subarray(eol + 2);
    this.state = size === 0 ? { kind: 'trailers' } : { kind: 'chunk-data', remaining: size };
    return true;
  }

  private trailers(): boolean {
    const eol = this.pending.indexOf(CRLF);
    if (eol === -1) {
      if (this.pending.length > this.limits.maxHeaderBytes) return this.broken('trailers too large');
      return false;
    }
    if (eol === 0) {
      this.sink.forward(CRLF);
      this.pending = this.pending.subarray(2);
      this.state = { kind: 'head' };
      return true;
    }
    const line = this.pending.subarray(0, eol).toString('latin1');
    const header = parseHeaderLine(line);
    if (typeof header === 'string') return this.broken(`trailer: ${header}`);
    const lower = header.name.toLowerCase();
    if (lower === 'content-length' || lower === 'transfer-encoding' || lower === 'host') {
      return this.broken(`trailer ${header.name} is not allowed`);
    }
    this.sink.forward(Buffer.from(`${header.name}: ${header.value}\r\n`, 'latin1'));
    this.pending = this.pending.subarray(eol + 2);
    return true;
  }

  /** A refused head: a synthetic request carries the refusal through the parser, in order; then nothing more. */
  private refuse(refused: Refused['refused'], reason: string): boolean {
    const entry: FramedRequest = { method: 'GET', target: SYNTHETIC_TARGET, refusal: { refused, reason } };
    this.queue.push(entry);
    this.sink.forward(
      Buffer.from(`GET ${SYNTHETIC_TARGET} HTTP/1.1\r\nHost: cmg\r\nConnection: close\r\n\r\n`, 'latin1'),
    );
    this.sink.request?.(entry);
    this.state = { kind: 'closed' };
    this.pending = Buffer.alloc(0);
    this.sink.end();
    return false;
  }

  /** A body already being forwarded broke its framing: abort, so no complete request can come of it. */
  private broken(reason: string): boolean {
    this.state = { kind: 'closed' };
    this.pending = Buffer.alloc(0);
    this.sink.abort(reason);
    return false;
  }
}

/** `Name: value` strictly: a token name, no space before the colon, no obs-fold, no control characters. */
function parseHeaderLine(line: string): { name: string; value: string } | string {
  if (line.startsWith(' ') || line.startsWith('\t')) return 'obsolete line folding in a header';
  const colon = line.indexOf(':');
  if (colon <= 0) return 'malformed header line';
  const name = line.slice(0, colon);
  if (!TOKEN.test(name)) return `malformed header name ${JSON.stringify(name.slice(0, 40))}`;
  const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) return `control character in header ${name}`;
  return { name, value };
}
