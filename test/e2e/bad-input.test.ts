/**
 * Hostile input, end to end: request smuggling, header syntax, request-target
 * forms and URL encodings sent as raw bytes over mTLS (with the lab's good
 * client certificate, so authentication is never what refuses them) to a real
 * `cmg serve`, with a real `cmg connect` and the stand-in management point
 * behind it. Every case says what the gateway must answer (CONTRACT.md,
 * README "Answers the gateway gives"), whether it must close the connection,
 * and proves from the management point's own record (`mp.requests`) that
 * nothing refused, and no request hidden inside another, ever reached it.
 *
 * Markers: a case's own request targets `.../echo/atk-<id>...`; a request
 * smuggled inside it targets `.../echo/smuggled-<id>`; after every case a
 * valid follow-up `.../echo/ok-<id>` is written in the same write. When the
 * gateway must close (a framing refusal), the follow-up must never be
 * answered nor reach the management point; when it must not (a URL refusal),
 * the follow-up is answered in order.
 */
import type { TLSSocket } from 'node:tls';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { SeenRequest, StandInMp } from '../../src/demo/management-point.js';
import {
  clientRequest,
  type Daemon,
  killAll,
  type LabPki,
  MP_BASE,
  makeLabPki,
  rawConnection,
  SERVICE,
  startGatewayWithConnector,
  startMp,
  tempLabDir,
} from '../helpers/cluster.js';

const test = suite('bad input (e2e)');

const LIMITS = {
  maxUrlLength: 1024,
  maxHeaderBytes: 16384,
  headersTimeoutMs: 1000,
  idleTimeoutMs: 1500,
  requestTimeoutMs: 3000,
};

interface World {
  pki: LabPki;
  mp: StandInMp;
  gateway: Daemon;
  port: number;
  remove(): void;
}
let w: World;

test.before(async () => {
  const tmp = tempLabDir('cmg-e2e-bad-input-');
  const pki = await makeLabPki(tmp.dir);
  const mp = await startMp(pki);
  const { gateway, ports } = await startGatewayWithConnector(pki, mp, {
    gateway: { limits: LIMITS },
    connector: { endpoints: [{ external: `${MP_BASE}/CCM_System`, internal: `${mp.url}/CCM_System` }] },
  });
  w = { pki, mp, gateway, port: ports.listen, remove: tmp.remove };
});

test.after(async () => {
  await killAll();
  await w?.mp.close();
  w?.remove();
});

// ------------------------------------------------------------------ bytes on the wire

const H = `Host: ${SERVICE}\r\n`;
const E = `${MP_BASE}/CCM_System/echo`;
const atk = (id: string, rest = '') => `${E}/atk-${id}${rest}`;
const smuggled = (id: string) => `GET ${E}/smuggled-${id} HTTP/1.1\r\n${H}\r\n`;
const followUp = (id: string) => `GET ${E}/ok-${id} HTTP/1.1\r\n${H}\r\n`;
/** Case ids all have the same length (a letter and three digits), so the markers' lengths are known. */
const SMUGGLED_LEN = () => smuggled('x000').length;
/** A chunked body holding `data` in one chunk. */
const chunked = (data: string) => `${Buffer.byteLength(data, 'latin1').toString(16)}\r\n${data}\r\n0\r\n\r\n`;

const CODE = {
  bad: 'CMGService_BadRequest',
  url: 'CMGService_InvalidUrl',
  ambiguous: 'CMGService_AmbiguousContentLength',
  long: 'CMGService_UrlTooLong',
  big: 'CMGService_HeadersTooLarge',
  notFound: 'CMGService_NotFound',
} as const;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The complete HTTP/1.1 answers in a byte stream (Content-Length or chunked bodies; 1xx skipped). */
function parseAnswers(text: string): Answer[] {
  const out: Answer[] = [];
  let at = 0;
  for (;;) {
    const headEnd = text.indexOf('\r\n\r\n', at);
    if (headEnd === -1) return out;
    const [statusLine = '', ...lines] = text.slice(at, headEnd).split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    if (!m) {
      out.push({ status: -1, headers: {}, body: text.slice(at, at + 200) });
      return out;
    }
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    let next = headEnd + 4;
    let body = '';
    if (status >= 100 && status < 200) {
      at = next;
      continue;
    }
    if (status !== 204 && status !== 304) {
      if (headers['content-length'] !== undefined) {
        const n = Number(headers['content-length']);
        if (text.length < next + n) return out;
        body = text.slice(next, next + n);
        next += n;
      } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
        for (;;) {
          const eol = text.indexOf('\r\n', next);
          if (eol === -1) return out;
          const size = Number.parseInt(text.slice(next, eol), 16);
          if (text.length < eol + 2 + size + 2) return out;
          body += text.slice(eol + 2, eol + 2 + size);
          next = eol + 2 + size + 2;
          if (size === 0) break;
        }
      } else {
        return out; // read until close: never complete here
      }
    }
    out.push({ status, headers, body });
    at = next;
  }
}

interface Exchange {
  answers: Answer[];
  /** The gateway ended or closed the connection before we let go of it. */
  closedByGateway: boolean;
  ms: number;
  text: string;
}

/**
 * Writes `bytes` in one write on a new mTLS connection and reads until the
 * gateway closes it, or `want` answers have come (then a short grace, so an
 * answer too many is seen too), or `deadlineMs` passes.
 */
async function exchange(bytes: string | Buffer, want: number, deadlineMs = 3000): Promise<Exchange> {
  const socket = await rawConnection(w.pki, w.port, 'client');
  socket.on('error', () => undefined);
  const started = Date.now();
  let text = '';
  let closedByGateway = false;
  await new Promise<void>((resolve) => {
    let grace: NodeJS.Timeout | undefined;
    const deadline = setTimeout(done, deadlineMs);
    function done() {
      clearTimeout(deadline);
      clearTimeout(grace);
      resolve();
    }
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      if (!grace && parseAnswers(text).length >= want) grace = setTimeout(done, 150);
    });
    const closed = () => {
      closedByGateway = true;
      done();
    };
    socket.once('end', closed);
    socket.once('close', closed);
    socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  });
  const ms = Date.now() - started;
  socket.destroy();
  return { answers: parseAnswers(text), closedByGateway, ms, text };
}

