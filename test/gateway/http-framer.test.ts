import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type FramedRequest, HttpFramer } from '../../src/gateway/http-framer.js';

const LIMITS = { maxHeaderBytes: 16384, maxUrlLength: 4096 };

interface Run {
  forwarded: string;
  queue: FramedRequest[];
  ended: boolean;
  aborted?: string;
}

/** Feeds `input` to a framer in the given pieces (by default one piece) and records what it did. */
function frame(input: string | Buffer, cuts: number[] = [], limits = LIMITS): Run {
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input, 'latin1');
  const out: Buffer[] = [];
  const run: Run = { forwarded: '', queue: [], ended: false };
  const framer = new HttpFramer(limits, {
    forward: (c) => out.push(Buffer.from(c)),
    end: () => {
      run.ended = true;
    },
    abort: (reason) => {
      run.aborted = reason;
    },
  });
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    framer.push(bytes.subarray(at, cut));
    at = cut;
  }
  framer.push(bytes.subarray(at));
  run.forwarded = Buffer.concat(out).toString('latin1');
  run.queue = framer.queue;
  return run;
}

const H = 'Host: cmg.contoso.com\r\n';

test('CCM_POST and BITS_POST reach llhttp as POST; the originals are queued in order with their targets', () => {
  const input =
    `CCM_POST /CCM_Proxy_MutualAuth/1/ccm_system/request HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello` +
    `BITS_POST /CCM_Proxy_MutualAuth/1/CCM_Incoming/x HTTP/1.1\r\n${H}BITS-Packet-Type: Ping\r\nContent-Length: 0\r\n\r\n` +
    `PROPFIND /CCM_Proxy_MutualAuth/1/SMS_MP HTTP/1.1\r\n${H}Depth: 1\r\n\r\n` +
    `GET /CCM_Proxy_MutualAuth/1/SMS_MP/.sms_aut?MPLIST HTTP/1.1\r\n${H}\r\n`;
  const r = frame(input);
  assert.equal(
    r.queue.map((q) => [q.method, q.target]),
    [
      ['CCM_POST', '/CCM_Proxy_MutualAuth/1/ccm_system/request'],
      ['BITS_POST', '/CCM_Proxy_MutualAuth/1/CCM_Incoming/x'],
      ['PROPFIND', '/CCM_Proxy_MutualAuth/1/SMS_MP'],
      ['GET', '/CCM_Proxy_MutualAuth/1/SMS_MP/.sms_aut?MPLIST'],
    ],
  );
  assert.is(
    r.forwarded,
    input.replace('CCM_POST /', 'POST /').replace('BITS_POST /', 'POST /'),
    'only the method token of extension methods changes',
  );
  assert.is(r.ended, false);
  assert.is(r.aborted, undefined);
});

test('chunked bodies pass through with their framing, trailers included', () => {
  const input =
    `CCM_POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n` +
    `GET /b HTTP/1.1\r\n${H}\r\n`;
  const r = frame(input);
  assert.equal(
    r.queue.map((q) => q.target),
    ['/a', '/b'],
  );
  assert.is(r.forwarded, input.replace('CCM_POST', 'POST'));
});

test('a large Content-Length body streams through without being held', () => {
  const body = 'x'.repeat(100_000);
  const r = frame(
    `POST /up HTTP/1.1\r\n${H}Content-Length: ${body.length}\r\n\r\n${body}`,
    [200, 5000, 60_000],
  );
  assert.is(
    r.forwarded.length,
    `POST /up HTTP/1.1\r\n${H}Content-Length: 100000\r\n\r\n`.length + body.length,
  );
});

test('any split of the byte stream gives the same output and queue (property)', () => {
  const input =
    `CCM_POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n` +
    `\r\nBITS_POST /b HTTP/1.1\r\n${H}Content-Length: 4\r\n\r\nwxyz` +
    `GET /c?d=1 HTTP/1.1\r\n${H}\r\n`;
  const whole = frame(input);
  assert.is(whole.queue.length, 3);
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 1, max: input.length - 1 }), { maxLength: 12 }), (cuts) => {
      const split = frame(input, cuts);
      assert.is(split.forwarded, whole.forwarded);
      assert.equal(split.queue, whole.queue);
    }),
    { numRuns: 300 },
  );
});

