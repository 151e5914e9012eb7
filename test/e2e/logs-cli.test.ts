/**
 * `cmg logs` end to end: the built CLI (run `npm run build` first) on logs
 * written in temp folders: columns for people, NDJSON, --dir with rotated
 * history, filters, --summary, the usage errors, and -f as a live process.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatCmtraceLine, type SeverityName } from '../../src/logs/cmtrace-format.js';
import { type CliResult, REPO, RUN_JS, runCli } from '../helpers/cli.js';
import { useTempDir } from '../helpers/temp-dir.js';

const tmp = useTempDir(test, 'cmg-e2e-logs-');

interface Line {
  at: string | Date;
  text: string;
  component: string;
  type?: SeverityName;
  thread?: number;
  file?: string;
  bias?: number;
}

const cmtrace = (entries: Line[]) =>
  entries
    .map((e) =>
      formatCmtraceLine(
        {
          time: new Date(e.at),
          text: e.text,
          component: e.component,
          type: e.type ?? 'info',
          thread: e.thread ?? 4242,
          ...(e.file === undefined ? {} : { file: e.file }),
        },
        () => e.bias ?? 0,
      ),
    )
    .join('');

/** cmg logs with TZ=UTC (the local time column is then UTC) and NO_COLOR=1 unless `env` says otherwise. */
const logs = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> =>
  runCli(['logs', ...args], { env: { TZ: 'UTC', ...env }, timeoutMs: 30_000 });

interface JsonEntry {
  time: string | null;
  type: string;
  component: string;
  thread: string;
  file: string;
  text: string;
  source: string;
}
const ndjson = (r: CliResult): JsonEntry[] => {
  assert.is(r.code, 0, r.stderr);
  assert.ok(r.stdout.endsWith('\n'), 'NDJSON ends with a newline');
  return r.stdout
    .slice(0, -1)
    .split('\n')
    .map((l) => JSON.parse(l) as JsonEntry);
};
const textsOf = (r: CliResult) => ndjson(r).map((e) => e.text);

/** CMGService.log: one of each type, a multi-line warning, its own bias (UTC+1 writes -60). */
function serviceLog(): string {
  return tmp.write(
    'CMGService.log',
    cmtrace([
      {
        at: '2026-11-29T03:00:00.123Z',
        text: 'channel up: cp01',
        component: 'CMGService',
        file: 'channel.ts:88',
        bias: -60,
      },
      {
        at: '2026-11-29T03:00:01.000Z',
        text: 'heartbeat late\nby 3 s',
        component: 'CMGService',
        type: 'warning',
        thread: 77,
        file: 'heartbeat.ts:12',
      },
      {
        at: '2026-11-29T03:00:02.500Z',
        text: 'request failed: 502 from mp01',
        component: 'CMGHttpHandler',
        type: 'error',
        thread: 9,
        file: 'proxy.ts:120',
        bias: 480,
      },
    ]),
  );
}

