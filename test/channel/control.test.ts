import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  type ControlMessage,
  encodeControl,
  LineSplitter,
  MAX_CONTROL_LINE,
  type Manifest,
  parseControl,
} from '../../src/channel/control.js';
import { CHANNEL_PROTOCOL_VERSION } from '../../src/channel/protocol.js';

const MP = '/CCM_Proxy_MutualAuth/72057594037927939';

function manifest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'manifest',
    protocol: 1,
    serial: 3,
    software: 'cmg 0.1.0',
    heartbeatSeconds: 15,
    endpoints: [
      { external: `${MP}/CCM_System`, maxContentLength: 1_048_576 },
      { external: '/CCM_Proxy_ServerAuth/72057594037927939/SMS_MP' },
    ],
    ...overrides,
  };
}

function parse(value: unknown) {
  return parseControl(JSON.stringify(value));
}

const PATTERN = 'expected an absolute path without query, escapes, spaces, empty or dot segments';

test('the protocol version is 1', () => {
  assert.is(CHANNEL_PROTOCOL_VERSION, 1);
  assert.is(MAX_CONTROL_LINE, 4 * 1024 * 1024);
});

test('a valid manifest is accepted as it is', () => {
  assert.equal(parse(manifest()), { ok: true, message: manifest() });
  const empty = manifest({ endpoints: [], serial: 0, heartbeatSeconds: 1 });
  assert.equal(parse(empty), { ok: true, message: empty });
  const maxed = manifest({
    heartbeatSeconds: 60,
    endpoints: Array.from({ length: 10_000 }, (_, i) => ({ external: `/e/${i}`, maxContentLength: 0 })),
  });
  const r = parse(maxed);
  assert.is(r.ok, true);
  assert.is(r.ok && r.message.type === 'manifest' && r.message.endpoints.length, 10_000);
});

test('a valid drain is accepted', () => {
  assert.equal(parse({ type: 'drain', reason: 'service stopping' }), {
    ok: true,
    message: { type: 'drain', reason: 'service stopping' },
  });
});

test('an unknown type is refused with a reason', () => {
  assert.equal(parse({ type: 'hello' }), {
    ok: false,
    reason: "control message refused: type: Invalid discriminator value. Expected 'manifest' | 'drain'",
  });
  assert.equal(parse({ ...manifest(), type: 'Manifest' }), {
    ok: false,
    reason: "control message refused: type: Invalid discriminator value. Expected 'manifest' | 'drain'",
  });
});

test('extra keys are refused, at the root and in an endpoint', () => {
  assert.equal(parse(manifest({ extra: 1 })), {
    ok: false,
    reason: 'control message refused: (root): Unrecognized key: "extra"',
  });
  assert.equal(parse(manifest({ endpoints: [{ external: '/a', internal: 'http://x' }] })), {
    ok: false,
    reason: 'control message refused: endpoints.0: Unrecognized key: "internal"',
  });
  assert.equal(parse({ type: 'drain', reason: 'x', serial: 1 }), {
    ok: false,
    reason: 'control message refused: (root): Unrecognized key: "serial"',
  });
});

test('another protocol version is refused', () => {
  assert.equal(parse(manifest({ protocol: 2 })), {
    ok: false,
    reason: 'control message refused: protocol: Invalid input: expected 1',
  });
  assert.is(parse(manifest({ protocol: '1' })).ok, false);
});

test('fields out of their ranges are refused', () => {
  assert.equal(parse(manifest({ heartbeatSeconds: 0 })).ok, false);
  assert.equal(parse(manifest({ heartbeatSeconds: 61 })).ok, false);
  assert.equal(parse(manifest({ serial: -1 })).ok, false);
  assert.equal(parse(manifest({ serial: 1.5 })).ok, false);
  assert.equal(parse(manifest({ endpoints: [{ external: '/a', maxContentLength: -1 }] })).ok, false);
  assert.equal(parse(manifest({ endpoints: [{ external: `/${'a'.repeat(1024)}` }] })).ok, false);
  assert.equal(parse(manifest({ endpoints: [{ external: `/${'a'.repeat(1023)}` }] })).ok, true);
  assert.equal(parse({ type: 'drain' }), {
    ok: false,
    reason: 'control message refused: reason: Invalid input: expected string, received undefined',
  });
});

test('bad endpoint paths are refused: trailing slash, relative, query, fragment, escapes, spaces', () => {
  for (const external of ['/a/', 'a', '/a?b', '/a#b', '/a%2f', '/a%41', '/', '', '/a b', '/a\\b', '/a\tb']) {
    assert.equal(
      parse(manifest({ endpoints: [{ external: '/ok' }, { external }] })),
      { ok: false, reason: `control message refused: endpoints.1.external: ${PATTERN}` },
      JSON.stringify(external),
    );
  }
});