// Heads refused before anything of them is forwarded: a synthetic request carries the refusal, in order.
const REFUSED_HEADS: [string, string, string][] = [
  ['a control byte in the target', `GET /a\x01b HTTP/1.1\r\n${H}\r\n`, 'invalidUrl'],
  ['DEL in the target', `GET /a\x7fb HTTP/1.1\r\n${H}\r\n`, 'invalidUrl'],
  ['a TAB in the target', `GET /a\tb HTTP/1.1\r\n${H}\r\n`, 'invalidUrl'],
  ['a raw byte over 0x7f in the target', `GET /caf\xe9 HTTP/1.1\r\n${H}\r\n`, 'invalidUrl'],
  [
    'CL and TE together',
    `POST /a HTTP/1.1\r\n${H}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n`,
    'ambiguousLength',
  ],
  [
    'two Content-Length headers, even equal',
    `POST /a HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc`,
    'ambiguousLength',
  ],
  [
    'TE other than exactly chunked',
    `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n`,
    'badRequest',
  ],
  [
    'two TE headers',
    `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n`,
    'badRequest',
  ],
  ['invalid Content-Length', `POST /a HTTP/1.1\r\n${H}Content-Length: 1e3\r\n\r\n`, 'badRequest'],
  ['negative Content-Length', `POST /a HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`, 'badRequest'],
  ['obs-fold', `GET /a HTTP/1.1\r\n${H}X-A: 1\r\n continued\r\n\r\n`, 'badRequest'],
  ['space before the colon', `GET /a HTTP/1.1\r\n${H}Content-Length : 0\r\n\r\n`, 'badRequest'],
  ['bare LF in a header', `GET /a HTTP/1.1\r\n${H}X-A: 1\nX-B: 2\r\n\r\n`, 'badRequest'],
  ['bare CR in a header', `GET /a HTTP/1.1\r\n${H}X-A: 1\rX-B: 2\r\n\r\n`, 'badRequest'],
  ['control character in a value', `GET /a HTTP/1.1\r\n${H}X-A: a\x01b\r\n\r\n`, 'badRequest'],
  ['no Host', 'GET /a HTTP/1.1\r\nX-A: 1\r\n\r\n', 'badRequest'],
  ['two Host headers', `GET /a HTTP/1.1\r\n${H}${H}\r\n`, 'badRequest'],
  [
    'an expectation Node would answer itself',
    `POST /a HTTP/1.1\r\n${H}Expect: something\r\nContent-Length: 0\r\n\r\n`,
    'badRequest',
  ],
  ['unknown method', `FROB_NICATE /a HTTP/1.1\r\n${H}\r\n`, 'badRequest'],
  ['malformed request line', `GET  /a HTTP/1.1\r\n${H}\r\n`, 'badRequest'],
  ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'badRequest'],
  ['URL over the limit', `GET /${'a'.repeat(5000)} HTTP/1.1\r\n${H}\r\n`, 'urlTooLong'],
  ['head over the limit', `GET /a HTTP/1.1\r\n${H}X-Big: ${'b'.repeat(17000)}\r\n\r\n`, 'headersTooLarge'],
  [
    'head over the limit, never finished',
    `GET /a HTTP/1.1\r\n${H}X-Big: ${'b'.repeat(17000)}`,
    'headersTooLarge',
  ],
];

