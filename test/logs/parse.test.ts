/**
 * The log parser (src/logs/parse.ts) on real-shaped lines of both
 * Configuration Manager formats: CCM `<![LOG[...]LOG]!><time=... >` (one line
 * or several) and the simple SMS `text $$<Component><date time+bias><thread=N (0xN)>`.
 */
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatCmtraceLine, type SeverityName } from '../../src/logs/cmtrace-format.js';
import { CanonicalReader, LogParser, type ParsedEntry } from '../../src/logs/parse.js';

/** An entry with its time as ISO text, for readable diffs. */
type Shown = Omit<ParsedEntry, 'time'> & { time: string | undefined };
const show = (e: ParsedEntry): Shown => ({ ...e, time: e.time?.toISOString() });

/** Parses text pushed in pieces cut at `cuts` (positions), then ends. */
function parse(text: string, cuts: number[] = [], source = 'X.log'): ParsedEntry[] {
  const p = new LogParser(source);
  const out: ParsedEntry[] = [];
  let at = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    out.push(...p.push(text.slice(at, c)));
    at = c;
  }
  out.push(...p.push(text.slice(at)));
  out.push(...p.end());
  return out;
}
const parseShown = (text: string, cuts: number[] = []) => parse(text, cuts).map(show);

/** The one entry `text` parses to. */
function one(text: string): Shown {
  const all = parseShown(text);
  assert.is(all.length, 1, `expected one entry from ${JSON.stringify(text)}, got ${JSON.stringify(all)}`);
  return all[0] as Shown;
}

const entry = (e: Partial<Shown> & Pick<Shown, 'text'>): Shown => ({
  time: undefined,
  type: 'info',
  component: '',
  thread: '',
  file: '',
  source: 'X.log',
  seq: 0,
  ...e,
});

// ---- CCM format ------------------------------------------------------------

const CCM_SINGLE =
  '<![LOG[Connected to cp01.contoso.com:443 (channel 3)]LOG]!><time="03:12:45.123+000" date="11-29-2026" component="CMGService" context="" type="1" thread="4242" file="channel.ts:88">';

test('CCM: a single line, every field', () => {
  assert.equal(
    one(`${CCM_SINGLE}\n`),
    entry({
      time: '2026-11-29T03:12:45.123Z',
      type: 'info',
      component: 'CMGService',
      thread: '4242',
      file: 'channel.ts:88',
      text: 'Connected to cp01.contoso.com:443 (channel 3)',
    }),
  );
});

