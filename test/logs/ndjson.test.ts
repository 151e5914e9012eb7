/**
 * `cmg logs --json` has two writers that must agree byte for byte: the
 * general path (fileEntries in src/logs/read.ts, each entry through jsonLine
 * in src/logs/render.ts) and the byte path (ndjsonLines in
 * src/logs/ndjson.ts, which writes one-line canonical CCM entries straight
 * from the file's bytes and hands everything else to the parser). These tests
 * compare them on generated logs (fast-check) and on each edge case alone, at
 * chunk sizes that split lines, byte order marks and multi-byte characters.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatCmtraceLine, type SeverityName } from '../../src/logs/cmtrace-format.js';
import { type NdjsonFilter, ndjsonLines, RenderedLines } from '../../src/logs/ndjson.js';
import type { ParsedEntry } from '../../src/logs/parse.js';
import { fileEntries } from '../../src/logs/read.js';
import { jsonLine } from '../../src/logs/render.js';

// ---- the two paths -----------------------------------------------------------

const EVERYTHING: NdjsonFilter = { keep: () => true, keepEntry: () => true };

interface Output {
  bytes: Buffer;
  keys: number[];
}

/** The general path: entries from fileEntries, each through jsonLine, one per line. */
async function generalPath(
  path: string,
  endOffset?: number,
  keep: (e: ParsedEntry) => boolean = () => true,
): Promise<Output> {
  const lines: string[] = [];
  const keys: number[] = [];
  for await (const batch of fileEntries(path, endOffset)) {
    for (const e of batch) {
      if (!keep(e)) continue;
      lines.push(jsonLine(e));
      keys.push(e.time?.getTime() ?? Number.NEGATIVE_INFINITY);
    }
  }
  return { bytes: Buffer.from(lines.length === 0 ? '' : `${lines.join('\n')}\n`, 'utf8'), keys };
}

/** The byte path, every batch checked for consistent counts, ends and line breaks on the way. */
async function bytePath(
  path: string,
  chunkBytes: number,
  endOffset?: number,
  filter: NdjsonFilter = EVERYTHING,
): Promise<Output> {
  const parts: Buffer[] = [];
  const keys: number[] = [];
  for await (const batch of ndjsonLines(path, filter, endOffset, chunkBytes)) {
    const where = `(chunkBytes ${chunkBytes})`;
    assert.ok(batch.count > 0, `an empty batch was yielded ${where}`);
    assert.ok(batch.used <= batch.bytes.length, `used beyond the buffer ${where}`);
    assert.is(batch.ends[batch.count - 1], batch.used, `ends[count-1] is not used ${where}`);
    for (let i = 0; i < batch.count; i++) {
      const start = batch.start(i);
      const end = batch.ends[i] as number;
      assert.ok(end > start, `line ${i} is empty ${where}`);
      assert.is(batch.bytes[end - 1], 10, `line ${i} does not end with a newline ${where}`);
      assert.is(batch.bytes.indexOf(10, start), end - 1, `line ${i} holds a newline before its end ${where}`);
      keys.push(batch.keys[i] as number);
    }
    // A copy: the batch's buffer is not promised to stay as it is.
    parts.push(Buffer.from(batch.bytes.subarray(0, batch.used)));
  }
  return { bytes: Buffer.concat(parts), keys };
}

/** Lines of NDJSON as text, for a readable diff. */
const shown = (b: Buffer) => b.toString('utf8');

function assertSame(got: Output, want: Output, what: string): void {
  if (!got.bytes.equals(want.bytes)) {
    // The readable diff first; then the bytes (text that decodes alike but is not).
    assert.fixture(shown(got.bytes), shown(want.bytes), `bytes differ: ${what}`);
    assert.is(got.bytes.toString('hex'), want.bytes.toString('hex'), `bytes differ: ${what}`);
  }
  assert.equal(got.keys, want.keys, `keys differ: ${what}`);
}

/** Chunk sizes for the examples: lines, markers and characters split everywhere, then whole. (1 and 2: see the BOM tests.) */
const CHUNKS = [3, 5, 7, 16, 64, 1000, 1 << 20];
const TINY = [1, 2, ...CHUNKS];