// ------------------------------------------------------------------ the corpus

interface Case {
  name: string;
  /** The attack's bytes; the follow-up request is appended by the runner. */
  send(id: string): string;
  /** The gateway's answer to it: status(es) allowed (0: the connection cut, no answer), and the x-cmg-error code(s) for a refusal. */
  status: number | number[];
  code?: string | string[];
  /** true: the gateway must close after its answer; false: keep the connection in step; undefined: either. */
  closes: boolean | undefined;
  /** How often the management point may see the case's own request (default 0); 'any' when it may be served. */
  reaches?: number | 'any';
  /** Its body as the management point must see it, when it reaches it. */
  bodyBytes?: number;
  /** Nothing written after it (no follow-up): for heads whose end only a later request's CRLFs would mark. */
  alone?: boolean;
  /** More checks, given the answers and what the management point saw of this case. */
  check?(answers: Answer[], seen: SeenRequest[]): string[];
}

const list = (v: number | string | (number | string)[]) => (Array.isArray(v) ? v : [v]);

/** Runs every case at once (one connection each) and returns what went wrong, case by case. */
async function runCases(prefix: string, cases: Case[]): Promise<string[]> {
  const before = w.mp.requests.length;
  const results = await Promise.all(
    cases.map(async (c, i) => {
      const id = `${prefix}${String(i).padStart(3, '0')}`;
      const bytes = c.send(id) + (c.alone ? '' : followUp(id));
      const x = await exchange(bytes, c.closes === true ? 1 : 2);
      return { c, id, x };
    }),
  );
  // Whatever the gateway forwarded has reached the management point by now; let stragglers land.
  await new Promise((r) => setTimeout(r, 200));
  const seenAll = w.mp.requests.slice(before);
  const failures: string[] = [];
  let expectedAtMp = 0;
  for (const { c, id, x } of results) {
    const problems: string[] = [];
    const mine = seenAll.filter((r) => r.url.includes(`/atk-${id}`));
    const sm = seenAll.filter((r) => r.url.includes(`/smuggled-${id}`));
    const ok = seenAll.filter((r) => r.url.endsWith(`/ok-${id}`));
    const first = x.answers[0];
    if (!first) {
      if (!list(c.status).includes(0) || !x.closedByGateway)
        problems.push(
          `no answer at all (connection ${x.closedByGateway ? `closed by the gateway after ${x.ms} ms` : 'left open'})`,
        );
    } else {
      if (!list(c.status).includes(first.status))
        problems.push(`status ${first.status}, expected ${c.status}`);
      if (first.status >= 400 && c.code !== undefined) {
        const got = first.headers['x-cmg-error'];
        if (!list(c.code).includes(got ?? '')) problems.push(`x-cmg-error ${got}, expected ${c.code}`);
      }
      if (first.status === 101) problems.push('the gateway switched protocols');
    }
    const servedFollowUp = x.answers.length >= 2;
    if (c.closes === true || (c.closes === undefined && !servedFollowUp)) {
      if (x.answers.length > 1)
        problems.push(`${x.answers.length} answers; nothing after the refusal may be read`);
      if (!x.closedByGateway) problems.push(`connection still open ${x.ms} ms after the refusal`);
      if (ok.length > 0)
        problems.push('the follow-up request written after the refusal reached the management point');
    } else {
      if (x.answers.length !== 2) {
        problems.push(
          `${x.answers.length} answers (${x.answers.map((a) => a.status)}), expected this one and the follow-up's`,
        );
      } else if (x.answers[1]?.status !== 200 || !x.answers[1]?.body.includes(`/ok-${id}"`)) {
        problems.push(
          `the follow-up was answered ${x.answers[1]?.status}: ${x.answers[1]?.body.slice(0, 100)}`,
        );
      }
      if (ok.length !== 1) problems.push(`the follow-up reached the management point ${ok.length} times`);
      expectedAtMp += 1;
    }
    if (sm.length > 0)
      problems.push(`SMUGGLED request reached the management point: ${sm[0]?.method} ${sm[0]?.url}`);
    const reaches = c.reaches ?? 0;
    if (reaches !== 'any' && mine.length !== reaches) {
      problems.push(
        `the management point saw it ${mine.length} times (expected ${reaches}): ${mine.map((r) => `${r.method} ${r.url} ${r.bodyBytes}B`)}`,
      );
    }
    if (reaches === 'any') expectedAtMp += mine.length;
    else expectedAtMp += reaches;
    if (c.bodyBytes !== undefined) {
      for (const r of mine)
        if (r.bodyBytes !== c.bodyBytes || !r.complete)
          problems.push(`the management point saw a body of ${r.bodyBytes} bytes, expected ${c.bodyBytes}`);
    }
    if (c.check) problems.push(...c.check(x.answers, mine));
    if (problems.length > 0) failures.push(`[${id}] ${c.name}: ${problems.join('; ')}`);
  }
  if (seenAll.length !== expectedAtMp) {
    failures.push(
      `the management point saw ${seenAll.length} requests, expected ${expectedAtMp}: ${seenAll.map((r) => r.url).join(', ')}`,
    );
  }
  return failures;
}

async function runGroup(prefix: string, cases: Case[]): Promise<void> {
  const failures = await runCases(prefix, cases);
  assert.ok(failures.length === 0, `\n${failures.join('\n')}\n`);
}