test('CCM: the attributes as cmg writes them take the positional reader, and it reads them exactly', () => {
  // The reader declining every line went unnoticed once: the answer is the same through the regular expression.
  const r = new CanonicalReader();
  const cases: [string, number, string, string, string][] = [
    [CCM_SINGLE, Date.UTC(2026, 10, 29, 3, 12, 45, 123), 'CMGService', '4242', 'channel.ts:88'],
    [
      formatCmtraceLine(
        {
          time: new Date(Date.UTC(2026, 0, 2, 23, 59, 59, 7)),
          type: 'error',
          component: 'CMGHttpHandler',
          thread: 9,
          text: 'x',
        },
        () => -60,
      ).trimEnd(),
      Date.UTC(2026, 0, 2, 23, 59, 59, 7),
      'CMGHttpHandler',
      '9',
      '',
    ],
    [
      '<![LOG[t]LOG]!><time="23:30:00.000-300" date="12-31-2026" component="SMS_CLOUD_PROXYCONNECTOR" context="" type="2" thread="1861" file="">',
      Date.UTC(2026, 11, 31, 18, 30),
      'SMS_CLOUD_PROXYCONNECTOR',
      '1861',
      '',
    ],
  ];
  for (const [line, ms, component, thread, file] of cases) {
    const at = line.lastIndexOf(']LOG]!><') + 8;
    // From the string (the parser's) and from the bytes (the --json byte path's), behind other text in both.
    const text = `${'x'.repeat(5)}${line}`;
    const bytes = Buffer.from(`${line}\n<![LOG[next`, 'latin1');
    const reads: [() => boolean, string][] = [
      [() => r.readText(text, at + 5), text],
      [() => r.read(bytes, at, line.length), line],
    ];
    for (const [read, t] of reads) {
      assert.ok(read(), line);
      assert.is(r.ms, ms, line);
      assert.is(t.slice(r.component, r.componentEnd), component);
      assert.is(t.slice(r.thread, r.threadEnd), thread);
      assert.is(t.slice(r.file, r.fileEnd), file);
    }
  }
  // Not the canonical layout: declined (and read by the regular expression instead).
  for (const odd of [
    '<![LOG[t]LOG]!><time="3:12:45.123+000" date="11-29-2026" component="C" context="" type="1" thread="1" file="">',
    '<![LOG[t]LOG]!><time="03:12:45.1234567+000" date="11-29-2026" component="C" context="" type="1" thread="1" file="">',
    '<![LOG[t]LOG]!><time="03:12:45.123+000" date="1-29-2026" component="C" context="" type="1" thread="1" file="">',
    '<![LOG[t]LOG]!><time="03:12:45.123+000" date="11-29-2026" component="C" context="" type="7" thread="1" file="">',
    // Found by fuzzing the reader against the regular expression: names checked whole, nothing unread after the thread.
    '<![LOG[t]LOG]!><time="03:12:45.123+000" date="11-29-2026" c45ponent="C" context="" type="1" thread="1" file="">',
    '<![LOG[t]LOG]!><time="03:12:45.123+000" date="11-29-2026" component="C" context="" type="1" thread="1"0file="x">',
    '<![LOG[t]LOG]!><time="03:12:45.123+000" date="11-29-2026" component="C" context="" type="1" thread="1"  file="x">',
  ]) {
    const at = odd.lastIndexOf(']LOG]!><') + 8;
    assert.not.ok(r.readText(odd, at), odd);
    assert.not.ok(r.read(Buffer.from(odd, 'latin1'), at, odd.length), odd);
  }
});

test('CCM: a message spanning several lines keeps its line breaks', () => {
  const text =
    '<![LOG[Request failed: 502 Bad Gateway\n' +
    '   at forward (proxy.ts:120)\n' +
    '\n' +
    '   at handle (server.ts:44)]LOG]!><time="03:12:46.007+000" date="11-29-2026" component="CMGHttpHandler" context="" type="3" thread="77" file="proxy.ts:120">\n' +
    CCM_SINGLE;
  assert.equal(parseShown(text), [
    entry({
      time: '2026-11-29T03:12:46.007Z',
      type: 'error',
      component: 'CMGHttpHandler',
      thread: '77',
      file: 'proxy.ts:120',
      text: 'Request failed: 502 Bad Gateway\n   at forward (proxy.ts:120)\n\n   at handle (server.ts:44)',
    }),
    entry({
      time: '2026-11-29T03:12:45.123Z',
      component: 'CMGService',
      thread: '4242',
      file: 'channel.ts:88',
      text: 'Connected to cp01.contoso.com:443 (channel 3)',
      seq: 1,
    }),
  ]);
});

test('CCM: CRLF line ends, also inside a multi-line message', () => {
  const text =
    '<![LOG[first\r\nsecond]LOG]!><time="03:00:00.000+000" date="11-29-2026" component="CMGSetup" context="" type="1" thread="1" file="">\r\n' +
    '<![LOG[third]LOG]!><time="03:00:01.000+000" date="11-29-2026" component="CMGSetup" context="" type="1" thread="1" file="">\r\n';
  assert.equal(
    parseShown(text).map((e) => [e.text, e.time]),
    [
      ['first\nsecond', '2026-11-29T03:00:00.000Z'],
      ['third', '2026-11-29T03:00:01.000Z'],
    ],
  );
});