/** Writes `content` into a fresh temp folder (as `name`), runs `fn` on its path, removes the folder. */
async function withFile<T>(
  content: string | Buffer,
  fn: (path: string) => Promise<T>,
  name = 'test.log',
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'cmg-ndjson-'));
  try {
    const sub = join(dir, ...name.split('/').slice(0, -1));
    mkdirSync(sub, { recursive: true });
    const path = join(dir, name);
    writeFileSync(path, content);
    return await fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Both paths on `path`, at every chunk size given; returns the general path's output. */
async function compareAt(path: string, chunks = CHUNKS, endOffset?: number): Promise<Output> {
  // Side by side: the time is the reads' round trips, which overlap.
  const [want, ...got] = await Promise.all([
    generalPath(path, endOffset),
    ...chunks.map((c) => bytePath(path, c, endOffset)),
  ]);
  chunks.forEach((c, i) => {
    assertSame(got[i] as Output, want as Output, `chunkBytes ${c}, endOffset ${endOffset}`);
  });
  return want as Output;
}

/** The file's NDJSON from both paths, compared; the entries as parsed JSON. */
async function same(
  content: string | Buffer,
  chunks = CHUNKS,
  name?: string,
): Promise<Record<string, unknown>[]> {
  const out = await withFile(content, (p) => compareAt(p, chunks), name);
  return parsed(out.bytes);
}

const parsed = (b: Buffer): Record<string, unknown>[] =>
  shown(b)
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

// ---- lines of the log formats ------------------------------------------------

const canonical = (
  text: string,
  opts: {
    at?: string;
    type?: SeverityName;
    component?: string;
    thread?: number;
    file?: string;
    bias?: number;
  } = {},
) =>
  formatCmtraceLine(
    {
      time: new Date(opts.at ?? '2026-11-29T03:12:45.123Z'),
      type: opts.type ?? 'info',
      component: opts.component ?? 'CMGService',
      thread: opts.thread ?? 4242,
      file: opts.file ?? 'channel.ts:88',
      text,
    },
    () => opts.bias ?? 0,
  ).slice(0, -1); // without its line break

/** A canonical line with `text` put in as it is (formatCmtraceLine would change a `]LOG]!>` in it). */
const canonicalRaw = (text: string, opts: Parameters<typeof canonical>[1] = {}) => {
  const line = canonical('x', opts);
  return `<![LOG[${text}${line.slice(line.indexOf(']LOG]!><time="'))}`;
};

const SMS =
  'Connection point started~~  listening on 443 $$<SMS_CLOUD_PROXYCONNECTOR><11-29-2026 01:02:03.456+060><thread=12 (0xC)>';

// ---- generated logs (property) -------------------------------------------------

const asciiChar = fc.constantFrom(...'abcdXYZ0189 .:,-_()[]{}/=<>!?$~#'.split(''));
const specialChar = fc.constantFrom(
  '"',
  '\\',
  '\t',
  '\u0000',
  '\u0001',
  '\u001f',
  '\u007f',
  '\b',
  '\f',
  '\r',
  '\u000b',
  ']LOG]!><',
  ']LOG]!>',
  '<![LOG[',
  '$$<',
  '~~',
  '~',
  '  ',
);
const nonAsciiChar = fc.constantFrom('é', '中', '😀', '€', '\u00a0', '\u2028', 'ß', '\ufeff');

/** Text of one line: mostly ASCII, some characters JSON escapes, non-ASCII ones when `wide`. */
const textArb = (wide: boolean, maxLength = 14) =>
  fc
    .array(
      fc.oneof(
        { arbitrary: asciiChar, weight: 12 },
        { arbitrary: specialChar, weight: 3 },
        ...(wide ? [{ arbitrary: nonAsciiChar, weight: 3 }] : []),
      ),
      { maxLength },
    )
    .map((a) => a.join(''));

const attrArb = (wide: boolean) =>
  fc
    .array(
      fc.oneof(
        { arbitrary: fc.constantFrom(...'ABCxyz_.-09: '.split('')), weight: 10 },
        { arbitrary: fc.constantFrom('\\', '\t', '\u0001', '\u007f', "'", '\u001f'), weight: 2 },
        ...(wide ? [{ arbitrary: nonAsciiChar, weight: 2 }] : []),
      ),
      { maxLength: 10 },
    )
    .map((a) => a.join(''));

const dateArb = fc.date({
  min: new Date('2000-01-01T00:00:00Z'),
  max: new Date('2099-12-31T23:59:59Z'),
  noInvalidDate: true,
});
const typeArb = fc.constantFrom<SeverityName>('info', 'warning', 'error');
const biasArb = fc.oneof(
  { arbitrary: fc.integer({ min: -840, max: 840 }), weight: 5 },
  { arbitrary: fc.constantFrom(0, -60, 60, 1000, -1200), weight: 1 },
);

/** A canonical one-line entry from formatCmtraceLine (its text sometimes put in raw: quotes, markers). */
const canonicalArb = (wide: boolean) =>
  fc
    .record({
      time: dateArb,
      bias: biasArb,
      type: typeArb,
      component: attrArb(wide),
      thread: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      file: fc.oneof(fc.constant(''), attrArb(wide)),
      text: textArb(wide),
      raw: fc.boolean(),
    })
    .map(({ time, bias, type, component, thread, file, text, raw }) => {
      const line = formatCmtraceLine({ time, type, component, thread, file, text }, () => bias).slice(0, -1);
      return raw ? `<![LOG[${text}${line.slice(line.indexOf(']LOG]!><time="'))}` : line;
    });

/** A CCM entry whose text spans lines (its inner line breaks sometimes CRLF). */
const multiLineArb = fc
  .record({
    time: dateArb,
    bias: biasArb,
    type: typeArb,
    component: attrArb(false),
    thread: fc.nat(),
    segments: fc.array(textArb(false, 8), { minLength: 2, maxLength: 4 }),
    crlf: fc.boolean(),
  })
  .map(({ time, bias, type, component, thread, segments, crlf }) =>
    formatCmtraceLine({ time, type, component, thread, text: segments.join('\n') }, () => bias)
      .slice(0, -1)
      .replaceAll('\n', crlf ? '\r\n' : '\n'),
  );

const two = (n: number) => String(n).padStart(2, '0');

/** Valid CCM attributes outside the canonical layout (the regular expression reads them). */
const looseArb = fc
  .record({
    h: fc.integer({ min: 0, max: 23 }),
    mi: fc.integer({ min: 0, max: 59 }),
    s: fc.integer({ min: 0, max: 59 }),
    y: fc.integer({ min: 2000, max: 2099 }),
    mo: fc.integer({ min: 1, max: 12 }),
    d: fc.integer({ min: 1, max: 28 }),
    padTime: fc.boolean(),
    padDate: fc.boolean(),
    frac: fc.constantFrom('.123', '.1234567', '.5', ''),
    bias: fc.constantFrom('', '+0', '+60', '-60', '+000', '-120', '+420', '-1000'),
    type: fc.constantFrom('0', '1', '2', '3'),
    file: fc.constantFrom('', ' file=""', ' file="x.cpp:1"'),
    context: fc.constantFrom('', 'NT AUTHORITY\\SYSTEM'),
    gap: fc.constantFrom(' ', '  ', '\t'),
    component: attrArb(false),
    thread: fc.nat(),
    text: textArb(false),
  })
  .map(
    (r) =>
      `<![LOG[${r.text}]LOG]!><time="${r.padTime ? two(r.h) : r.h}:${two(r.mi)}:${two(r.s)}${r.frac}${r.bias}"${r.gap}` +
      `date="${r.padDate ? two(r.mo) : r.mo}-${r.padDate ? two(r.d) : r.d}-${r.y}"${r.gap}component="${r.component}"${r.gap}` +
      `context="${r.context}"${r.gap}type="${r.type}"${r.gap}thread="${r.thread}"${r.file}>`,
  );

/** Lines that start an entry but whose attributes do not read: they join the text before them. */
const garbageArb = fc.oneof(
  fc
    .record({
      text: textArb(false),
      attrs: fc.constantFrom(
        'time="garbage">',
        '',
        '>',
        'time="03:12:45.123+000" date="xx-29-2026" component="C" context="" type="1" thread="1" file="">',
        'time="03:1a:45.123+000" date="11-29-2026" component="C" context="" type="1" thread="1" file="">',
        'time="03:12:45.123+000" date="11-29-2026" component="C" context="" type="7" thread="1" file="">',
        'time="03:12:45.123+000" date="11-29-2026" component="C" context="" type="1" thread="1',
      ),
    })
    .map(({ text, attrs }) => `<![LOG[${text}]LOG]!><${attrs}`),
  // A canonical line cut somewhere in its attributes (sometimes still readable: cut after file's quote).
  fc.tuple(canonicalArb(false), fc.nat()).map(([line, n]) => {
    const from = line.lastIndexOf(']LOG]!><') + 8;
    return line.slice(0, from + (n % (line.length - from)));
  }),
);

/** `<![LOG[` and no tail: the entry goes on over the next lines. */
const openArb = textArb(false).map((t) => `<![LOG[${t.replaceAll(']LOG]!><', '')}`);

const smsArb = fc
  .record({
    text: fc.oneof({ arbitrary: textArb(false), weight: 4 }, { arbitrary: textArb(true), weight: 1 }),
    pad: fc.constantFrom(' ', '  ', ' ~', ''),
    component: fc.stringMatching(/^[A-Z_]{1,12}$/),
    mo: fc.integer({ min: 1, max: 12 }),
    d: fc.integer({ min: 1, max: 28 }),
    time: fc.constantFrom('01:02:03.456', '1:02:03.4567890', '23:59:59.000'),
    bias: fc.constantFrom('+060', '-60', '+000', ''),
    thread: fc.nat(),
  })
  .map(
    (r) =>
      `${r.text}${r.pad} $$<${r.component}><${two(r.mo)}-${two(r.d)}-2026 ${r.time}${r.bias}><thread=${r.thread} (0x${r.thread.toString(16).toUpperCase()})>`,
  );

const lineArb = fc.oneof(
  { arbitrary: canonicalArb(false), weight: 12 },
  { arbitrary: canonicalArb(true), weight: 2 },
  { arbitrary: multiLineArb, weight: 2 },
  { arbitrary: looseArb, weight: 3 },
  { arbitrary: garbageArb, weight: 2 },
  { arbitrary: openArb, weight: 1 },
  { arbitrary: textArb(false), weight: 3 }, // plain text: a continuation
  { arbitrary: textArb(true), weight: 1 },
  { arbitrary: fc.constant(''), weight: 2 },
  { arbitrary: smsArb, weight: 2 },
  { arbitrary: fc.constant('cost: $$<not a tail>'), weight: 1 },
  // Bytes that are not UTF-8: a stray byte, a character cut short.
  {
    arbitrary: fc
      .tuple(textArb(false, 4), fc.constantFrom([0xff], [0x80], [0xc3], [0xe4, 0xb8], [0xf0, 0x9f, 0x98]))
      .map(([t, bytes]) => Buffer.concat([Buffer.from(t), Buffer.from(bytes)])),
    weight: 1,
  },
);

const logArb = fc
  .record({
    bom: fc.boolean(),
    lines: fc.array(fc.record({ line: lineArb, eol: fc.constantFrom('\n', '\n', '\n', '\r\n') }), {
      maxLength: 8,
    }),
    lastEol: fc.constantFrom('keep', 'keep', 'none', '\r'),
  })
  .map(({ bom, lines, lastEol }) => {
    const parts: Buffer[] = [Buffer.from(bom ? '\ufeff' : '')];
    lines.forEach(({ line, eol }, i) => {
      parts.push(typeof line === 'string' ? Buffer.from(line) : line);
      parts.push(
        Buffer.from(i < lines.length - 1 || lastEol === 'keep' ? eol : lastEol === 'none' ? '' : '\r'),
      );
    });
    return Buffer.concat(parts);
  });

test('property: the byte path writes exactly what the general path writes, whatever the log and chunk size', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmg-ndjson-prop-'));
  try {
    const path = join(dir, 'gen.log');
    await fc.assert(
      // Reads are what this costs (a round trip each): small logs, read in chunks of 7 bytes (every line split),
      // of a size drawn at random (lines split or whole in a chunk, which the next read reuses) and whole (the
      // logs are mostly under 1000 bytes: 1000 would read them whole too).
      fc.asyncProperty(logArb, fc.integer({ min: 8, max: 400 }), async (log, random) => {
        writeFileSync(path, log);
        await compareAt(path, [7, random, 1 << 20]);
      }),
      { numRuns: 300 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- each case alone -----------------------------------------------------------

test('every JSON escape: control characters, quote, backslash, DEL, as JSON.stringify writes them', async () => {
  // Every character below 0x20 but the line break, which would end the line.
  let controls = '';
  for (let c = 0; c < 0x20; c++) if (c !== 10) controls += String.fromCharCode(c);
  const text = `a${controls}"\\\u007f/<>'z`;
  const attr = 'C\t\u0001\\\u001f\u007fx';
  const line = canonicalRaw(text, { component: attr, file: attr });
  const [e] = await same(`${line}\n`);
  assert.is(e?.text, text);
  assert.is(e?.component, attr);
  assert.is(e?.file, attr);
  // The escapes are JSON.stringify's (short forms, lower-case \u00xx), byte for byte.
  const out = await withFile(`${line}\n`, async (p) => shown((await bytePath(p, 1 << 20)).bytes));
  assert.ok(out.includes(`"text":${JSON.stringify(text)},`), out);
  assert.ok(out.includes(`"component":${JSON.stringify(attr)},`), out);
  assert.ok(out.includes('\\u0001') && out.includes('\\u001f') && out.includes('\\b\\t'), out);
});

test('a canonical line as cmg writes it: every field', async () => {
  const all = await same(`${canonical('hello', { type: 'warning', thread: 7, bias: -120 })}\n`);
  assert.equal(all, [
    {
      time: '2026-11-29T03:12:45.123Z',
      type: 'warning',
      component: 'CMGService',
      thread: '7',
      file: 'channel.ts:88',
      text: 'hello',
      source: all[0]?.source,
    },
  ]);
});

test('many canonical lines (more than a batch holds, lines split by every chunk size)', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 2500; i++)
    lines.push(canonical(`entry ${i}`, { at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() }));
  // 2500 lines: more than a batch's first 1024 ends; chunks of 300 bytes end mid-line.
  const all = await same(`${lines.join('\n')}\n`, [300, 4096, 1 << 20]);
  assert.is(all.length, 2500);
});

test('chunks that end exactly at line ends (the held line outlives the chunk it was read in)', async () => {
  const line = (i: number) => canonical(`entry ${String(i).padStart(4, '0')}`, { thread: 1000 + i });
  const n = Buffer.byteLength(line(0)) + 1;
  const log = `${Array.from({ length: 40 }, (_, i) => line(i)).join('\n')}\n`;
  const all = await same(log, [n - 1, n, n + 1, 2 * n, 2 * n - 1, 3 * n + 1]);
  assert.equal(
    all.map((e) => e.thread),
    Array.from({ length: 40 }, (_, i) => String(1000 + i)),
  );
  // A continuation after each: the held line joins the parser after its chunk is gone.
  const continued = `${Array.from({ length: 20 }, (_, i) => `${line(i)}\nmore ${i}`).join('\n')}\n`;
  const texts = await same(continued, [n - 1, n, n + 1, 2 * n]);
  assert.is(texts[19]?.text, 'entry 0019\nmore 19');
});

test('a long line, bigger than the chunks and the batch buffer', async () => {
  const long = 'x"\\\u0001'.repeat(50_000);
  const all = await same(`${canonical('a')}\n${canonicalRaw(long)}\n${canonical('b')}\n`, [
    1000,
    65536,
    1 << 20,
  ]);
  assert.equal(
    all.map((e) => (e.text as string).length),
    [1, long.length, 1],
  );
});

test('a canonical line followed by a continuation line: it joins that entry', async () => {
  const all = await same(`${canonical('first')}\n  continued here\n${canonical('second')}\n`);
  assert.equal(
    all.map((e) => e.text),
    ['first\n  continued here', 'second'],
  );
});

test('a canonical line followed by a garbage <![LOG[ line: the garbage joins its text', async () => {
  const garbage = '<![LOG[half]LOG]!><time="garbage">';
  const all = await same(`${canonical('first')}\n${garbage}\n${canonical('second')}\n`);
  assert.equal(
    all.map((e) => e.text),
    [`first\n${garbage}`, 'second'],
  );
});

test('garbage <![LOG[ lines of every kind', async () => {
  for (const attrs of [
    'time="03:12:45.123+000" date="xx-29-2026" component="C" context="" type="1" thread="1" file="">',
    'time="03:1a:45.123+000" date="11-29-2026" component="C" context="" type="1" thread="1" file="">',
    'time="03:12:45.123+000" date="11-29-2026" component="C" context="" type="7" thread="1" file="">',
    'time="03:12:45.123+000" date="11-29-2026" component="C" context="" type="1" thread="1',
    '',
  ]) {
    const bad = `<![LOG[t]LOG]!><${attrs}`;
    await same(`${bad}\n${canonical('a')}\n${bad}\n${bad}\n`);
    await same(bad);
  }
});

test('a CCM entry spanning several lines', async () => {
  const text = 'Request failed\n   at forward (proxy.ts:120)\n\n   at handle';
  const all = await same(
    `${canonical('before')}\n${canonical(text, { type: 'error' })}\n${canonical('after')}\n`,
  );
  assert.equal(
    all.map((e) => [e.text, e.type]),
    [
      ['before', 'info'],
      [text, 'error'],
      ['after', 'info'],
    ],
  );
});

test('a <![LOG[ line without its tail: later lines, a canonical one included, are its text', async () => {
  const all = await same(
    `${canonical('a')}\n<![LOG[open\nplain\n${canonical('closes it')}\n${canonical('b')}\n`,
  );
  assert.equal(
    all.map((e) => e.text),
    ['a', 'open\nplain\n<![LOG[closes it', 'b'],
  );
  // Never closed: text of the entry before; alone, an entry without a time.
  await same(`${canonical('a')}\n<![LOG[never closed\nmore`);
  const alone = await same('<![LOG[never closed\nmore\n');
  assert.equal(alone[0]?.time, null);
});

test('valid CCM attributes outside the canonical layout: each variation', async () => {
  const base = (time: string, date: string, rest = ' file="x.cpp:1"') =>
    `<![LOG[t]LOG]!><time="${time}" date="${date}" component="CloudMgr" context="" type="2" thread="9"${rest}>`;
  const cases = {
    'unpadded date': base('03:12:45.123+000', '1-2-2026'),
    'unpadded time': base('3:12:45.123+000', '11-29-2026'),
    'seven-digit fraction': base('03:12:45.1234567+000', '11-29-2026'),
    'one-digit fraction': base('03:12:45.5+000', '11-29-2026'),
    'no fraction': base('03:12:45+000', '11-29-2026'),
    'two-digit bias': base('03:12:45.123-60', '11-29-2026'),
    'four-digit bias': base('03:12:45.123+1000', '11-29-2026'),
    'no bias': base('03:12:45.123', '11-29-2026'),
    'no file attribute': base('03:12:45.123+000', '11-29-2026', ''),
    'two spaces between attributes': base('03:12:45.123+000', '11-29-2026').replace('" date', '"  date'),
    'a context with a backslash': base('03:12:45.123+000', '11-29-2026').replace(
      'context=""',
      'context="NT AUTHORITY\\SYSTEM"',
    ),
    'type 0': base('03:12:45.123+000', '11-29-2026').replace('type="2"', 'type="0"'),
  };
  for (const [name, line] of Object.entries(cases)) {
    const all = await withFile(`${canonical('a')}\n${line}\n${canonical('b')}\n`, async (p) => {
      try {
        return parsed((await compareAt(p)).bytes);
      } catch (e) {
        throw new Error(`${name}: ${(e as Error).message}`);
      }
    });
    assert.is(all.length, 3, name);
    assert.ok(all[1]?.time !== null, name);
    assert.is(all[1]?.file, name === 'no file attribute' ? '' : 'x.cpp:1', name);
    assert.is(all[1]?.type, name === 'type 0' ? 'info' : 'warning', name);
  }
});

test('two spaces before file=: the file is read, as the regular expression reads it', async () => {
  // The positional reader (CanonicalReader in src/logs/parse.ts) looks for ` file="` one character after the
  // thread's closing quote; with two spaces it takes the line as canonical without a file, where the regular
  // expression (`\s+file="`) reads it. The same line with an unpadded hour (regular expression only) gives
  // the file.
  const line = (time: string) =>
    `<![LOG[t]LOG]!><time="${time}" date="11-29-2026" component="C" context="" type="1" thread="1"  file="x.cpp:1">`;
  const viaRegExp = await same(`${line('3:12:45.123+000')}\n`);
  assert.is(viaRegExp[0]?.file, 'x.cpp:1');
  const canonicalLayout = await same(`${line('03:12:45.123+000')}\n`);
  assert.is(canonicalLayout[0]?.file, 'x.cpp:1');
});

test('plain text before any entry: an entry without a time (key -Infinity)', async () => {
  await withFile(`*** log started ***\nsecond header\n${canonical('a')}\n`, async (p) => {
    const out = await compareAt(p);
    assert.equal(out.keys, [Number.NEGATIVE_INFINITY, Date.UTC(2026, 10, 29, 3, 12, 45, 123)]);
    assert.equal(parsed(out.bytes)[0]?.time, null);
  });
});

test('a file of plain text only, and an empty file', async () => {
  await same('alpha\nbeta\ngamma');
  assert.equal(await same(''), []);
  assert.equal(await same('\n\n\r\n'), []);
});

test('empty lines between and after entries are skipped', async () => {
  const all = await same(`\n${canonical('a')}\n\n\n${canonical('b')}\r\n\r\n\n`);
  assert.equal(
    all.map((e) => e.text),
    ['a', 'b'],
  );
});

test('SMS lines, valid and not, among canonical ones', async () => {
  const all = await same(`${canonical('a')}\n${SMS}\n${canonical('b')}\ncost: $$<not a tail>\n${SMS}\n`);
  assert.equal(
    all.map((e) => e.text),
    [
      'a',
      'Connection point started\n  listening on 443',
      'b\ncost: $$<not a tail>',
      'Connection point started\n  listening on 443',
    ],
  );
  assert.is(all[1]?.time, '2026-11-29T02:02:03.456Z');
});

test('non-ASCII text, component and file, split by every chunk size', async () => {
  const log =
    `${canonical('a')}\n${canonical('é 中 😀 €', { component: 'Compé', file: '中.cpp' })}\n` +
    `${canonical('b')}\nplain 😀 line\n${canonical('c')}\n`;
  const chunks = Array.from({ length: 24 }, (_, i) => i + 1);
  const all = await same(log, [...chunks, 1 << 20]);
  assert.equal(
    all.map((e) => e.text),
    ['a', 'é 中 😀 €', 'b\nplain 😀 line', 'c'],
  );
});

test('CRLF line ends, on some lines and inside a multi-line entry', async () => {
  const all = await same(
    `${canonical('a')}\r\n${canonical('b')}\n<![LOG[x\r\ny${canonical('c').slice(7)}\r\ncont\r\n`,
  );
  assert.equal(
    all.map((e) => e.text),
    ['a', 'b', 'x\nyc\ncont'],
  );
});

test('no final newline: the last line is still read (canonical, plain, a trailing CR)', async () => {
  await same(`${canonical('a')}\n${canonical('last')}`);
  await same(`${canonical('a')}\n${canonical('last')}\r`);
  await same(`${canonical('a')}\nplain tail`);
  await same(`${canonical('a')}\nplain tail\r`);
  await same(canonical('only'));
});

test('a byte order mark: removed, also when split across the first chunks', async () => {
  for (const rest of [`${canonical('a')}\n${canonical('b')}\n`, 'plain\n', canonical('a'), '', 'x', 'xy']) {
    const all = await same(`\ufeff${rest}`, TINY);
    for (const e of all) assert.not.ok((e.text as string).startsWith('\ufeff'));
  }
  // Chunks of 1 and 2 bytes put the mark across the first reads.
  const all = await same(`\ufeff${canonical('a')}\n`, [1, 2]);
  assert.equal(
    all.map((e) => e.text),
    ['a'],
  );
});

test('only part of a byte order mark (a file of 1 or 2 bytes of it)', async () => {
  await same(Buffer.from([0xef]), TINY);
  await same(Buffer.from([0xef, 0xbb]), TINY);
  await same(Buffer.from([0xef, 0xbb, 0xbf]), TINY);
  await same(Buffer.from([0xef, 0xbb, 0x41, 0x0a]), TINY); // not a mark: kept as the general path keeps it
});

test('a byte order mark followed by U+FEFF in the first entry text: only the mark is removed', async () => {
  // The general path removes one U+FEFF at the start of the file; the byte path must remove one too, not two (a
  // version that dropped the mark's bytes and then let the parser drop a U+FEFF again removed both).
  const all = await same(`\ufeff\ufeffheader\n${canonical('a')}\n`, TINY);
  assert.equal(
    all.map((e) => e.text),
    ['\ufeffheader', 'a'],
  );
});

test('bytes that are not UTF-8 decode as the general path decodes them', async () => {
  const c = Buffer.from(`${canonical('a')}\n`);
  await same(Buffer.concat([c, Buffer.from([0xff, 0x41, 0x0a]), c]), TINY);
  await same(Buffer.concat([c, Buffer.from([0xe4, 0xb8, 0x0a]), c]), TINY); // a character cut before a line break
  await same(Buffer.concat([c, Buffer.from([0xf0, 0x9f, 0x98])]), TINY); // cut at the end of the file
  await same(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf, 0xff]), c]), TINY); // after a byte order mark
});

