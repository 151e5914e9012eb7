import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatBias, formatCmtraceLine, localBias } from '../../src/logs/cmtrace-format.js';

const LINE =
  /^<!\[LOG\[(?<text>[\s\S]*)\]LOG\]!><time="(?<h>\d\d):(?<m>\d\d):(?<s>\d\d)\.(?<ms>\d{3})(?<bias>[+-]\d{3})" date="(?<mo>\d\d)-(?<d>\d\d)-(?<y>\d{4})" component="(?<component>[^"]*)" context="" type="(?<type>[123])" thread="(?<thread>\d+)" file="(?<file>[^"]*)">\n$/;

/** Parses a line back, and turns its local time and bias into the UTC instant (UTC = local + bias). */
interface Parsed {
  text: string;
  component: string;
  type: string;
  thread: string;
  file: string;
  h: string;
  ms: string;
  bias: number;
  utc: Date;
}

function parse(line: string): Parsed {
  const m = LINE.exec(line);
  assert.ok(m?.groups, `not a CMTrace line: ${line}`);
  const g = m.groups as Record<string, string>;
  const localMs = Date.UTC(+g.y!, +g.mo! - 1, +g.d!, +g.h!, +g.m!, +g.s!, +g.ms!);
  const bias = Number.parseInt(g.bias!, 10);
  const field = (k: string) => g[k] ?? '';
  return {
    text: field('text'),
    component: field('component'),
    type: field('type'),
    thread: field('thread'),
    file: field('file'),
    h: field('h'),
    ms: field('ms'),
    bias,
    utc: new Date(localMs + bias * 60_000),
  };
}

const instant = new Date('2026-07-04T21:59:58.123Z');

test('every field parses back from a line', () => {
  const line = formatCmtraceLine(
    {
      time: instant,
      text: 'channel up: cp01',
      component: 'CMGService',
      type: 'warning',
      thread: 4242,
      file: 'channel.ts',
    },
    () => 0,
  );
  const p = parse(line);
  assert.is(p.text, 'channel up: cp01');
  assert.is(p.component, 'CMGService');
  assert.is(p.type, '2');
  assert.is(p.thread, '4242');
  assert.is(p.file, 'channel.ts');
  assert.is(p.h, '21');
  assert.is(p.ms, '123');
  assert.is(p.bias, 0);
  assert.is(line.includes('time="21:59:58.123+000" date="07-04-2026"'), true);
  assert.is(p.utc.toISOString(), instant.toISOString());
});

test('severity numbers: info 1, warning 2, error 3', () => {
  for (const [type, n] of [
    ['info', '1'],
    ['warning', '2'],
    ['error', '3'],
  ] as const) {
    assert.is(
      parse(formatCmtraceLine({ time: instant, text: 'x', component: 'c', type, thread: 1 }, () => 0)).type,
      n,
    );
  }
});

test('bias sign: UTC = local + bias, written as sign and three digits', () => {
  assert.is(formatBias(0), '+000');
  assert.is(formatBias(-120), '-120');
  assert.is(formatBias(420), '+420');
  assert.is(formatBias(-60), '-060');
  assert.is(formatBias(-330), '-330');
  assert.is(formatBias(-0), '+000');
});

// Real zones through the process's own time-zone database, so the bias is what Windows would write.
const ZONES = [
  { tz: 'Europe/Berlin', bias: -120, local: '23:59:58.123', date: '07-04-2026' }, // UTC+2 in summer
  { tz: 'America/Phoenix', bias: 420, local: '14:59:58.123', date: '07-04-2026' }, // UTC-7, no DST
  { tz: 'Asia/Kolkata', bias: -330, local: '03:29:58.123', date: '07-05-2026' }, // UTC+5:30, crosses midnight
  { tz: 'UTC', bias: 0, local: '21:59:58.123', date: '07-04-2026' },
];

for (const zone of ZONES) {
  test(`local time and bias in ${zone.tz}`, () => {
    const saved = process.env.TZ;
    process.env.TZ = zone.tz;
    try {
      assert.is(localBias(instant), zone.bias);
      const line = formatCmtraceLine({ time: instant, text: 't', component: 'c', type: 'info', thread: 1 });
      const p = parse(line);
      assert.is(p.bias, zone.bias);
      assert.is(
        line.includes(`time="${zone.local}${formatBias(zone.bias)}" date="${zone.date}"`),
        true,
        line,
      );
      assert.is(p.utc.toISOString(), instant.toISOString());
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
}

test('winter and summer bias differ in a zone with daylight saving', () => {
  const saved = process.env.TZ;
  process.env.TZ = 'Europe/Berlin';
  try {
    assert.is(localBias(new Date('2026-01-15T12:00:00Z')), -60);
    assert.is(localBias(new Date('2026-07-15T12:00:00Z')), -120);
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
});

test('text cannot end the message early; attributes cannot break out of quotes', () => {
  const line = formatCmtraceLine(
    { time: instant, text: 'evil ]LOG]!> text', component: 'a"b', type: 'error', thread: 7, file: 'x"y' },
    () => 0,
  );
  const p = parse(line);
  assert.is(p.text, 'evil ] LOG]!> text');
  assert.is(p.component, "a'b");
  assert.is(p.file, "x'y");
});

test('a message spanning several lines stays one entry', () => {
  const p = parse(
    formatCmtraceLine(
      { time: instant, text: 'first\nsecond', component: 'c', type: 'info', thread: 1 },
      () => 0,
    ),
  );
  assert.is(p.text, 'first\nsecond');
});

test.run();