test('CCM: a seven-digit fraction (milliseconds from its first three digits)', () => {
  const e = one(
    '<![LOG[Cloud service deployment started]LOG]!><time="10:20:30.1234567+000" date="11-29-2026" component="CloudMgr" context="" type="1" thread="5120" file="cloudmanager.cpp:1203">',
  );
  assert.is(e.time, '2026-11-29T10:20:30.123Z');
  assert.is(e.component, 'CloudMgr');
  assert.is(e.thread, '5120');
  assert.is(e.file, 'cloudmanager.cpp:1203');
  assert.is(e.text, 'Cloud service deployment started');
});

test('CCM: a one-digit fraction is tenths of a second', () => {
  const e = one(
    '<![LOG[x]LOG]!><time="10:20:30.5+000" date="11-29-2026" component="A" context="" type="1" thread="1" file="">',
  );
  assert.is(e.time, '2026-11-29T10:20:30.500Z');
});

test('CCM: two-digit biases +60 and -60', () => {
  const at = (bias: string) =>
    one(
      `<![LOG[x]LOG]!><time="10:00:00.000${bias}" date="11-29-2026" component="CloudMgr" context="" type="1" thread="1" file="">`,
    ).time;
  assert.is(at('+60'), '2026-11-29T11:00:00.000Z');
  assert.is(at('-60'), '2026-11-29T09:00:00.000Z');
  assert.is(at('+060'), '2026-11-29T11:00:00.000Z');
  assert.is(at('-060'), '2026-11-29T09:00:00.000Z');
});

test('CCM: UTC = local + bias minutes (a negative bias crosses midnight backwards, a positive one the year)', () => {
  const at = (time: string, date: string) =>
    one(
      `<![LOG[x]LOG]!><time="${time}" date="${date}" component="CloudMgr" context="" type="1" thread="1" file="">`,
    ).time;
  assert.is(at('01:00:00.000-120', '07-04-2026'), '2026-07-03T23:00:00.000Z');
  assert.is(at('22:30:00.000+420', '12-31-2026'), '2027-01-01T05:30:00.000Z');
  assert.is(at('12:00:00.000+000', '02-28-2026'), '2026-02-28T12:00:00.000Z');
});

test('CCM: unpadded date and time fields', () => {
  const e = one(
    '<![LOG[Checking the subscription]LOG]!><time="7:05:09.250+000" date="1-2-2026" component="CloudMgr" context="" type="1" thread="3536" file="">',
  );
  assert.is(e.time, '2026-01-02T07:05:09.250Z');
});

test('CCM: no bias at all reads as UTC', () => {
  const e = one(
    '<![LOG[Download worker started]LOG]!><time="13:59:35.6771034" date="11-29-2022" component="SMS_SERVICE_CONNECTOR_GenericDownloadWorker" context="" type="1" thread="137" file="">',
  );
  assert.is(e.time, '2022-11-29T13:59:35.677Z');
  assert.is(e.component, 'SMS_SERVICE_CONNECTOR_GenericDownloadWorker');
});

test('CCM: the file attribute missing, empty or present', () => {
  const base =
    '<![LOG[x]LOG]!><time="10:00:00.000+000" date="11-29-2026" component="CMGSetup" context="" type="1" thread="9"';
  assert.is(one(`${base}>`).file, '');
  assert.is(one(`${base}>`).time, '2026-11-29T10:00:00.000Z');
  assert.is(one(`${base}>`).thread, '9');
  assert.is(one(`${base} file="">`).file, '');
  assert.is(one(`${base} file="setup.cpp:77">`).file, 'setup.cpp:77');
});

test('CCM: types 0 and 1 are info, 2 warning, 3 error', () => {
  const typeOf = (n: string) =>
    one(
      `<![LOG[x]LOG]!><time="10:00:00.000+000" date="11-29-2026" component="CloudMgr" context="" type="${n}" thread="1" file="">`,
    ).type;
  assert.equal(['0', '1', '2', '3'].map(typeOf), [
    'info',
    'info',
    'warning',
    'error',
  ] satisfies SeverityName[]);
});