test('more than 10 000 endpoints are refused', () => {
  const endpoints = Array.from({ length: 10_001 }, (_, i) => ({ external: `/e/${i}` }));
  assert.equal(parse(manifest({ endpoints })), {
    ok: false,
    reason: 'control message refused: endpoints: Too big: expected array to have <=10000 items',
  });
});

test('what is not a JSON object is refused', () => {
  for (const line of ['{nope', '', 'manifest', '{"type":"drain","reason":"x"']) {
    assert.equal(parseControl(line), { ok: false, reason: 'control message is not JSON' }, line);
  }
  assert.equal(parseControl('[]'), {
    ok: false,
    reason: 'control message refused: (root): Invalid input: expected object, received array',
  });
  assert.equal(parseControl('null'), {
    ok: false,
    reason: 'control message refused: (root): Invalid input: expected object, received null',
  });
});

test('encodeControl writes one line that parses back to the same message', () => {
  const messages: ControlMessage[] = [
    manifest() as Manifest,
    { type: 'drain', reason: 'line\nbreak "quoted" and \u00e9' },
  ];
  for (const msg of messages) {
    const line = encodeControl(msg);
    assert.is(line.endsWith('\n'), true);
    assert.is(line.indexOf('\n'), line.length - 1, 'a single line');
    assert.equal(parseControl(line.slice(0, -1)), { ok: true, message: msg });
  }
  assert.is(encodeControl({ type: 'drain', reason: 'x' }), '{"type":"drain","reason":"x"}\n');
});

test('encoded messages go through a LineSplitter and parse back', () => {
  const got: unknown[] = [];
  const splitter = new LineSplitter((line) => got.push(parseControl(line)));
  const text = encodeControl(manifest() as Manifest) + encodeControl({ type: 'drain', reason: 'bye' });
  for (let i = 0; i < text.length; i += 7) assert.is(splitter.push(text.slice(i, i + 7)), true);
  assert.equal(got, [
    { ok: true, message: manifest() },
    { ok: true, message: { type: 'drain', reason: 'bye' } },
  ]);
});

test('LineSplitter: a line split across chunks comes out whole, once its newline arrives', () => {
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l));
  assert.is(s.push('{"a"'), true);
  assert.is(s.push(':1'), true);
  assert.equal(lines, []);
  assert.is(s.push('}\n{"b"'), true);
  assert.equal(lines, ['{"a":1}']);
  assert.is(s.push(Buffer.from(':2}\n')), true);
  assert.equal(lines, ['{"a":1}', '{"b":2}']);
});

test('LineSplitter: several lines in one chunk, in order; blank lines skipped', () => {
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l));
  assert.is(s.push('one\ntwo\n\n   \nthree\n\nfour'), true);
  assert.equal(lines, ['one', 'two', 'three']);
  assert.is(s.push('\n'), true);
  assert.equal(lines, ['one', 'two', 'three', 'four']);
});

test('LineSplitter: a line longer than max makes push() return false', () => {
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l), 10);
  assert.is(s.push('0123456789'), true, 'exactly max is allowed');
  assert.is(s.push('A'), false, 'one more and the stream must be closed');
  assert.equal(lines, []);

  const t = new LineSplitter((l) => lines.push(l), 10);
  assert.is(t.push('short\n0123'), true);
  assert.is(t.push('456789'), true);
  assert.is(t.push('abc'), false);
  assert.equal(lines, ['short'], 'lines before the long one are delivered');

  const u = new LineSplitter(() => undefined, 4);
  assert.is(u.push(Buffer.from('12345')), false);
});

test('a line over the limit is refused even when its newline comes in the same chunk', () => {
  const got: string[] = [];
  const split = new LineSplitter((l) => got.push(l), 10);
  assert.is(split.push(`${'x'.repeat(20)}\n`), false);
  assert.equal(got, []);
});

test('a character split across two chunks is decoded whole', () => {
  const got: string[] = [];
  const split = new LineSplitter((l) => got.push(l));
  const bytes = Buffer.from('{"reason":"é"}\n');
  const cut = bytes.indexOf(0xc3) + 1;
  split.push(bytes.subarray(0, cut));
  split.push(bytes.subarray(cut));
  assert.equal(got, ['{"reason":"é"}']);
});

test('empty segments, dot segments and control characters in a published path are refused', () => {
  for (const external of ['//a', '/a//b', '/a/../b', '/a/./b', '/a\u0000b', '/a\u007fb']) {
    const r = parse(manifest({ endpoints: [{ external }] }));
    assert.is(r.ok, false, external);
  }
});

test.run();
