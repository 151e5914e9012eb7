/**
 * Reading logs back (src/logs/read.ts): a folder's logs with their rotated
 * `.lo_` history first, chunked reading, and the merge of several logs into
 * one UTC time order whatever each log's bias.
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatCmtraceLine, type SeverityName } from '../../src/logs/cmtrace-format.js';
import type { ParsedEntry } from '../../src/logs/parse.js';
import { fileEntries, groupRotated, logFilesIn, mergedEntries } from '../../src/logs/read.js';
import { useTempDir } from '../helpers/temp-dir.js';

const tmp = useTempDir(test, 'cmg-logs-read-');

interface Line {
  at: string;
  text: string;
  bias?: number;
  component?: string;
  type?: SeverityName;
}

/** CMTrace lines as Configuration Manager writes them, each with its own bias. */
function lines(component: string, entries: Line[]): string {
  return entries
    .map((e) =>
      formatCmtraceLine(
        {
          time: new Date(e.at),
          text: e.text,
          component: e.component ?? component,
          type: e.type ?? 'info',
          thread: 100,
        },
        () => e.bias ?? 0,
      ),
    )
    .join('');
}

/** Every entry, whether the reader yields entries one by one or in batches. */
async function all(it: AsyncIterable<ParsedEntry | ParsedEntry[]>): Promise<ParsedEntry[]> {
  const out: ParsedEntry[] = [];
  for await (const x of it) out.push(...([] as ParsedEntry[]).concat(x));
  return out;
}

const texts = (es: ParsedEntry[]) => es.map((e) => e.text);

test('logFilesIn: each log after its .lo_ history, logs by name, other files and folders left out', () => {
  tmp.write('CMGService.log', '');
  tmp.write('CMGHttpHandler.log', '');
  tmp.write('CMGService.lo_', '');
  tmp.write('CloudMgr.lo_', '');
  tmp.write('notes.txt', '');
  tmp.write('CMGSetup.log.bak', '');
  mkdirSync(tmp.path('Folder.log'));
  assert.equal(logFilesIn(tmp.dir), [
    tmp.path('CloudMgr.lo_'),
    tmp.path('CMGHttpHandler.log'),
    tmp.path('CMGService.lo_'),
    tmp.path('CMGService.log'),
  ]);
});

test('logFilesIn: extensions in any case', () => {
  tmp.write('A.LOG', '');
  tmp.write('A.LO_', '');
  assert.equal(logFilesIn(tmp.dir), [tmp.path('A.LO_'), tmp.path('A.LOG')]);
});

test('logFilesIn: an empty folder has no logs; a missing one throws', () => {
  assert.equal(logFilesIn(tmp.dir), []);
  assert.throws(() => logFilesIn(tmp.path('missing')));
});

test('groupRotated: a .lo_ and its .log form one log, the .lo_ first, whatever order they are given in', () => {
  assert.equal(groupRotated(['/l/X.log', '/l/Y.log', '/l/X.lo_']), [['/l/X.lo_', '/l/X.log'], ['/l/Y.log']]);
  assert.equal(groupRotated(['/l/x.LOG', '/l/X.lo_']), [['/l/X.lo_', '/l/x.LOG']]);
  assert.equal(groupRotated(['/l/X.lo_', '/l/X.log']), [['/l/X.lo_', '/l/X.log']]);
  assert.equal(groupRotated(['/a/X.log', '/b/X.log']), [['/a/X.log'], ['/b/X.log']]);
});

test('groupRotated: a lone .lo_ is a log of its own', () => {
  assert.equal(groupRotated(['/l/Z.lo_']), [['/l/Z.lo_']]);
  assert.equal(groupRotated(['/l/Z.lo_', '/l/Y.log']), [['/l/Z.lo_'], ['/l/Y.log']]);
});