test('CCM: a context with text (and a backslash) does not disturb the other fields', () => {
  const e = one(
    '<![LOG[Certificate expires in 12 days]LOG]!><time="14:02:11.456+060" date="11-29-2026" component="CloudMgr" context="NT AUTHORITY\\SYSTEM" type="2" thread="3536" file="cloudmanager.cpp:512">',
  );
  assert.equal(
    e,
    entry({
      time: '2026-11-29T15:02:11.456Z',
      type: 'warning',
      component: 'CloudMgr',
      thread: '3536',
      file: 'cloudmanager.cpp:512',
      text: 'Certificate expires in 12 days',
    }),
  );
});

test('CCM: the marker inside the text: the last one closes the message', () => {
  const e = one(
    '<![LOG[quoted ]LOG]!><x> inside]LOG]!><time="10:00:00.000+000" date="11-29-2026" component="A" context="" type="1" thread="1" file="">',
  );
  assert.is(e.text, 'quoted ]LOG]!><x> inside');
  assert.is(e.component, 'A');
});

test('CCM: a line with the marker but unreadable attributes is kept as text', () => {
  const bad = '<![LOG[half]LOG]!><time="garbage">';
  assert.equal(parseShown(`${bad}\n`), [entry({ text: bad })]);
  assert.equal(
    parseShown(`${CCM_SINGLE}\n${bad}\n`)[0]?.text,
    `Connected to cp01.contoso.com:443 (channel 3)\n${bad}`,
  );
});

// ---- SMS format ------------------------------------------------------------

const SMS_LINE =
  'Connection point started~~  listening on 443 $$<SMS_CLOUD_PROXYCONNECTOR><11-29-2026 03:12:45.123+060><thread=4242 (0x1092)>';

test('SMS: component, time from the bias, thread, ~~ as line breaks', () => {
  const e = one(SMS_LINE);
  assert.equal(
    { ...e, text: e.text.trimEnd() },
    entry({
      time: '2026-11-29T04:12:45.123Z',
      type: 'info',
      component: 'SMS_CLOUD_PROXYCONNECTOR',
      thread: '4242',
      file: '',
      text: 'Connection point started\n  listening on 443',
    }),
  );
});

test('SMS: the separator before $$< is not part of the text', () => {
  // Configuration Manager writes one or more spaces between the text and `$$<`.
  assert.is(one(SMS_LINE).text, 'Connection point started\n  listening on 443');
  assert.is(
    one(
      'Submitted request successfully  $$<SMS_CLIENT_CONFIG_MANAGER><09-25-2026 15:13:57.327-60><thread=19068 (0x4A7C)>',
    ).text,
    'Submitted request successfully',
  );
});

test('SMS: a seven-digit fraction and a two-digit bias', () => {
  const seven = one(
    'Proxy connector heartbeat $$<SMS_CLOUD_PROXYCONNECTOR><11-29-2026 03:12:45.1234567-060><thread=4242 (0x1092)>',
  );
  assert.is(seven.time, '2026-11-29T02:12:45.123Z');
  assert.is(seven.thread, '4242');
  const two = one(
    'Submitted request successfully  $$<SMS_CLIENT_CONFIG_MANAGER><09-25-2026 15:13:57.327-60><thread=19068 (0x4A7C)>',
  );
  assert.is(two.time, '2026-09-25T14:13:57.327Z');
  assert.is(two.component, 'SMS_CLIENT_CONFIG_MANAGER');
  assert.is(two.thread, '19068');
});