test('endOffset: only the bytes before it are read; 0 reads nothing', async () => {
  const a = `${canonical('first')}\n`;
  const b = `${canonical('second')}\n`;
  const log = `${a}${b}more\n${canonical('é')}\n`;
  await withFile(log, async (p) => {
    assert.equal((await bytePath(p, 1 << 20, 0)).bytes.length, 0);
    assert.equal((await generalPath(p, 0)).bytes.length, 0);
    const size = Buffer.byteLength(log);
    const inE = Buffer.from(log).indexOf('é') + 1; // between the two bytes of é
    for (const end of [
      inE,
      1,
      10,
      a.length - 1,
      a.length,
      a.length + 1,
      a.length + 20,
      a.length + b.length,
      size - 3,
      size,
    ]) {
      const want = await compareAt(p, [1, 7, 64, 1 << 20], end);
      // The same as reading a file that ends there.
      await withFile(Buffer.from(log).subarray(0, end), async (q) => {
        const whole = await generalPath(q);
        assert.is(
          shown(want.bytes).replaceAll(JSON.stringify(p), '""'),
          shown(whole.bytes).replaceAll(JSON.stringify(q), '""'),
          `endOffset ${end}`,
        );
      });
    }
    const first = parsed((await bytePath(p, 7, a.length)).bytes);
    assert.equal(
      first.map((e) => e.text),
      ['first'],
    );
  });
});