for (const [name, head, refused] of REFUSED_HEADS) {
  test(`refused head: ${name}, answered in order after the good request before it; nothing after it read`, () => {
    const good = `GET /ok HTTP/1.1\r\n${H}\r\n`;
    const r = frame(`${good}${head}GET /after HTTP/1.1\r\n${H}\r\n`);
    assert.is(r.queue.length, 2, JSON.stringify(r.queue));
    assert.is(r.queue[0]?.target, '/ok');
    assert.is(r.queue[1]?.refusal?.refused, refused, r.queue[1]?.refusal?.reason);
    assert.ok(r.forwarded.startsWith(good));
    assert.match(
      r.forwarded.slice(good.length),
      /^GET \/\.cmg-refused HTTP\/1\.1\r\nHost: cmg\r\nConnection: close\r\n\r\n$/,
    );
    assert.not.match(r.forwarded, '/after');
    assert.is(r.ended, true);
  });
}

// Violations inside a body already being forwarded cannot be answered in order: abort.
const BROKEN_BODIES: [string, string][] = [
  ['chunk size not hex', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\n`],
  [
    'quoted chunk extension',
    `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3;a="x\r\nabc"\r\nabc\r\n0\r\n\r\n`,
  ],
  [
    'chunk data longer than its size',
    `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n`,
  ],
  [
    'Content-Length in the trailers',
    `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 5\r\n\r\n`,
  ],
];

for (const [name, input] of BROKEN_BODIES) {
  test(`broken body: ${name}, aborted (the role sees a broken request)`, () => {
    const r = frame(input);
    assert.is(r.queue.length, 1);
    assert.type(r.aborted, 'string');
    assert.not.ok(r.forwarded.endsWith('0\r\n\r\n'), 'the terminating chunk must never be forwarded');
  });
}

test('a client that hangs up mid-body aborts; between messages it just ends', () => {
  const out: string[] = [];
  let aborted = '';
  let ended = false;
  const f = new HttpFramer(LIMITS, {
    forward: (c) => out.push(c.toString('latin1')),
    end: () => {
      ended = true;
    },
    abort: (r) => {
      aborted = r;
    },
  });
  f.push(Buffer.from(`POST /a HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\nabc`));
  f.finish();
  assert.match(aborted, 'middle of a request body');
  assert.is(ended, false);
  const g = frame(`GET /a HTTP/1.1\r\n${H}\r\n`);
  assert.is(g.aborted, undefined);
});

test('a head with bare line ends is refused as it arrives, a byte at a time too; a valid head split anywhere is not', () => {
  const every = (s: string) => Array.from({ length: s.length - 1 }, (_, i) => i + 1);
  const bareLf = `GET /a HTTP/1.1\nHost: cmg.contoso.com\n`;
  for (const cuts of [[], every(bareLf)]) {
    const r = frame(bareLf, cuts);
    assert.is(r.queue[0]?.refusal?.reason, 'bare LF in the request head');
    assert.ok(r.ended);
  }
  const bareCr = `GET /a HTTP/1.1\rHost: x`;
  assert.is(frame(bareCr, every(bareCr)).queue[0]?.refusal?.reason, 'bare CR in the request head');
  // A CR at the end of one piece and its LF in the next is a line end, not a bare CR.
  const valid = `GET /a HTTP/1.1\r\n${H}\r\n`;
  const r = frame(valid, every(valid));
  assert.equal(
    r.queue.map((q) => [q.method, q.target, q.refusal]),
    [['GET', '/a', undefined]],
  );
});

test('one empty line before a request line is tolerated; more are refused', () => {
  assert.equal(
    frame(`\r\nGET /a HTTP/1.1\r\n${H}\r\n`).queue.map((q) => q.refusal),
    [undefined],
  );
  const r = frame(`\r\n\r\nGET /a HTTP/1.1\r\n${H}\r\n`);
  assert.is(r.queue[0]?.refusal?.reason, 'empty lines instead of a request line');
});

test('awaitingHead is true only while a head is partly in', () => {
  const f = new HttpFramer(LIMITS, { forward: () => {}, end: () => {}, abort: () => {} });
  assert.is(f.awaitingHead, false);
  f.push(Buffer.from('GET /a HTTP/1.1\r\nHo'));
  assert.is(f.awaitingHead, true);
  f.push(Buffer.from('st: x\r\n\r\n'));
  assert.is(f.awaitingHead, false);
});

test.run();