test('SMS: unpadded date, with CRLF line ends', () => {
  const all = parseShown(
    'a $$<SMS_CLOUD_PROXYCONNECTOR><1-2-2026 7:05:09.000+000><thread=1 (0x1)>\r\nb $$<SMS_CLOUD_PROXYCONNECTOR><1-2-2026 7:05:10.000+000><thread=1 (0x1)>\r\n',
  );
  assert.equal(
    all.map((e) => [e.text.trimEnd(), e.time]),
    [
      ['a', '2026-01-02T07:05:09.000Z'],
      ['b', '2026-01-02T07:05:10.000Z'],
    ],
  );
});

test('SMS: a $$< that is not a valid tail is kept as text', () => {
  const all = parseShown(`${CCM_SINGLE}\ncost: $$<not a tail>\n`);
  assert.is(all.length, 1);
  assert.is(all[0]?.text, 'Connected to cp01.contoso.com:443 (channel 3)\ncost: $$<not a tail>');
});

// ---- lines that fit neither format ----------------------------------------

test('plain lines join the entry before them, in order', () => {
  const text = `${CCM_SINGLE}\n  detail line 1\ndetail line 2\n${SMS_LINE}\n`;
  const all = parseShown(text);
  assert.is(all.length, 2);
  assert.is(all[0]?.text, 'Connected to cp01.contoso.com:443 (channel 3)\n  detail line 1\ndetail line 2');
  assert.is(all[0]?.time, '2026-11-29T03:12:45.123Z');
  assert.is(all[1]?.component, 'SMS_CLOUD_PROXYCONNECTOR');
  assert.is(all[1]?.seq, 1);
});

test('plain lines after an SMS entry join it too', () => {
  const all = parseShown(`${SMS_LINE}\nnot a log line\n`);
  assert.is(all.length, 1);
  assert.ok(all[0]?.text.endsWith('\nnot a log line'), all[0]?.text);
});

test('leading plain lines become one entry of their own without a time', () => {
  const all = parseShown(`*** log started ***\nsecond header line\n${CCM_SINGLE}\n`);
  assert.equal(all, [
    entry({ text: '*** log started ***\nsecond header line', seq: 0 }),
    entry({
      time: '2026-11-29T03:12:45.123Z',
      component: 'CMGService',
      thread: '4242',
      file: 'channel.ts:88',
      text: 'Connected to cp01.contoso.com:443 (channel 3)',
      seq: 1,
    }),
  ]);
});

test('a file of plain text only is one entry, nothing dropped', () => {
  assert.equal(parseShown('alpha\nbeta\ngamma'), [entry({ text: 'alpha\nbeta\ngamma' })]);
});

test('an unfinished CCM message at the end is kept as text of the entry before', () => {
  const all = parseShown(`${CCM_SINGLE}\n<![LOG[half a message\nmore of it`);
  assert.is(all.length, 1);
  assert.is(all[0]?.text, 'Connected to cp01.contoso.com:443 (channel 3)\n<![LOG[half a message\nmore of it');
});

test('an unfinished CCM message alone is an entry without a time', () => {
  assert.equal(parseShown('<![LOG[half a message\nmore'), [entry({ text: '<![LOG[half a message\nmore' })]);
});

test('empty lines between entries are skipped', () => {
  const all = parseShown(`${CCM_SINGLE}\n\n\n${CCM_SINGLE}\n`);
  assert.equal(
    all.map((e) => [e.text, e.seq]),
    [
      ['Connected to cp01.contoso.com:443 (channel 3)', 0],
      ['Connected to cp01.contoso.com:443 (channel 3)', 1],
    ],
  );
});

test('a last line without a newline is parsed by end()', () => {
  const all = parseShown(`${CCM_SINGLE}\n${SMS_LINE}`);
  assert.is(all.length, 2);
  assert.is(all[1]?.time, '2026-11-29T04:12:45.123Z');
});

// ---- push / flush / end ------------------------------------------------------