test('merge: logs with different biases are merged by UTC, not by their local times', async () => {
  // Berlin in summer writes bias -120 (local = UTC+2), Seattle +420 (local = UTC-7).
  const berlin = tmp.write(
    'Berlin.log',
    lines('CMGService', [
      { at: '2026-07-04T10:00:00.000Z', text: 'B1', bias: -120 },
      { at: '2026-07-04T10:02:00.000Z', text: 'B2', bias: -120 },
      { at: '2026-07-04T10:04:00.000Z', text: 'B3', bias: -120 },
    ]),
  );
  const seattle = tmp.write(
    'Seattle.log',
    lines('SMS_CLOUD_PROXYCONNECTOR', [
      { at: '2026-07-04T10:01:00.000Z', text: 'S1', bias: 420 },
      { at: '2026-07-04T10:03:00.000Z', text: 'S2', bias: 420 },
    ]),
  );
  // The premise: in local time every Seattle line comes before every Berlin line.
  assert.match(readFileSync(berlin, 'utf8'), 'time="12:00:00.000-120" date="07-04-2026"');
  assert.match(readFileSync(seattle, 'utf8'), 'time="03:01:00.000+420" date="07-04-2026"');
  for (const groups of [
    [[berlin], [seattle]],
    [[seattle], [berlin]],
  ]) {
    const got = await all(mergedEntries(groups));
    assert.equal(texts(got), ['B1', 'S1', 'B2', 'S2', 'B3']);
    assert.equal(
      got.map((e) => e.time?.toISOString()),
      [
        '2026-07-04T10:00:00.000Z',
        '2026-07-04T10:01:00.000Z',
        '2026-07-04T10:02:00.000Z',
        '2026-07-04T10:03:00.000Z',
        '2026-07-04T10:04:00.000Z',
      ],
    );
    assert.equal(
      got.map((e) => e.source),
      [berlin, seattle, berlin, seattle, berlin],
    );
  }
});

test('merge: three logs, one in the SMS format with a two-digit bias, and plain text before any entry first', async () => {
  const a = tmp.write(
    'A.log',
    `preamble\n${lines('A', [
      { at: '2026-11-29T03:00:00.000Z', text: 'a1', bias: 60 },
      { at: '2026-11-29T03:00:03.000Z', text: 'a2', bias: 60 },
    ])}`,
  );
  // 04:00:01 local at bias -60 is 03:00:01 UTC; 02:00:02 local at +60 is 03:00:02 UTC.
  const b = tmp.write(
    'B.log',
    'b1 $$<SMS_CLOUD_PROXYCONNECTOR><11-29-2026 04:00:01.000-60><thread=7 (0x7)>\n',
  );
  const c = tmp.write(
    'C.log',
    '<![LOG[c1]LOG]!><time="2:00:02.0000000+60" date="11-29-2026" component="C" context="" type="1" thread="1">\n',
  );
  const got = await all(mergedEntries([[a], [b], [c]]));
  assert.equal(
    got.map((e) => [e.text.trimEnd(), e.time?.toISOString()]),
    [
      ['preamble', undefined],
      ['a1', '2026-11-29T03:00:00.000Z'],
      ['b1', '2026-11-29T03:00:01.000Z'],
      ['c1', '2026-11-29T03:00:02.000Z'],
      ['a2', '2026-11-29T03:00:03.000Z'],
    ],
  );
});

test('merge: a .lo_ is read before its .log, then merged with the other logs', async () => {
  tmp.write(
    'CMGService.lo_',
    lines('CMGService', [
      { at: '2026-11-29T01:00:00.000Z', text: 'old 1' },
      { at: '2026-11-29T01:00:02.000Z', text: 'old 2' },
    ]),
  );
  tmp.write(
    'CMGService.log',
    lines('CMGService', [
      { at: '2026-11-29T01:00:04.000Z', text: 'new 1' },
      { at: '2026-11-29T01:00:06.000Z', text: 'new 2' },
    ]),
  );
  tmp.write(
    'CMGHttpHandler.log',
    lines('CMGHttpHandler', [
      { at: '2026-11-29T01:00:01.000Z', text: 'http 1' },
      { at: '2026-11-29T01:00:05.000Z', text: 'http 2' },
    ]),
  );
  const files = logFilesIn(tmp.dir);
  assert.equal(files, [
    tmp.path('CMGHttpHandler.log'),
    tmp.path('CMGService.lo_'),
    tmp.path('CMGService.log'),
  ]);
  assert.equal(texts(await all(mergedEntries(groupRotated(files)))), [
    'old 1',
    'http 1',
    'old 2',
    'new 1',
    'http 2',
    'new 2',
  ]);
});