// Request smuggling: Content-Length against Transfer-Encoding, and every obfuscation of TE.
const SMUGGLING: Case[] = [
  {
    name: 'CL.TE: Content-Length covers a smuggled request after a zero chunk',
    send: (id) => {
      const body = `0\r\n\r\n${smuggled(id)}`;
      return `POST ${atk(id)} HTTP/1.1\r\n${H}Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`;
    },
    status: 400,
    code: CODE.ambiguous,
    closes: true,
  },
  {
    name: 'TE.CL: the chunk holds a smuggled request, Content-Length stops before it',
    send: (id) =>
      `POST ${atk(id)} HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n${chunked(smuggled(id))}`,
    status: 400,
    code: CODE.ambiguous,
    closes: true,
  },
  {
    name: 'CL.TE with TE listed first and lower-case names',
    send: (id) =>
      `POST ${atk(id)} HTTP/1.1\r\n${H}transfer-encoding: chunked\r\ncontent-length: 5\r\n\r\n0\r\n\r\n${smuggled(id)}`,
    status: 400,
    code: CODE.ambiguous,
    closes: true,
  },
  {
    name: 'CL.TE with TE in odd casing (tRANSFER-eNCODING)',
    send: (id) =>
      `POST ${atk(id)} HTTP/1.1\r\n${H}Content-Length: 5\r\ntRANSFER-eNCODING: chunked\r\n\r\n0\r\n\r\n${smuggled(id)}`,
    status: 400,
    code: CODE.ambiguous,
    closes: true,
  },
  {
    name: 'CL.TE with Content-Length: 0 and a non-empty chunked body',
    send: (id) =>
      `POST ${atk(id)} HTTP/1.1\r\n${H}Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(smuggled(id))}`,
    status: 400,
    code: CODE.ambiguous,
    closes: true,
  },
  {
    name: 'CL + Transfer-Encoding: xchunked (a parser that ignores unknown TE uses CL)',
    send: (id) =>
      `POST ${atk(id)} HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${smuggled(id)}`,
    status: 400,
    code: CODE.ambiguous,
    closes: true,
  },
  {
    name: 'TE.TE: Transfer-Encoding: xchunked',
    send: (id) =>
      `POST ${atk(id)} HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n${chunked(smuggled(id))}`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'TE.TE: Transfer-Encoding: chunked, identity',
    send: (id) =>
      `POST ${atk(id)} HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n${chunked(smuggled(id))}`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'TE.TE: Transfer-Encoding: identity, chunked',
    send: (id) =>
      `POST ${atk(id)} HTTP/1.1\r\n${H}Transfer-Encoding: identity, chunked\r\n\r\n${chunked(smuggled(id))}`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'TE.TE: Transfer-Encoding: chunked, chunked',
    send: (id) =>
      `POST ${atk(id)} HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n${chunked(smuggled(id))}`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'TE.TE: Transfer-Encoding: identity',
    send: (id) => `POST ${atk(id)} HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\n${smuggled(id)}`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'TE.TE: duplicated Transfer-Encoding (chunked, then x)',
    send: (id) =>
      `POST ${atk(id)} HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n${chunked(smuggled(id))}`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'TE.TE: duplicated Transfer-Encoding, both chunked',
    send: (id) =>
      `POST ${atk(id)} HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(smuggled(id))}`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'TE.TE: quoted "chunked"',
    send: (id) =>
      `POST ${atk(id)} HTTP/1.1\r\n${H}Transfer-Encoding: "chunked"\r\n\r\n${chunked(smuggled(id))}`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'TE.TE: space before the colon (Transfer-Encoding : chunked)',
    send: (id) =>
      `POST ${atk(id)} HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n${chunked(smuggled(id))}`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'TE.TE: a vertical tab after chunked',
    send: (id) =>
      `POST ${atk(id)} HTTP/1.1\r\n${H}Transfer-Encoding: chunked\x0b\r\n\r\n${chunked(smuggled(id))}`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'TE.TE: a NUL after chunked',
    send: (id) =>
      `POST ${atk(id)} HTTP/1.1\r\n${H}Transfer-Encoding: chunked\x00\r\n\r\n${chunked(smuggled(id))}`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'TE.TE: Transfer-Encoding folded onto the line before (obs-fold, space)',
    send: (id) =>
      `POST ${atk(id)} HTTP/1.1\r\n${H}X-Pad: a\r\n Transfer-Encoding: chunked\r\n\r\n${chunked(smuggled(id))}`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'TE.TE: the value chunked on an obs-fold continuation line (tab)',
    send: (id) =>
      `POST ${atk(id)} HTTP/1.1\r\n${H}Transfer-Encoding:\r\n\tchunked\r\n\r\n${chunked(smuggled(id))}`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'TE.TE: Transfer-Encoding behind a bare LF inside another header',
    send: (id) =>
      `POST ${atk(id)} HTTP/1.1\r\n${H}X-Pad: a\nTransfer-Encoding: chunked\r\n\r\n${chunked(smuggled(id))}`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'duplicate Content-Length, same value',
    send: (id) => `POST ${atk(id)} HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`,
    status: 400,
    code: CODE.ambiguous,
    closes: true,
  },
  {
    name: 'duplicate Content-Length, different values, the longer one hiding a request',
    send: (id) => {
      const inner = smuggled(id);
      return `POST ${atk(id)} HTTP/1.1\r\n${H}Content-Length: 0\r\nContent-Length: ${inner.length}\r\n\r\n${inner}`;
    },
    status: 400,
    code: CODE.ambiguous,
    closes: true,
  },
  {
    name: 'Content-Length as a list (5, 5)',
    send: (id) => `POST ${atk(id)} HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\nhello`,
    status: 400,
    code: [CODE.ambiguous, CODE.bad],
    closes: true,
  },
  {
    name: 'Content-Length with a sign (+5)',
    send: (id) => `POST ${atk(id)} HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'Content-Length in hex (0x5)',
    send: (id) => `POST ${atk(id)} HTTP/1.1\r\n${H}Content-Length: 0x5\r\n\r\nhello`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'Content-Length that overflows 64 bits',
    send: (id) => `POST ${atk(id)} HTTP/1.1\r\n${H}Content-Length: 18446744073709551621\r\n\r\nhello`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    // RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing; the server
    // MUST close the connection after it. Serving it and reading on lets a front end that
    // ignores TE in HTTP/1.0 (as the RFC allows) disagree with the gateway about where it ends.
    name: 'HTTP/1.0 with Transfer-Encoding: chunked and keep-alive, a request after the chunked body',
    send: (id) =>
      `POST ${atk(id)} HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled(id)}`,
    status: [400, 200],
    code: CODE.bad,
    closes: true,
    reaches: 'any',
  },
];

// Line endings and header syntax.
const SYNTAX: Case[] = [
  {
    name: 'bare LF line endings throughout the head, a valid request after it',
    send: (id) => `GET ${atk(id)} HTTP/1.1\nHost: ${SERVICE}\n\n`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    // Nothing after it: the head's end is LF LF, never CRLF CRLF. The answer is due at once, not
    // the silent close of an unfinished head headersTimeoutMs later.
    name: 'bare LF line endings throughout the head, alone',
    send: (id) => `GET ${atk(id)} HTTP/1.1\nHost: ${SERVICE}\n\n`,
    status: 400,
    code: CODE.bad,
    closes: true,
    alone: true,
  },
  {
    name: 'bare CR line endings throughout the head, alone',
    send: (id) => `GET ${atk(id)} HTTP/1.1\rHost: ${SERVICE}\r\r`,
    status: 400,
    code: CODE.bad,
    closes: true,
    alone: true,
  },
  {
    name: 'bare LF ending the request line only',
    send: (id) => `GET ${atk(id)} HTTP/1.1\n${H}\r\n`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'bare LF ending the last header line',
    send: (id) => `GET ${atk(id)} HTTP/1.1\r\n${H}X-A: 1\n\r\n`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'bare CR ending the request line',
    send: (id) => `GET ${atk(id)} HTTP/1.1\r${H}\r\n`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'bare CR inside a header value',
    send: (id) => `GET ${atk(id)} HTTP/1.1\r\n${H}X-A: 1\rX-B: 2\r\n\r\n`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'obs-fold continuation line',
    send: (id) => `GET ${atk(id)} HTTP/1.1\r\n${H}X-A: 1\r\n  continued\r\n\r\n`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'a header line without a colon',
    send: (id) => `GET ${atk(id)} HTTP/1.1\r\n${H}no colon here\r\n\r\n`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'a raw NUL in a header value',
    send: (id) => `GET ${atk(id)} HTTP/1.1\r\n${H}X-A: a\x00b\r\n\r\n`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'a raw NUL in a header name',
    send: (id) => `GET ${atk(id)} HTTP/1.1\r\n${H}X-\x00A: b\r\n\r\n`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'no Host (HTTP/1.1)',
    send: (id) => `GET ${atk(id)} HTTP/1.1\r\nX-A: 1\r\n\r\n`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'two Host headers',
    send: (id) => `GET ${atk(id)} HTTP/1.1\r\n${H}Host: evil.example\r\n\r\n`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'a pseudo-header line (:path)',
    send: (id) => `GET ${atk(id)} HTTP/1.1\r\n${H}:path: /etc/passwd\r\n\r\n`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'a quoted chunk extension hiding a CRLF',
    send: (id) =>
      `POST ${atk(id)} HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a="x\r\n${smuggled(id)}"\r\nhello\r\n0\r\n\r\n`,
    // The head was fine and the body is already being forwarded when the framing breaks: the
    // contract has the connection cut (the role never sees a complete request), not an answer.
    status: [0, 400, 502],
    closes: true,
    reaches: 'any',
    check: (_answers, seen) =>
      seen
        .filter((r) => r.complete)
        .map((r) => `the management point saw a complete request (${r.bodyBytes} B)`),
  },
];

// Request-target forms and methods.
const TARGETS: Case[] = [
  {
    name: 'absolute-form target to another host (GET http://evil/)',
    send: (id) => `GET http://evil.example/atk-${id} HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: CODE.url,
    closes: false,
  },
  {
    name: 'absolute-form target naming the gateway and a published path',
    send: (id) => `GET https://${SERVICE}${atk(id)} HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: CODE.url,
    closes: false,
  },
  {
    name: 'authority-form target (CONNECT host:443)',
    send: (id) => `CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\nX-Case: atk-${id}\r\n\r\n`,
    status: 400,
    code: [CODE.url, CODE.bad],
    closes: undefined,
  },
  {
    name: 'CONNECT with an origin-form target',
    send: (id) => `CONNECT ${atk(id)} HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: [CODE.url, CODE.bad],
    closes: undefined,
  },
  {
    name: 'asterisk-form target (OPTIONS *)',
    send: () => `OPTIONS * HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: CODE.url,
    closes: false,
  },
  {
    name: 'network-path reference (//evil/...)',
    send: (id) => `GET //evil.example${atk(id)} HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: CODE.url,
    closes: false,
  },
  {
    name: 'unknown method',
    send: (id) => `SMUGGLE ${atk(id)} HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'lower-case method',
    send: (id) => `get ${atk(id)} HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'HTTP/1.2 request line',
    send: (id) => `GET ${atk(id)} HTTP/1.2\r\n${H}\r\n`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'HTTP/0.9-style request line (no version)',
    send: (id) => `GET ${atk(id)}\r\n${H}\r\n`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'two spaces in the request line',
    send: (id) => `GET  ${atk(id)} HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: CODE.bad,
    closes: true,
  },
  {
    name: 'a raw space in the target',
    send: (id) => `GET ${atk(id, '/a b')} HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: [CODE.bad, CODE.url],
    closes: true,
  },
  {
    name: 'a raw NUL in the target',
    send: (id) => `GET ${atk(id, '/a\x00.txt')} HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: CODE.url,
    closes: true,
  },
  {
    name: 'a raw TAB in the target',
    send: (id) => `GET ${atk(id, '/a\tb')} HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: CODE.url,
    closes: true,
  },
  {
    name: 'raw UTF-8 (non-ASCII bytes) in the target',
    send: (id) => `GET ${atk(id, '/caf\xc3\xa9')} HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: CODE.url,
    closes: true,
  },
  {
    name: 'raw invalid UTF-8 (0xff) in the target',
    send: (id) => `GET ${atk(id, '/\xff')} HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: CODE.url,
    closes: true,
  },
  {
    name: 'a raw DEL in the target',
    send: (id) => `GET ${atk(id, '/a\x7f')} HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: CODE.url,
    closes: true,
  },
  {
    name: 'HTTP/2 connection preface',
    send: () => 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
    status: 400,
    code: CODE.bad,
    closes: true,
  },
];

/** URL-level refusals: 400 InvalidUrl after the head was read whole; the connection stays in step. */
const urlCase = (name: string, rest: (id: string) => string): Case => ({
  name,
  send: (id) => `GET ${rest(id)} HTTP/1.1\r\n${H}\r\n`,
  status: 400,
  code: CODE.url,
  closes: false,
});

const URLS: Case[] = [
  urlCase('dot-dot segment', (id) => atk(id, '/../../../etc/passwd')),
  urlCase('dot segment', (id) => atk(id, '/./x')),
  urlCase('%2e%2e', (id) => atk(id, '/%2e%2e/x')),
  urlCase('%2E%2E', (id) => atk(id, '/%2E%2E/x')),
  urlCase('%2E.', (id) => atk(id, '/%2E./x')),
  urlCase('.%2e', (id) => atk(id, '/.%2e/x')),
  urlCase('%2e alone', (id) => atk(id, '/%2e/x')),
  urlCase('double-encoded dots %252e%252e', (id) => atk(id, '/%252e%252e/x')),
  urlCase('double-encoded dot %252E', (id) => atk(id, '/%252E/x')),
  urlCase('double-encoded slash %252f', (id) => atk(id, '/..%252f..%252fx')),
  urlCase('triple-encoded dot %25252e', (id) => atk(id, '/%25252e%25252e/x')),
  urlCase('overlong UTF-8 dot %c0%ae', (id) => atk(id, '/%c0%ae%c0%ae/x')),
  urlCase('overlong UTF-8 dot %C0%AE, one of two', (id) => atk(id, '/.%C0%AE/x')),
  urlCase('three-byte overlong dot %e0%80%ae', (id) => atk(id, '/%e0%80%ae%e0%80%ae/x')),
  urlCase('overlong UTF-8 slash %c0%af', (id) => atk(id, '/..%c0%afx')),
  urlCase('overlong UTF-8 backslash %c1%9c', (id) => atk(id, '/..%c1%9cx')),
  urlCase('..%2f', (id) => atk(id, '/..%2f..%2fx')),
  urlCase('%2f', (id) => `${MP_BASE}/CCM_System%2fecho/atk-${id}`),
  urlCase('%2F in the prefix', (id) => `${MP_BASE}%2FCCM_System/echo/atk-${id}`),
  urlCase('..\\ (raw backslash)', (id) => atk(id, '/..\\..\\x')),
  urlCase('raw backslash instead of a slash', (id) => `${MP_BASE}/CCM_System\\echo/atk-${id}`),
  urlCase('%5c', (id) => atk(id, '/..%5c..%5cx')),
  urlCase('%5C', (id) => atk(id, '/%5C')),
  urlCase('IIS %u-encoded dots (%u002e)', (id) => atk(id, '/%u002e%u002e/x')),
  urlCase('%00 (encoded NUL)', (id) => atk(id, '/a%00.txt')),
  urlCase('%00 before a dot segment', (id) => atk(id, '/%00/../x')),
  urlCase('%0d%0a (header injection)', (id) => atk(id, '/a%0d%0aX-Injected:%201')),
  urlCase('%09 (encoded tab)', (id) => atk(id, '/a%09b')),
  urlCase('%7f (encoded DEL)', (id) => atk(id, '/a%7f')),
  urlCase('invalid UTF-8 %ff', (id) => atk(id, '/%ff')),
  urlCase('invalid UTF-8 %c3%28', (id) => atk(id, '/%c3%28')),
  urlCase('lone continuation byte %80', (id) => atk(id, '/%80')),
  urlCase('UTF-16 surrogate in UTF-8 %ed%a0%80', (id) => atk(id, '/%ed%a0%80')),
  urlCase('code point over U+10FFFF %f4%90%80%80', (id) => atk(id, '/%f4%90%80%80')),
  urlCase('truncated UTF-8 %e2%82', (id) => atk(id, '/%e2%82')),
  urlCase('bad percent-escape %zz', (id) => atk(id, '/%zz')),
  urlCase('truncated percent-escape %4', (id) => atk(id, '/%4')),
  urlCase('lone % at the end', (id) => atk(id, '/a%')),
  urlCase('bad percent-escape in the query', (id) => atk(id, '?a=%g0')),
  urlCase('empty segment (//)', (id) => `${MP_BASE}//CCM_System/echo/atk-${id}`),
  urlCase('fragment (#)', (id) => atk(id, '#frag')),
  urlCase('dot-dot climbing out of the mutual-auth namespace', (id) =>
    atk(id, '/../../../../../CCM_Proxy_ServerAuth/x'),
  ),
  urlCase(
    'encoded dot segment in the prefix',
    (id) => `${MP_BASE}/%2e%2e/${'72057594037927939'}/CCM_System/echo/atk-${id}`,
  ),
];