test('push holds the last entry back until the next line shows it is complete', () => {
  const p = new LogParser('S.log');
  assert.equal(p.push(`${CCM_SINGLE}\n`), []);
  assert.equal(p.push('  continued\n'), []);
  const a = p.push(`${SMS_LINE}\n`);
  assert.is(a.length, 1);
  assert.is(a[0]?.text, 'Connected to cp01.contoso.com:443 (channel 3)\n  continued');
  assert.is(a[0]?.source, 'S.log');
  const b = p.end();
  assert.is(b.length, 1);
  assert.is(b[0]?.component, 'SMS_CLOUD_PROXYCONNECTOR');
  assert.is(b[0]?.source, 'S.log');
  assert.equal(p.end(), []);
});

test('flush gives out the held entry; not while a line or a CCM message is unfinished', () => {
  const p = new LogParser('S.log');
  assert.equal(p.flush(), []);
  p.push(`${CCM_SINGLE}\n<![LOG[open`);
  assert.equal(p.flush(), [], 'a partial line is pending');
  assert.equal(p.push(' message\n'), []);
  assert.equal(p.flush(), [], 'a CCM message is open');
  const closed = p.push(
    ']LOG]!><time="03:12:46.000+000" date="11-29-2026" component="CMGService" context="" type="2" thread="4242" file="">\n',
  );
  assert.equal(
    closed.map((e) => e.text),
    ['Connected to cp01.contoso.com:443 (channel 3)'],
  );
  const flushed = p.flush();
  assert.equal(
    flushed.map((e) => [e.text, e.type]),
    [['open message\n', 'warning']],
  );
  assert.equal(p.flush(), []);
  assert.equal(p.end(), []);
});

test('flush() then a plain line: an entry of its own with the same time, component and thread', () => {
  const p = new LogParser('S.log');
  p.push(`${CCM_SINGLE}\n`);
  const first = p.flush();
  assert.is(first.length, 1);
  assert.is(first[0]?.text, 'Connected to cp01.contoso.com:443 (channel 3)');
  p.push('   at retry (channel.ts:91)\n');
  const rest = p.end();
  assert.is(rest.length, 1);
  const e = rest[0] as ParsedEntry;
  assert.is(e.text, '   at retry (channel.ts:91)');
  assert.is(e.time?.toISOString(), '2026-11-29T03:12:45.123Z');
  assert.is(e.component, 'CMGService');
  assert.is(e.thread, '4242');
  // The entry given out earlier is not changed after the fact.
  assert.is(first[0]?.text, 'Connected to cp01.contoso.com:443 (channel 3)');
});

// ---- chunks split anywhere -------------------------------------------------

const MIXED =
  'header line\n' +
  `${CCM_SINGLE}\r\n` +
  '<![LOG[multi\r\nline\n\nmessage]LOG]!><time="10:20:30.1234567-60" date="1-2-2026" component="CloudMgr" context="NT AUTHORITY\\SYSTEM" type="3" thread="5120">\n' +
  '  plain continuation\n' +
  `${SMS_LINE}\r\n` +
  '<![LOG[é€😀]LOG]!><time="01:00:00.000-120" date="07-04-2026" component="CMGService" context="" type="2" thread="1" file="">\n' +
  'tail without newline';

test('the mixed input parses as expected', () => {
  const all = parseShown(MIXED);
  assert.equal(
    all.map((e) => [e.time, e.type, e.component, e.text.trimEnd()]),
    [
      [undefined, 'info', '', 'header line'],
      ['2026-11-29T03:12:45.123Z', 'info', 'CMGService', 'Connected to cp01.contoso.com:443 (channel 3)'],
      ['2026-01-02T09:20:30.123Z', 'error', 'CloudMgr', 'multi\nline\n\nmessage\n  plain continuation'],
      [
        '2026-11-29T04:12:45.123Z',
        'info',
        'SMS_CLOUD_PROXYCONNECTOR',
        'Connection point started\n  listening on 443',
      ],
      ['2026-07-03T23:00:00.000Z', 'warning', 'CMGService', 'é€😀\ntail without newline'],
    ],
  );
  assert.equal(
    all.map((e) => e.seq),
    [0, 1, 2, 3, 4],
  );
});