test('the source: a path with a quote and a backslash is escaped as JSON', async () => {
  await same(`${canonical('a')}\n${SMS}\n${canonical('b')}\n`, [7, 1 << 20], 'we"ird\\dir/x.log');
});

test('the source: a path with non-ASCII characters is written as UTF-8', async () => {
  const all = await same(`${canonical('a')}\n${SMS}\n${canonical('b')}\n`, [7, 1 << 20], 'José 中/x.log');
  for (const e of all) assert.ok((e.source as string).endsWith('José 中/x.log'), String(e.source));
});

test('a filter on the type: the byte path keeps what the general path keeps', async () => {
  const log = [
    'header without time',
    canonical('i1'),
    canonical('e1', { type: 'error' }),
    'continues e1',
    canonical('w1', { type: 'warning' }),
    canonical('e2', { type: 'error' }),
    `<![LOG[multi\nline error${canonical('x', { type: 'error' }).slice(7)}`,
    SMS,
    canonical('e3 é', { type: 'error' }),
    '<![LOG[t]LOG]!><time="03:12:45.123-60" date="1-2-2026" component="C" context="" type="3" thread="1">',
    canonical('e4', { type: 'error' }),
  ].join('\n');
  const filter: NdjsonFilter = {
    keep: (_ms, type) => type === 'error',
    keepEntry: (e) => e.type === 'error',
  };
  await withFile(log, async (p) => {
    const want = await generalPath(p, undefined, (e) => e.type === 'error');
    for (const c of CHUNKS) assertSame(await bytePath(p, c, undefined, filter), want, `chunkBytes ${c}`);
    assert.equal(
      parsed(want.bytes).map((e) => e.text),
      ['e1\ncontinues e1', 'e2', 'multi\nline errorx', 'e3 é', 't', 'e4'],
    );
  });
});