// Sizes: very long lines, very many headers, a very long target.
const SIZES: Case[] = [
  {
    name: 'target over maxUrlLength (414)',
    send: (id) => `GET ${atk(id, `/${'a'.repeat(LIMITS.maxUrlLength)}`)} HTTP/1.1\r\n${H}\r\n`,
    status: 414,
    code: CODE.long,
    closes: true,
  },
  {
    name: 'target over maxUrlLength that is also a traversal (414 first)',
    send: (id) => `GET ${atk(id, `/${'../'.repeat(400)}x`)} HTTP/1.1\r\n${H}\r\n`,
    status: 414,
    code: CODE.long,
    closes: true,
  },
  {
    name: 'target far over every limit (100 KB)',
    send: (id) => `GET ${atk(id, `/${'a'.repeat(100_000)}`)} HTTP/1.1\r\n${H}\r\n`,
    status: [414, 431],
    code: [CODE.long, CODE.big],
    closes: true,
  },
  {
    name: 'one header line over maxHeaderBytes (431)',
    send: (id) => `GET ${atk(id)} HTTP/1.1\r\n${H}X-Long: ${'b'.repeat(LIMITS.maxHeaderBytes)}\r\n\r\n`,
    status: 431,
    code: CODE.big,
    closes: true,
  },
  {
    name: 'one header line of 1 MB, never finished (431 without waiting for the end)',
    send: (id) => `GET ${atk(id)} HTTP/1.1\r\n${H}X-Long: ${'b'.repeat(1 << 20)}`,
    status: 431,
    code: CODE.big,
    closes: true,
  },
  {
    name: 'very many headers, over maxHeaderBytes in total (431)',
    send: (id) =>
      `GET ${atk(id)} HTTP/1.1\r\n${H}${Array.from({ length: 3000 }, (_, i) => `X-H${i}: ${i}\r\n`).join('')}\r\n`,
    status: 431,
    code: CODE.big,
    closes: true,
  },
  {
    // Node's HTTP server keeps only its first 2000 headers (maxHeadersCount): llhttp still frames
    // the body by the Content-Length it dropped, so the gateway would forward the request without
    // its body. Refused (431/400), or forwarded whole: never forwarded changed.
    name: '2100 tiny headers (under maxHeaderBytes) before Content-Length',
    send: (id) =>
      `CCM_POST ${atk(id)} HTTP/1.1\r\n${H}${'a:\r\n'.repeat(2100)}Content-Length: 5\r\n\r\nhello`,
    status: [200, 400, 431],
    code: [CODE.big, CODE.bad],
    closes: undefined,
    reaches: 'any',
    bodyBytes: 5,
  },
  {
    name: '2100 tiny headers (under maxHeaderBytes) before Transfer-Encoding: chunked',
    send: (id) =>
      `CCM_POST ${atk(id)} HTTP/1.1\r\n${H}${'a:\r\n'.repeat(2100)}Transfer-Encoding: chunked\r\n\r\n${chunked('hello')}`,
    status: [200, 400, 431],
    code: [CODE.big, CODE.bad],
    closes: undefined,
    reaches: 'any',
    bodyBytes: 5,
  },
];