test('merge: with equal times the .lo_ history still comes before its .log', async () => {
  const at = '2026-11-29T01:00:00.000Z';
  tmp.write(
    'X.log',
    lines('X', [
      { at, text: 'log 1' },
      { at, text: 'log 2' },
    ]),
  );
  tmp.write(
    'X.lo_',
    lines('X', [
      { at, text: 'lo_ 1' },
      { at, text: 'lo_ 2' },
    ]),
  );
  assert.equal(texts(await all(mergedEntries(groupRotated(logFilesIn(tmp.dir))))), [
    'lo_ 1',
    'lo_ 2',
    'log 1',
    'log 2',
  ]);
});

test('merge: a lone .lo_ is read', async () => {
  tmp.write('CloudMgr.lo_', lines('CloudMgr', [{ at: '2026-11-29T01:00:00.000Z', text: 'only history' }]));
  const files = logFilesIn(tmp.dir);
  assert.equal(files, [tmp.path('CloudMgr.lo_')]);
  const got = await all(mergedEntries(groupRotated(files)));
  assert.equal(
    got.map((e) => [e.text, e.component, e.source]),
    [['only history', 'CloudMgr', tmp.path('CloudMgr.lo_')]],
  );
});

test('merge: equal times keep the order of the logs given, whichever log is read faster', async () => {
  const at = '2026-11-29T03:00:00.000Z';
  // The first log's first entry is several MB long (a big dump), so its first batch takes several reads.
  const big = tmp.write(
    'Big.log',
    lines('Big', [
      { at, text: `dump\n${`${'y'.repeat(99)}\n`.repeat(40_000)}end` },
      { at, text: 'big 2' },
    ]),
  );
  const small = tmp.write('Small.log', lines('Small', [{ at, text: 'small 1' }]));
  const got = await all(mergedEntries([[big], [small]]));
  assert.equal(
    got.map((e) => e.component),
    ['Big', 'Big', 'Small'],
  );
});

test('merge: no logs, and empty logs, give nothing', async () => {
  assert.equal(await all(mergedEntries([])), []);
  const e = tmp.write('Empty.log', '');
  assert.equal(await all(mergedEntries([[e]])), []);
  assert.equal(await all(mergedEntries([[e], [e]])), []);
});

test('fileEntries: up to an end offset only (where following takes over)', async () => {
  const text = lines('A', [
    { at: '2026-11-29T01:00:00.000Z', text: 'one' },
    { at: '2026-11-29T01:00:01.000Z', text: 'two' },
    { at: '2026-11-29T01:00:02.000Z', text: 'three' },
  ]);
  const path = tmp.write('A.log', text);
  const firstTwo = Buffer.byteLength(text.split('\n').slice(0, 2).join('\n')) + 1;
  assert.equal(texts(await all(fileEntries(path, firstTwo))), ['one', 'two']);
  assert.equal(texts(await all(fileEntries(path, 0))), []);
  assert.equal(texts(await all(fileEntries(path))), ['one', 'two', 'three']);
  assert.equal(texts(await all(fileEntries(path, statSync(path).size))), ['one', 'two', 'three']);
  // The end offsets of several files, as the command passes them for --follow.
  assert.equal(texts(await all(mergedEntries([[path]], new Map([[path, firstTwo]])))), ['one', 'two']);
});

test('fileEntries: a log of several MB with multi-byte characters across chunk boundaries', async () => {
  const n = 30_000;
  const entries: Line[] = [];
  for (let i = 0; i < n; i++) {
    entries.push({
      at: new Date(Date.UTC(2026, 10, 29, 0, 0, 0) + i).toISOString(),
      text: `é€😀 entry ${i} ${'ü'.repeat(i % 37)}`,
    });
  }
  const path = tmp.write('Wide.log', lines('Wide', entries));
  assert.ok(statSync(path).size > 3 * (1 << 20), 'the log spans several read chunks');
  const got = await all(fileEntries(path));
  assert.is(got.length, n);
  for (let i = 0; i < n; i++) {
    const e = got[i] as ParsedEntry;
    if (e.text !== entries[i]?.text || e.seq !== i) assert.equal([e.text, e.seq], [entries[i]?.text, i]);
  }
  assert.is(got[n - 1]?.time?.toISOString(), new Date(Date.UTC(2026, 10, 29) + n - 1).toISOString());
});

test.run();