test('columns for people: local time, component, thread, text; continuation lines indented under the text', async () => {
  const file = serviceLog();
  const r = await logs([file]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.is(
    r.stdout,
    [
      '2026-11-29 03:00:00.123  CMGService                   4242  channel up: cp01',
      '2026-11-29 03:00:01.000  CMGService                     77  heartbeat late',
      '                                                            by 3 s',
      '2026-11-29 03:00:02.500  CMGHttpHandler                  9  request failed: 502 from mp01',
      '',
    ].join('\n'),
  );
  assert.not.match(r.stdout, '\x1b[');
});

test('the time column is the local time of the reader (TZ), whatever bias the log was written with', async () => {
  const file = serviceLog();
  const r = await logs([file], { TZ: 'Asia/Kolkata' });
  assert.is(r.code, 0, r.stderr);
  assert.equal(
    r.stdout
      .split('\n')
      .filter((l) => l.startsWith('2026'))
      .map((l) => l.slice(0, 23)),
    ['2026-11-29 08:30:00.123', '2026-11-29 08:30:01.000', '2026-11-29 08:30:02.500'],
  );
});

test('colour: errors red and warnings yellow when colour is on; NO_COLOR turns it off', async () => {
  const file = serviceLog();
  const coloured = await logs([file], { FORCE_COLOR: '1', NO_COLOR: '' });
  assert.is(coloured.code, 0, coloured.stderr);
  const lines = coloured.stdout.split('\n');
  assert.is(lines[0], '2026-11-29 03:00:00.123  CMGService                   4242  channel up: cp01');
  assert.is(
    lines[1],
    '\x1b[33m2026-11-29 03:00:01.000  CMGService                     77  heartbeat late\x1b[39m',
  );
  assert.is(lines[2], '\x1b[33m                                                            by 3 s\x1b[39m');
  assert.is(
    lines[3],
    '\x1b[31m2026-11-29 03:00:02.500  CMGHttpHandler                  9  request failed: 502 from mp01\x1b[39m',
  );
  const noColor = await logs([file], { FORCE_COLOR: '1', NO_COLOR: '1' });
  assert.is(noColor.code, 0, noColor.stderr);
  assert.not.match(noColor.stdout, '\x1b[');
  assert.is(
    noColor.stdout,
    ['\x1b[31m', '\x1b[33m', '\x1b[39m'].reduce((t, code) => t.replaceAll(code, ''), coloured.stdout),
  );
  // stdout is a pipe here: no colour without FORCE_COLOR (which uvu sets for itself), even with NO_COLOR empty.
  const piped = await logs([file], { NO_COLOR: '', FORCE_COLOR: undefined });
  assert.is(piped.code, 0, piped.stderr);
  assert.not.match(piped.stdout, '\x1b[');
});

test('columns stay aligned when a long component or thread comes after short ones', async () => {
  const file = tmp.write(
    'mixed.log',
    cmtrace([
      { at: '2026-11-29T03:00:00.000Z', text: 'a', component: 'CMGService', thread: 4242 },
      { at: '2026-11-29T03:00:01.000Z', text: 'b', component: 'SMS_CLOUD_PROXYCONNECTOR', thread: 4242 },
      { at: '2026-11-29T03:00:02.000Z', text: 'c', component: 'CMGService', thread: 1234567 },
      { at: '2026-11-29T03:00:03.000Z', text: 'd', component: 'CMGService', thread: 1 },
    ]),
  );
  const r = await logs([file]);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.is(lines.length, 4);
  // The text column starts at the same place on every line.
  assert.equal(
    lines.map((l) => l.length - 1),
    lines.map(() => (lines[0] as string).length - 1),
    r.stdout,
  );
});

test('--json: one object per line with the seven keys; time ISO 8601 UTC from each line bias', async () => {
  const file = serviceLog();
  const entries = ndjson(await logs([file, '--json']));
  assert.equal(
    entries.map((e) => Object.keys(e)),
    entries.map(() => ['time', 'type', 'component', 'thread', 'file', 'text', 'source']),
  );
  assert.equal(entries, [
    {
      time: '2026-11-29T03:00:00.123Z',
      type: 'info',
      component: 'CMGService',
      thread: '4242',
      file: 'channel.ts:88',
      text: 'channel up: cp01',
      source: file,
    },
    {
      time: '2026-11-29T03:00:01.000Z',
      type: 'warning',
      component: 'CMGService',
      thread: '77',
      file: 'heartbeat.ts:12',
      text: 'heartbeat late\nby 3 s',
      source: file,
    },
    {
      time: '2026-11-29T03:00:02.500Z',
      type: 'error',
      component: 'CMGHttpHandler',
      thread: '9',
      file: 'proxy.ts:120',
      text: 'request failed: 502 from mp01',
      source: file,
    },
  ]);
});

test('--json: the SMS format, quotes and backslashes, plain text before any entry (time null)', async () => {
  const file = tmp.write(
    'SMS_CLOUD_PROXYCONNECTOR.log',
    'log opened\n' +
      'Proxy said "no" at C:\\cmg~~retrying $$<SMS_CLOUD_PROXYCONNECTOR><11-29-2026 03:12:45.1234567+060><thread=4242 (0x1092)>\n',
  );
  const entries = ndjson(await logs([file, '--json']));
  assert.equal(
    entries.map((e) => [e.time, e.component, e.thread, e.text.trimEnd(), e.source]),
    [
      [null, '', '', 'log opened', file],
      [
        '2026-11-29T04:12:45.123Z',
        'SMS_CLOUD_PROXYCONNECTOR',
        '4242',
        'Proxy said "no" at C:\\cmg\nretrying',
        file,
      ],
    ],
  );
});

function historyDir(): void {
  tmp.write(
    'logs/CMGService.lo_',
    cmtrace([
      { at: '2026-11-29T01:00:00.000Z', text: 'history 1', component: 'CMGService' },
      { at: '2026-11-29T01:00:02.000Z', text: 'history 2', component: 'CMGService' },
      // The same instant as the first line of the .log: still before it.
      { at: '2026-11-29T01:00:04.000Z', text: 'history 3', component: 'CMGService' },
    ]),
  );
  tmp.write(
    'logs/CMGService.log',
    cmtrace([
      { at: '2026-11-29T01:00:04.000Z', text: 'current 1', component: 'CMGService', type: 'error' },
      { at: '2026-11-29T01:00:06.000Z', text: 'current 2 failed', component: 'CMGService', type: 'warning' },
    ]),
  );
  tmp.write(
    'logs/CMGHttpHandler.log',
    cmtrace([
      // Written at bias +300: local time 20:00 the day before, 01:00:01 UTC.
      { at: '2026-11-29T01:00:01.000Z', text: 'http 1', component: 'CMGHttpHandler', bias: 300 },
      { at: '2026-11-29T01:00:05.000Z', text: 'http 2 FAILED', component: 'CMGHttpHandler', type: 'error' },
    ]),
  );
  tmp.write('logs/readme.txt', 'not a log\n');
}

test('--dir: every *.log with its .lo_ history first, merged by time', async () => {
  historyDir();
  const entries = ndjson(await logs(['--dir', tmp.path('logs'), '--json']));
  assert.equal(
    entries.map((e) => e.text),
    ['history 1', 'http 1', 'history 2', 'history 3', 'current 1', 'http 2 FAILED', 'current 2 failed'],
  );
  assert.equal(
    entries.map((e) => e.source),
    [
      tmp.path('logs/CMGService.lo_'),
      tmp.path('logs/CMGHttpHandler.log'),
      tmp.path('logs/CMGService.lo_'),
      tmp.path('logs/CMGService.lo_'),
      tmp.path('logs/CMGService.log'),
      tmp.path('logs/CMGHttpHandler.log'),
      tmp.path('logs/CMGService.log'),
    ],
  );
});

test('-n 3: the last three entries', async () => {
  historyDir();
  assert.equal(textsOf(await logs(['--dir', tmp.path('logs'), '--json', '-n', '3'])), [
    'current 1',
    'http 2 FAILED',
    'current 2 failed',
  ]);
  assert.equal(textsOf(await logs(['--dir', tmp.path('logs'), '--json', '--lines', '1'])), [
    'current 2 failed',
  ]);
  const none = await logs(['--dir', tmp.path('logs'), '--json', '-n', '0']);
  assert.is(none.code, 0, none.stderr);
  assert.is(none.stdout, '');
});

test('--type', async () => {
  historyDir();
  assert.equal(textsOf(await logs(['--dir', tmp.path('logs'), '--json', '--type', 'error'])), [
    'current 1',
    'http 2 FAILED',
  ]);
  assert.equal(textsOf(await logs(['--dir', tmp.path('logs'), '--json', '--type', 'warning,error'])), [
    'current 1',
    'http 2 FAILED',
    'current 2 failed',
  ]);
});

test('--grep, with and without -i; combined with --component and -n', async () => {
  historyDir();
  const dir = tmp.path('logs');
  assert.equal(textsOf(await logs(['--dir', dir, '--json', '--grep', 'failed'])), ['current 2 failed']);
  assert.equal(textsOf(await logs(['--dir', dir, '--json', '--grep', 'failed', '-i'])), [
    'http 2 FAILED',
    'current 2 failed',
  ]);
  assert.equal(textsOf(await logs(['--dir', dir, '--json', '--grep', '^history [13]$'])), [
    'history 1',
    'history 3',
  ]);
  assert.equal(
    textsOf(
      await logs(['--dir', dir, '--json', '--component', 'cmghttphandler', '--grep', 'http', '-n', '1']),
    ),
    ['http 2 FAILED'],
  );
  const none = await logs(['--dir', dir, '--json', '--grep', 'no such text']);
  assert.is(none.code, 0, none.stderr);
  assert.is(none.stdout, '');
});

test('--since 1h on a log with old and new entries (and --until)', async () => {
  const now = Date.now();
  const file = tmp.write(
    'CloudMgr.log',
    cmtrace([
      { at: new Date(now - 3 * 3_600_000), text: 'three hours ago', component: 'CloudMgr', bias: -120 },
      { at: new Date(now - 2 * 3_600_000), text: 'two hours ago', component: 'CloudMgr', bias: 420 },
      { at: new Date(now - 10 * 60_000), text: 'ten minutes ago', component: 'CloudMgr', bias: -120 },
      { at: new Date(now - 60_000), text: 'a minute ago', component: 'CloudMgr', bias: 420 },
    ]),
  );
  assert.equal(textsOf(await logs([file, '--json', '--since', '1h'])), ['ten minutes ago', 'a minute ago']);
  assert.equal(textsOf(await logs([file, '--json', '--until', '1h'])), ['three hours ago', 'two hours ago']);
  assert.equal(textsOf(await logs([file, '--json', '--since', '150m', '--until', '5m'])), [
    'two hours ago',
    'ten minutes ago',
  ]);
  const iso = new Date(now - 2.5 * 3_600_000).toISOString();
  assert.equal(textsOf(await logs([file, '--json', '--since', iso])), [
    'two hours ago',
    'ten minutes ago',
    'a minute ago',
  ]);
});

test('--summary: counts by component and type, first and last error of each', async () => {
  historyDir();
  tmp.write(
    'logs/CMGService.log',
    cmtrace([
      { at: '2026-11-29T01:00:04.000Z', text: 'current 1', component: 'CMGService', type: 'error' },
      { at: '2026-11-29T01:00:06.000Z', text: 'current 2 failed', component: 'CMGService', type: 'warning' },
      {
        at: '2026-11-29T01:00:07.000Z',
        text: 'last one\nwith detail',
        component: 'CMGService',
        type: 'error',
      },
    ]),
  );
  const r = await logs(['--dir', tmp.path('logs'), '--summary']);
  assert.is(r.code, 0, r.stderr);
  assert.is(
    r.stdout,
    [
      `component${' '.repeat(11)}info${' '.repeat(3)}warning${' '.repeat(5)}error`,
      `CMGHttpHandler${' '.repeat(9)}1${' '.repeat(9)}0${' '.repeat(9)}1`,
      `CMGService${' '.repeat(13)}3${' '.repeat(9)}1${' '.repeat(9)}2`,
      '',
      'CMGHttpHandler: first error 2026-11-29 01:00:05.000  http 2 FAILED',
      '',
      'CMGService: first error 2026-11-29 01:00:04.000  current 1',
      'CMGService: last error  2026-11-29 01:00:07.000  last one',
      '',
    ].join('\n'),
  );
  const j = await logs(['--dir', tmp.path('logs'), '--summary', '--json']);
  assert.is(j.code, 0, j.stderr);
  assert.equal(JSON.parse(j.stdout), {
    components: [
      {
        component: 'CMGHttpHandler',
        info: 1,
        warning: 0,
        error: 1,
        firstError: {
          time: '2026-11-29T01:00:05.000Z',
          text: 'http 2 FAILED',
          source: tmp.path('logs/CMGHttpHandler.log'),
        },
        lastError: {
          time: '2026-11-29T01:00:05.000Z',
          text: 'http 2 FAILED',
          source: tmp.path('logs/CMGHttpHandler.log'),
        },
      },
      {
        component: 'CMGService',
        info: 3,
        warning: 1,
        error: 2,
        firstError: {
          time: '2026-11-29T01:00:04.000Z',
          text: 'current 1',
          source: tmp.path('logs/CMGService.log'),
        },
        lastError: {
          time: '2026-11-29T01:00:07.000Z',
          text: 'last one\nwith detail',
          source: tmp.path('logs/CMGService.log'),
        },
      },
    ],
  });
  // Filters apply before counting.
  const errors = await logs(['--dir', tmp.path('logs'), '--summary', '--json', '--type', 'error']);
  assert.equal(
    (
      JSON.parse(errors.stdout) as { components: { component: string; info: number; error: number }[] }
    ).components.map((c) => [c.component, c.info, c.error]),
    [
      ['CMGHttpHandler', 0, 1],
      ['CMGService', 0, 2],
    ],
  );
});

// ---------------------------------------------------------------- usage errors (exit 2)

async function usageError(args: string[], message: string): Promise<void> {
  const r = await logs(args);
  assert.is(r.code, 2, `cmg logs ${args.join(' ')}: ${r.stderr}`);
  assert.is(r.stdout, '');
  assert.match(r.stderr, message);
  assert.not.match(r.stderr, '    at ', 'no stack trace');
}

test('no files: exit 2', async () => {
  await usageError([], 'no log files to read');
  tmp.write('empty/notes.txt', '');
  await usageError(['--dir', tmp.path('empty')], 'no log files to read');
});

test('a missing file: exit 2, naming it', async () => {
  const file = serviceLog();
  await usageError([file, tmp.path('CMGSetup.log')], `cannot read the log ${tmp.path('CMGSetup.log')}`);
  await usageError(['--dir', tmp.path('no-such-folder')], tmp.path('no-such-folder'));
});

test('a bad regular expression, --since, --until or --type: exit 2', async () => {
  const file = serviceLog();
  await usageError([file, '--grep', '('], '--grep (: not a valid regular expression');
  await usageError([file, '--since', 'yesterday'], '--since yesterday');
  await usageError([file, '--until', '15min'], '--until 15min');
  await usageError([file, '--type', 'fatal'], '--type fatal');
  await usageError([file, '--type', 'error,fatal'], '--type fatal');
  await usageError([file, '-n', '-1'], '');
});

test('a usage error with --json: the error as JSON on stdout', async () => {
  const file = serviceLog();
  const r = await logs([file, '--json', '--type', 'fatal']);
  assert.is(r.code, 2, r.stderr);
  const j = JSON.parse(r.stdout) as { error: { code: string; message: string } };
  assert.is(j.error.code, 'CMG_USAGE');
  assert.match(j.error.message, '--type fatal');
});

// ---------------------------------------------------------------- -f as a live process

interface Live {
  child: ChildProcessWithoutNullStreams;
  out: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startFollow(args: string[]): Live {
  const child = spawn(process.execPath, [RUN_JS, 'logs', '-f', ...args], {
    cwd: REPO,
    env: { ...process.env, NO_COLOR: '1', TZ: 'UTC' },
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  let err = '';
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, out: () => out + (err === '' ? '' : `\n[stderr] ${err}`), exited };
}

async function waitFor(what: string, cond: () => boolean, ms: number): Promise<number> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) assert.unreachable(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
  return Date.now() - start;
}

const stopped = (l: Live) => l.child.exitCode !== null || l.child.signalCode !== null;

test('-f: prints the last lines, then an appended line within a deadline; SIGINT ends it with exit 0', async () => {
  const file = serviceLog();
  const live = startFollow([file]);
  try {
    await waitFor('the history', () => live.out().includes('request failed: 502 from mp01\n'), 15_000);
    appendFileSync(
      file,
      cmtrace([
        { at: '2026-11-29T03:00:03.000Z', text: 'appended while following', component: 'CMGService' },
      ]),
    );
    const ms = await waitFor(
      'the appended line',
      () => live.out().includes('appended while following'),
      2_000,
    );
    assert.ok(ms < 2_000, `${ms} ms`);
    await sleep(300);
    assert.is(
      live.out(),
      [
        '2026-11-29 03:00:00.123  CMGService                   4242  channel up: cp01',
        '2026-11-29 03:00:01.000  CMGService                     77  heartbeat late',
        '                                                            by 3 s',
        '2026-11-29 03:00:02.500  CMGHttpHandler                  9  request failed: 502 from mp01',
        '2026-11-29 03:00:03.000  CMGService                   4242  appended while following',
        '',
      ].join('\n'),
    );
    live.child.kill('SIGINT');
    const end = await Promise.race([live.exited, sleep(5_000).then(() => 'still running' as const)]);
    assert.equal(end, { code: 0, signal: null });
  } finally {
    if (!stopped(live)) live.child.kill('SIGKILL');
  }
});

test('-f --dir: filters apply to new lines, and a log that appears later is followed', async () => {
  historyDir();
  const dir = tmp.path('logs');
  const live = startFollow(['--dir', dir, '--grep', 'keep', '-n', '0']);
  try {
    await sleep(1_500); // started, nothing to print (-n 0)
    assert.is(live.out(), '');
    appendFileSync(
      tmp.path('logs/CMGService.log'),
      cmtrace([
        { at: '2026-11-29T01:00:08.000Z', text: 'drop this', component: 'CMGService' },
        { at: '2026-11-29T01:00:09.000Z', text: 'keep this', component: 'CMGService' },
      ]),
    );
    tmp.write(
      'logs/CMGSetup.log',
      cmtrace([{ at: '2026-11-29T01:00:10.000Z', text: 'keep the new log', component: 'CMGSetup' }]),
    );
    await waitFor(
      'both lines',
      () => live.out().includes('keep the new log') && live.out().includes('keep this'),
      3_000,
    );
    await sleep(300);
    const lines = live.out().trimEnd().split('\n').sort();
    assert.equal(lines, [
      '2026-11-29 01:00:09.000  CMGService                   4242  keep this',
      '2026-11-29 01:00:10.000  CMGSetup                     4242  keep the new log',
    ]);
  } finally {
    if (!stopped(live)) live.child.kill('SIGKILL');
    await live.exited;
  }
});

test('a reader that leaves early (| head) ends the command quietly with 0; a full disk is an error, not a stack trace', async () => {
  const file = `${tmp.dir}/Big.log`;
  const many: Line[] = [];
  for (let i = 0; i < 40_000; i++)
    many.push({
      at: new Date(Date.UTC(2026, 10, 29, 1, 0, 0, i)),
      text: `entry ${i} ${'x'.repeat(60)}`,
      component: 'CMGService',
    });
  const { writeFileSync, existsSync } = await import('node:fs');
  writeFileSync(file, cmtrace(many));
  // The exit code of cmg itself, with bash's PIPESTATUS.
  for (const extra of [['--json'], []]) {
    const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const c = spawn(
        'bash',
        [
          '-c',
          `"${process.execPath}" "${RUN_JS}" logs "${file}" ${extra.join(' ')} | head -n 1 >/dev/null; echo "\${PIPESTATUS[0]}"`,
        ],
        {
          cwd: REPO,
          env: { ...process.env, NO_COLOR: '1' },
        },
      );
      let out = '';
      let err = '';
      c.stdout.on('data', (b) => {
        out += b;
      });
      c.stderr.on('data', (b) => {
        err += b;
      });
      const timer = setTimeout(() => c.kill('SIGKILL'), 20_000); // a hang fails the test instead of stalling it
      c.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, out, err });
      });
    });
    assert.is(r.out.trim(), '0', `cmg ${extra.join(' ')} | head: exit code of cmg (stderr: ${r.err})`);
    assert.is(r.err, '');
  }
  if (existsSync('/dev/full')) {
    for (const extra of [['--json'], []]) {
      const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
        const c = spawn(
          'sh',
          ['-c', `"${process.execPath}" "${RUN_JS}" logs "${file}" ${extra.join(' ')} > /dev/full`],
          {
            cwd: REPO,
            env: { ...process.env, NO_COLOR: '1' },
          },
        );
        let err = '';
        c.stderr.on('data', (b) => {
          err += b;
        });
        c.on('exit', (code) => resolve({ code, err }));
      });
      assert.is(r.code, 1, r.err);
      assert.match(r.err, /cannot write the output: ENOSPC/);
      assert.not.match(r.err, /\bat \w+ \(/, 'no stack trace');
    }
  }
});

test.run();