// Accepted, and framed alike by every parser on the way: the request inside the body stays body.
const CONSISTENT: Case[] = [
  {
    name: 'Transfer-Encoding: CHUNKED (coding names are case-insensitive)',
    send: (id) =>
      `CCM_POST ${atk(id)} HTTP/1.1\r\n${H}Transfer-Encoding: CHUNKED\r\n\r\n${chunked(smuggled(id))}`,
    status: 200,
    closes: false,
    reaches: 1,
    bodyBytes: SMUGGLED_LEN(),
  },
  {
    name: 'Transfer-Encoding with tabs around the value',
    send: (id) =>
      `CCM_POST ${atk(id)} HTTP/1.1\r\n${H}Transfer-Encoding:\tchunked\t\r\n\r\n${chunked(smuggled(id))}`,
    status: 200,
    closes: false,
    reaches: 1,
    bodyBytes: SMUGGLED_LEN(),
  },
  {
    name: 'Transfer-Encoding with spaces around the value',
    send: (id) =>
      `BITS_POST ${atk(id)} HTTP/1.1\r\n${H}Transfer-Encoding:    chunked   \r\n\r\n${chunked(smuggled(id))}`,
    status: 200,
    closes: false,
    reaches: 1,
    bodyBytes: SMUGGLED_LEN(),
  },
  {
    name: 'Transfer-Encoding header name in odd casing, no Content-Length',
    send: (id) =>
      `POST ${atk(id)} HTTP/1.1\r\n${H}tRANSFER-eNCODING: chunked\r\n\r\n${chunked(smuggled(id))}`,
    status: 200,
    closes: false,
    reaches: 1,
    bodyBytes: SMUGGLED_LEN(),
  },
  {
    name: 'Transfer_Encoding (underscore) is just a header: Content-Length frames the body',
    send: (id) => {
      const body = chunked(smuggled(id));
      return `POST ${atk(id)} HTTP/1.1\r\n${H}Transfer_Encoding: chunked\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    },
    status: 200,
    closes: false,
    reaches: 1,
    bodyBytes: chunked(smuggled('x000')).length,
  },
  {
    name: 'a body that is a whole request, by Content-Length',
    send: (id) =>
      `CCM_POST ${atk(id)} HTTP/1.1\r\n${H}Content-Length: ${smuggled(id).length}\r\n\r\n${smuggled(id)}`,
    status: 200,
    closes: false,
    reaches: 1,
    bodyBytes: SMUGGLED_LEN(),
  },
  {
    name: 'token chunk extensions, several chunks, a trailer',
    send: (id) => {
      const s = smuggled(id);
      const half = s.length >> 1;
      return `POST ${atk(id)} HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${half.toString(16)};a=b;c\r\n${s.slice(0, half)}\r\n${(s.length - half).toString(16)}\r\n${s.slice(half)}\r\n0\r\nX-Trailer: t\r\n\r\n`;
    },
    status: 200,
    closes: false,
    reaches: 1,
    bodyBytes: SMUGGLED_LEN(),
  },
  {
    name: 'an h2c upgrade request is served as HTTP/1.1, its upgrade headers not forwarded',
    send: (id) =>
      `GET ${atk(id)} HTTP/1.1\r\n${H}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n`,
    status: 200,
    closes: false,
    reaches: 1,
    check: (_answers, seen) =>
      seen.flatMap((r) =>
        ['upgrade', 'http2-settings', 'connection']
          .filter((h) => r.headers[h] !== undefined && !(h === 'connection' && r.headers[h] === 'keep-alive'))
          .map((h) => `the management point saw ${h}: ${r.headers[h]}`),
      ),
  },
  {
    name: 'escaped ordinary characters and other casing in the published prefix route to it',
    send: (id) =>
      `GET /ccm_proxy_mutualauth/72057594037927939/ccm%5Fsystem/echo/atk-${id} HTTP/1.1\r\n${H}\r\n`,
    status: 200,
    closes: false,
    reaches: 1,
    check: (_answers, seen) =>
      seen
        .filter((r) => !r.url.startsWith('/CCM_System/echo/atk-'))
        .map((r) => `forwarded as ${r.url}, expected /CCM_System/echo/atk-...`),
  },
  {
    name: 'a dot-dot in the query is not a path segment',
    send: (id) => `GET ${atk(id)}?p=../../x&q=%2e%2e%2f HTTP/1.1\r\n${H}\r\n`,
    status: 200,
    closes: false,
    reaches: 1,
  },
  {
    name: 'a target exactly maxUrlLength long',
    send: (id) => {
      const base = atk(id, '/');
      return `GET ${base}${'a'.repeat(LIMITS.maxUrlLength - base.length)} HTTP/1.1\r\n${H}\r\n`;
    },
    status: 200,
    closes: false,
    reaches: 1,
  },
  {
    name: '500 headers, under maxHeaderBytes',
    send: (id) =>
      `GET ${atk(id)} HTTP/1.1\r\n${H}${Array.from({ length: 500 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`,
    status: 200,
    closes: false,
    reaches: 1,
    check: (_answers, seen) =>
      seen.filter((r) => r.headers['x-h499'] !== 'v').map(() => 'the 500th header did not arrive'),
  },
];

test('request smuggling: CL.TE, TE.CL, TE.TE obfuscations, duplicate Content-Length', () =>
  runGroup('s', SMUGGLING));

test('line endings and header syntax: bare LF, bare CR, obs-fold, NUL', () => runGroup('x', SYNTAX));

test('request-target forms and methods: absolute-form, authority-form, raw bytes in the target', () =>
  runGroup('t', TARGETS));

test('URL encodings: dot segments in every encoding, encoded slashes, NUL, invalid UTF-8', () =>
  runGroup('u', URLS));

test('sizes: long target, long header line, very many headers', () => runGroup('z', SIZES));

test('framed alike by every parser: the request inside a body stays body', () => runGroup('c', CONSISTENT));

// ------------------------------------------------------------------ slow clients

/** Writes `piece(i)` every `everyMs` until the gateway closes the connection or `maxMs` passes. */
async function trickle(
  piece: (i: number) => string | undefined,
  everyMs: number,
  maxMs: number,
  first = '',
): Promise<{ closedAfterMs: number | undefined; text: string; firstByteAt: number }> {
  const socket: TLSSocket = await rawConnection(w.pki, w.port, 'client');
  socket.on('error', () => undefined);
  let text = '';
  let closedAt: number | undefined;
  socket.on('data', (c: Buffer) => {
    text += c.toString('latin1');
  });
  const mark = () => {
    closedAt ??= Date.now();
  };
  socket.once('end', mark);
  socket.once('close', mark);
  if (first) socket.write(first);
  const firstByteAt = Date.now();
  for (let i = 0; closedAt === undefined && Date.now() - firstByteAt < maxMs; i++) {
    const p = piece(i);
    if (p === undefined) break;
    if (!socket.destroyed) socket.write(p);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  while (closedAt === undefined && Date.now() - firstByteAt < maxMs)
    await new Promise((r) => setTimeout(r, 20));
  socket.destroy();
  return { closedAfterMs: closedAt === undefined ? undefined : closedAt - firstByteAt, text, firstByteAt };
}

const MARGIN_MS = 1000;

test('slowloris: a head sent a byte at a time is cut headersTimeoutMs after its first byte', async () => {
  const before = w.mp.requests.length;
  const head = `GET ${E}/atk-slow HTTP/1.1\r\n${H}${'X-Slow: 1\r\n'.repeat(20)}\r\n`;
  // 120 ms a byte: the whole head would take ~40 s; no single gap comes near the deadline.
  const r = await trickle((i) => head[i], 120, LIMITS.headersTimeoutMs + MARGIN_MS + 2000);
  assert.ok(r.closedAfterMs !== undefined, 'the gateway never closed the connection');
  assert.ok(
    (r.closedAfterMs as number) >= LIMITS.headersTimeoutMs - 50 &&
      (r.closedAfterMs as number) <= LIMITS.headersTimeoutMs + MARGIN_MS,
    `closed ${r.closedAfterMs} ms after the first byte (headersTimeoutMs ${LIMITS.headersTimeoutMs})`,
  );
  assert.not.match(r.text, /HTTP\/1\.1 200/);
  assert.is(w.mp.requests.length, before, 'nothing reached the management point');
});

test('slowloris: a second head trickled on a keep-alive connection is cut the same way', async () => {
  const before = w.mp.requests.length;
  const head = `GET ${E}/atk-slow2 HTTP/1.1\r\n${H}${'X-Slow: 1\r\n'.repeat(20)}\r\n`;
  const r = await trickle(
    (i) => head[i],
    120,
    LIMITS.headersTimeoutMs + MARGIN_MS + 2000,
    `GET ${E}/ok-slow2 HTTP/1.1\r\n${H}\r\n`,
  );
  assert.match(r.text, /^HTTP\/1\.1 200 /, 'the complete first request was answered');
  assert.ok(
    r.closedAfterMs !== undefined && r.closedAfterMs <= LIMITS.headersTimeoutMs + MARGIN_MS,
    `closed ${r.closedAfterMs} ms after the first byte of the second head`,
  );
  const seen = w.mp.requests.slice(before).map((s) => s.url);
  assert.equal(seen, ['/CCM_System/echo/ok-slow2']);
});

test('slowloris: empty lines before a request line (CRLF every 150 ms) do not hold a connection for ever', async () => {
  // RFC 9112 2.2 lets a server skip empty lines before a request; they are still the start of a
  // request head, and they are traffic: neither the head deadline nor the idle timeout may be
  // restarted by them for ever. Allowed: both timers end to end, plus a margin.
  const bound = LIMITS.headersTimeoutMs + LIMITS.idleTimeoutMs + MARGIN_MS;
  const r = await trickle(() => '\r\n', 150, bound + 1500);
  assert.ok(
    r.closedAfterMs !== undefined && r.closedAfterMs <= bound,
    `connection still open after ${bound + 1500} ms of empty lines (closed: ${r.closedAfterMs ?? 'never'}); bound ${bound} ms`,
  );
});

// ------------------------------------------------------------------ pipelined floods

/** Writes `bytes` at once and reads until `want` answers are in or the connection closes. */
async function flood(bytes: string, want: number, deadlineMs = 15_000): Promise<Exchange> {
  return exchange(bytes, want, deadlineMs);
}

const urlOf = (a: Answer | undefined) => {
  try {
    return (JSON.parse(a?.body ?? '') as { url: string }).url;
  } catch {
    return `(status ${a?.status}: ${a?.body.slice(0, 80)})`;
  }
};

test('a flood of 200 valid requests pipelined in one write: all answered, in order', async () => {
  const before = w.mp.requests.length;
  const n = 200;
  const bytes = Array.from({ length: n }, (_, i) => `GET ${E}/flood-${i} HTTP/1.1\r\n${H}\r\n`).join('');
  const x = await flood(bytes, n);
  assert.is(x.answers.length, n, `${x.answers.length} answers`);
  assert.equal(
    x.answers.map((a) => a.status),
    Array(n).fill(200),
  );
  assert.equal(
    x.answers.map(urlOf),
    Array.from({ length: n }, (_, i) => `/CCM_System/echo/flood-${i}`),
  );
  const seen = w.mp.requests.slice(before).map((r) => r.url);
  assert.is(seen.length, n);
  assert.equal(new Set(seen).size, n, 'each exactly once');
});

test('valid requests, then CL.TE with a smuggled request, then more: the first ones answered, nothing after read', async () => {
  const before = w.mp.requests.length;
  const good = (i: number) => `GET ${E}/pre-${i} HTTP/1.1\r\n${H}\r\n`;
  const after = (i: number) => `GET ${E}/post-${i} HTTP/1.1\r\n${H}\r\n`;
  const body = `0\r\n\r\n${smuggled('flood')}`;
  const attack = `POST ${E}/atk-flood HTTP/1.1\r\n${H}Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`;
  const bytes =
    Array.from({ length: 30 }, (_, i) => good(i)).join('') +
    attack +
    Array.from({ length: 30 }, (_, i) => after(i)).join('');
  const x = await flood(bytes, 31);
  assert.equal(
    x.answers.map((a) => a.status),
    [...Array(30).fill(200), 400],
  );
  assert.equal(
    x.answers.slice(0, 30).map(urlOf),
    Array.from({ length: 30 }, (_, i) => `/CCM_System/echo/pre-${i}`),
  );
  assert.is(x.answers[30]?.headers['x-cmg-error'], CODE.ambiguous);
  assert.ok(x.closedByGateway, 'the connection is closed after the refusal');
  await new Promise((r) => setTimeout(r, 200));
  const seen = w.mp.requests.slice(before).map((r) => r.url);
  assert.equal([...seen].sort(), Array.from({ length: 30 }, (_, i) => `/CCM_System/echo/pre-${i}`).sort());
});

test('valid requests with bodies hiding requests, mixed with URL refusals and a 404: in order, bodies exact', async () => {
  const before = w.mp.requests.length;
  const parts: { bytes: string; status: number; url?: string; body?: number }[] = [];
  for (let i = 0; i < 20; i++) {
    const inner = smuggled(`mix-${i}`);
    parts.push(
      {
        bytes: `CCM_POST ${E}/mix-cl-${i} HTTP/1.1\r\n${H}Content-Length: ${inner.length}\r\n\r\n${inner}`,
        status: 200,
        url: `/CCM_System/echo/mix-cl-${i}`,
        body: inner.length,
      },
      { bytes: `GET ${E}/atk-mix-${i}/%2e%2e/x HTTP/1.1\r\n${H}\r\n`, status: 400 },
      {
        bytes: `BITS_POST ${E}/mix-te-${i} HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${chunked(inner)}`,
        status: 200,
        url: `/CCM_System/echo/mix-te-${i}`,
        body: inner.length,
      },
      { bytes: `GET ${MP_BASE}/CCM_Nothing/atk-mix-${i} HTTP/1.1\r\n${H}\r\n`, status: 404 },
    );
  }
  const x = await flood(parts.map((p) => p.bytes).join(''), parts.length);
  assert.equal(
    x.answers.map((a) => a.status),
    parts.map((p) => p.status),
  );
  x.answers.forEach((a, i) => {
    const p = parts[i];
    if (p?.url) {
      const seen = JSON.parse(a.body) as { url: string; bodyBytes: number };
      assert.is(seen.url, p.url, `answer ${i}`);
      assert.is(seen.bodyBytes, p.body, `answer ${i}`);
    } else {
      assert.is(a.headers['x-cmg-error'], p?.status === 404 ? CODE.notFound : CODE.url, `answer ${i}`);
    }
  });
  await new Promise((r) => setTimeout(r, 200));
  const seen = w.mp.requests.slice(before);
  assert.is(seen.length, 40);
  assert.ok(!seen.some((r) => /smuggled|atk-mix/.test(r.url)), 'no hidden or refused request reached it');
});

test('a CONNECT pipelined after a valid request: the valid one is still answered, the CONNECT refused', async () => {
  const before = w.mp.requests.length;
  const x = await flood(
    `GET ${MP_BASE}/CCM_System/hold?ms=200 HTTP/1.1\r\n${H}\r\nCONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n`,
    2,
    4000,
  );
  assert.equal(
    x.answers.map((a) => a.status),
    [200, 400],
    `answers ${x.answers.map((a) => a.status)}; connection ${x.closedByGateway ? `closed after ${x.ms} ms` : 'open'}`,
  );
  assert.ok(w.mp.requests.slice(before).every((r) => r.url.startsWith('/CCM_System/hold')));
});

test('the gateway is still up and serving', async () => {
  const a = await clientRequest(w.pki, { port: w.port, path: `${E}/still-up`, cert: 'client' });
  assert.is(a.status, 200);
  assert.is(w.gateway.child.exitCode, null);
});

test.run();