test('a chunk split at every position, and at every pair of positions, gives the same entries', () => {
  const whole = parseShown(MIXED);
  for (let i = 0; i <= MIXED.length; i++) assert.equal(parseShown(MIXED, [i]), whole, `cut at ${i}`);
  const small = MIXED.slice(0, 420);
  const wholeSmall = parseShown(small);
  for (let i = 1; i < small.length; i++) {
    for (let j = i; j < small.length; j++) {
      const got = parseShown(small, [i, j]);
      if (JSON.stringify(got) !== JSON.stringify(wholeSmall))
        assert.equal(got, wholeSmall, `cuts at ${i}, ${j}`);
    }
  }
});

test('any set of cuts gives the same entries (property)', () => {
  const whole = parseShown(MIXED);
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 0, max: MIXED.length }), { maxLength: 40 }), (cuts) => {
      assert.equal(parseShown(MIXED, cuts), whole);
    }),
    { numRuns: 500 },
  );
});

test('one character at a time gives the same entries', () => {
  const p = new LogParser('X.log');
  const out: ParsedEntry[] = [];
  for (const ch of MIXED) out.push(...p.push(ch));
  out.push(...p.end());
  assert.equal(out.map(show), parseShown(MIXED));
});

// ---- what cmg itself writes reads back exactly -----------------------------

const component = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,30}$/);
const text = fc
  .string({ unit: 'grapheme', maxLength: 60 })
  .filter((s) => !s.includes('\r') && !s.includes(']LOG]!>'));

test('formatCmtraceLine read back: every field, any bias, any time (property)', () => {
  fc.assert(
    fc.property(
      fc.date({
        min: new Date('2000-01-01T00:00:00Z'),
        max: new Date('2099-12-31T23:59:59Z'),
        noInvalidDate: true,
      }),
      fc.integer({ min: -840, max: 840 }),
      fc.constantFrom<SeverityName>('info', 'warning', 'error'),
      component,
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      text,
      fc.stringMatching(/^[a-z./:0-9-]{0,20}$/),
      (time, bias, type, comp, thread, message, file) => {
        const line = formatCmtraceLine(
          { time, text: message, component: comp, type, thread, file },
          () => bias,
        );
        const canonical = parse(line);
        // The same line with two spaces between attributes: not the canonical layout.
        const loose = parse(line.replace('" date="', '"  date="'));
        for (const got of [canonical, loose]) {
          assert.is(got.length, 1, line);
          const e = got[0] as ParsedEntry;
          assert.is(e.time?.toISOString(), time.toISOString(), line);
          assert.is(e.type, type);
          assert.is(e.component, comp);
          assert.is(e.thread, String(thread));
          assert.is(e.file, file);
          assert.is(e.text, message);
        }
      },
    ),
    { numRuns: 400 },
  );
});

test('with a text filter (--grep) an entry is kept when its text with its continuation lines matches, attributes read only then', () => {
  const p = new LogParser('x.log', (t) => /NEEDLE/.test(t));
  const line = (text: string, time: string) =>
    `<![LOG[${text}]LOG]!><time="${time}.000+000" date="11-29-2026" component="CMGService" context="" type="3" thread="42" file="">\n`;
  const out = [
    ...p.push(line('first', '01:00:00')),
    ...p.push('a continuation with NEEDLE\n'),
    ...p.push(line('second without it', '01:00:01')),
    ...p.push(line('third NEEDLE', '01:00:02')),
    ...p.end(),
  ];
  assert.equal(
    out.map((e) => [e.text, e.time?.toISOString(), e.component, e.type, e.thread]),
    [
      ['first\na continuation with NEEDLE', '2026-11-29T01:00:00.000Z', 'CMGService', 'error', '42'],
      ['third NEEDLE', '2026-11-29T01:00:02.000Z', 'CMGService', 'error', '42'],
    ],
  );
});

test.run();