test('a filter on the type, on generated logs (property)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmg-ndjson-prop-'));
  try {
    const path = join(dir, 'gen.log');
    const filter: NdjsonFilter = {
      keep: (_ms, type) => type === 'error',
      keepEntry: (e) => e.type === 'error',
    };
    await fc.assert(
      fc.asyncProperty(logArb, fc.constantFrom(7, 64, 1 << 20), async (log, chunk) => {
        writeFileSync(path, log);
        const want = await generalPath(path, undefined, (e) => e.type === 'error');
        assertSame(await bytePath(path, chunk, undefined, filter), want, `chunkBytes ${chunk}`);
      }),
      { numRuns: 100 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('property: escaped() writes what JSON.stringify writes, for ASCII text at every alignment and length', () => {
  // escaped() looks for the bytes to escape four at a time (32-bit words of the buffer's memory): the text's start,
  // its end and the escapes are placed at every offset from a word boundary, in buffers that start off one too.
  const byte = fc.oneof(
    { arbitrary: fc.integer({ min: 0x20, max: 0x7f }), weight: 20 },
    { arbitrary: fc.integer({ min: 0, max: 0x1f }), weight: 2 },
    { arbitrary: fc.constantFrom(0x22, 0x5c, 0x21, 0x23, 0x5b, 0x5d, 0x7f), weight: 2 },
  );
  fc.assert(
    fc.property(
      fc.array(byte, { maxLength: 120 }),
      fc.nat(7),
      fc.nat(7),
      fc.nat(7),
      (bytes, bufferShift, before, after) => {
        const memory = Buffer.alloc(bufferShift + before + bytes.length + after, 0x22); // quotes around: not read
        const src = memory.subarray(bufferShift);
        src.set(bytes, before);
        const out = new RenderedLines(1024);
        out.escaped(src, before, before + bytes.length);
        const text = String.fromCharCode(...bytes);
        assert.is(out.bytes.toString('latin1', 0, out.used), JSON.stringify(text).slice(1, -1));
      },
    ),
    { numRuns: 5000 },
  );
});

test.run();
