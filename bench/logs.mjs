// `cmg logs` throughput and follow latency (issue 6). In one run:
//   1. generates a log set (200 MB by default) of CMTrace CCM lines as cmg writes them:
//      CMGHttpHandler, CMGService and SMS_CLOUD_PROXYCONNECTOR, each a .log with its rotated
//      .lo_ history, a mix of types, some multi-line messages, and exactly 1% of the lines
//      holding the marker NEEDLE42;
//   2. interleaved rounds of `cmg logs --dir DIR --json`, `cmg logs --dir DIR --grep NEEDLE42`
//      (both to /dev/null) and `grep -c NEEDLE42` on the same files: MB/s of each (MB = 10^6 bytes,
//      wall time of the whole process, Node and oclif start included), and `cmg logs EMPTY.log`, the start
//      alone, to report the rate of the rest beside it;
//   3. follow latency: `cmg logs -f FILE` in a child, a numbered line appended to FILE about every
//      100 ms, the time from the append to the line on the child's stdout.
// Targets: >= 100 MB/s parsing, --grep within 5x of grep -c, a followed line shown within 250 ms.
// Usage: npm run bench:logs [-- --mb 200 --runs 3 --follow-lines 50]   (run `npm run build` first)
import { spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { machine, median, percentile, root, runsFromArgv, saveResult } from './lib.mjs';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(
    'Usage: node bench/logs.mjs [--mb 200] [--runs 3] [--follow-lines 50]   (run `npm run build` first)',
  );
  process.exit(0);
}

function numberFromArgv(name, fallback) {
  const i = process.argv.indexOf(name);
  const v = i > 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name}: expected a positive number`);
  return v;
}

const mb = numberFromArgv('--mb', 200);
const runs = runsFromArgv(3);
const followLines = numberFromArgv('--follow-lines', 50);
const NEEDLE = 'NEEDLE42';
const MB = 1e6;
const TARGET_MBPS = 100;
const TARGET_GREP_FACTOR = 5;
const TARGET_FOLLOW_MS = 250;

const run = join(root, 'bin', 'run.js');
if (!existsSync(join(root, 'dist', 'commands', 'logs.js'))) {
  console.error('dist is missing: run `npm run build` first');
  process.exit(1);
}
// The figures are for dist: say so when it is older than the sources it is built from, or rebuilt mid-run.
const MODULES = ['logs/parse', 'logs/read', 'logs/render', 'logs/filter', 'logs/follow', 'commands/logs'];
const builtAt = () => MODULES.map((m) => statSync(join(root, 'dist', `${m}.js`)).mtimeMs).join();
const built = builtAt();
const stale = MODULES.filter(
  (m) => statSync(join(root, 'src', `${m}.ts`)).mtimeMs > statSync(join(root, 'dist', `${m}.js`)).mtimeMs,
);
if (stale.length > 0)
  console.warn(`warning: dist is older than src for ${stale.join(', ')}: run \`npm run build\``);
const git = (...args) => spawnSync('git', args, { cwd: root, encoding: 'utf8' }).stdout?.trim() ?? '';
const commit = git('rev-parse', '--short', 'HEAD');
const srcChanged = git('status', '--porcelain', '--', 'src') !== '';
const work = mkdtempSync(join(tmpdir(), 'cmg-logs-bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

// ---------------------------------------------------------------------------
// 1. The log set.

/** mulberry32: a small seeded PRNG, so that every run writes the same logs. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(42);
const int = (n) => Math.floor(rand() * n);
const pick = (xs) => xs[int(xs.length)];
const hex = (n) => {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789ABCDEF'[int(16)];
  return s;
};
// Pools drawn once: random hex per line would make writing the set slower than reading it.
const pool = (n, make) => Array.from({ length: n }, make);
const GUIDS = pool(2000, () => `{${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}}`);
const HASHES = pool(500, () => hex(64));
const IPS = pool(5000, () => `10.${int(32)}.${int(256)}.${1 + int(254)}`);
const guid = () => pick(GUIDS);
const ip = () => pick(IPS);

const SITE = '72057594037927941';
const PATHS = [
  () => `/CCM_Proxy_MutualAuth/${SITE}/SMS_MP/.sms_aut?MPLOCATION&ir=${ip()}&ip=${ip()}`,
  () => `/CCM_Proxy_MutualAuth/${SITE}/SMS_MP/.sms_aut?MPLIST`,
  () => `/CCM_Proxy_ServerAuth/${SITE}/SMS_MP/.sms_aut?MPKEYINFORMATIONEX`,
  () => `/CCM_Proxy_MutualAuth/${SITE}/CCM_Incoming/${guid()}`,
  () => `/CCM_Proxy_MutualAuth/${SITE}/SMS_MP/.sms_pol?${guid()}.SHA256:${pick(HASHES)}`,
  () => `/CCM_Proxy_MutualAuth/${SITE}/CCM_STS`,
  () => `/downloadcontent/${SITE}/SCCMContent/${guid()}/${hex(8)}.cab`,
];
const THUMBS = pool(40, () => hex(40));
const CPS = ['cp1.corp.contoso.com', 'cp2.corp.contoso.com'];
const MPS = ['https://mp01.corp.contoso.com', 'https://mp02.corp.contoso.com'];

// Request ids as the gateway makes them: `<instance>-<sequence in base 36>`.
let reqSeq = 1_000_000;
const reqId = () => `g7f3a-${(++reqSeq).toString(36)}`;

/** One CMGHttpHandler.log message (the gateway's requestLine) and its type. */
function httpMessage() {
  const r = rand();
  const [status, type, error] =
    r < 0.03
      ? [
          pick([502, 503, 504, 0]),
          3,
          pick(['upstream timeout', 'no connection point for this path', 'channel closed']),
        ]
      : r < 0.1
        ? [pick([200, 401, 403, 404]), 2, pick(['client certificate not trusted', 'client aborted'])]
        : [pick([200, 200, 200, 200, 304, 404]), 1, undefined];
  const text =
    `${reqId()} ${pick(['GET', 'GET', 'GET', 'POST', 'CCM_POST'])} ${pick(PATHS)()} -> ${status || 'no answer'} ` +
    `in ${int(900)} ms, ${int(20_000)} bytes in, ${int(200_000)} bytes out, client ${ip()}, ` +
    `certificate ${pick(THUMBS)}, connection point ${pick(CPS)}` +
    (error ? `, error ${error}` : '');
  return [text, type];
}

/** One CMGService.log message and its type. */
function serviceMessage() {
  const r = rand();
  if (r < 0.03) {
    return [
      pick([
        `connection point refused from ${ip()}:${1024 + int(60000)} (CN=${pick(CPS)}): certificate not issued by a trusted root`,
        `connection point ${pick(CPS)} published /CCM_Proxy_MutualAuth/${SITE}, which site PS1 already publishes: not routed to it`,
      ]),
      3,
    ];
  }
  if (r < 0.1) {
    return [
      pick([
        `channel down: connection point ${pick(CPS)}: heartbeat missed for 90 s`,
        `TLS handshake with ${ip()}:${1024 + int(60000)} failed: no shared cipher`,
      ]),
      2,
    ];
  }
  return [
    pick([
      () =>
        `traffic report (300 s): /CCM_Proxy_MutualAuth/${SITE}: ${int(50_000)} requests, ${int(30)} failed, ` +
        `${int(1e9)} bytes in, ${int(1e10)} bytes out, at most ${int(200)} at once`,
      () => `channel up: connection point ${pick(CPS)}, 6 endpoints published (cmg 0.1.0, heartbeat 30 s)`,
      () => `admin endpoint on http://127.0.0.1:9464 (/healthz, /readyz, /metrics, /status)`,
    ])(),
    1,
  ];
}

/** One SMS_CLOUD_PROXYCONNECTOR.log message and its type. */
function connectorMessage() {
  const r = rand();
  const id = reqId();
  if (r < 0.03) {
    return [
      `request ${id} ${pick(['GET', 'POST'])} ${pick(MPS)}/SMS_MP/.sms_aut?MPLIST failed after ${int(30_000)} ms: ` +
        `${pick(['ETIMEDOUT', 'ECONNRESET', 'ECONNREFUSED'])} (the management point did not answer)`,
      3,
    ];
  }
  if (r < 0.1) {
    return [
      `channel ${int(4)} to cmg.contoso.com:443 down: ${pick(['heartbeat missed', 'GOAWAY received', 'socket hang up'])}; retrying in ${(rand() * 30).toFixed(1)} s`,
      2,
    ];
  }
  return [
    rand() < 0.97
      ? `forwarding ${id} ${pick(['GET', 'GET', 'POST', 'CCM_POST'])} to ${pick(MPS)}${pick(PATHS)().replace(/^\/CCM_Proxy_\w+\/\d+/, '')}`
      : `channel ${int(4)} to cmg.contoso.com:443 up (gateway instance g7f3a), manifest sent`,
    1,
  ];
}

/** A multi-line message (k lines): an error with its stack, as cmg logs an unexpected error. */
function stackMessage(k) {
  const frames = [
    'at Gateway.route (file:///opt/cmg/dist/gateway/gateway.js:315:22)',
    'at Http2Session.onStream (file:///opt/cmg/dist/channel/session.js:142:9)',
    'at Channel.forward (file:///opt/cmg/dist/channel/channel.js:88:17)',
    'at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
    'at async Forwarder.send (file:///opt/cmg/dist/connector/forwarder.js:61:5)',
  ];
  const lines = [
    `unexpected error (a bug in cmg; please report it with this line) in ${pick(['request', 'channel', 'heartbeat'])}: ` +
      `TypeError: Cannot read properties of undefined (reading '${pick(['id', 'headers', 'socket'])}')`,
  ];
  for (let i = 1; i < k; i++) lines.push(`    ${frames[(i - 1) % frames.length]}`);
  return lines.join('\n');
}

const pad2 = (n) => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);
/** formatCmtraceLine (src/logs/cmtrace-format.ts) for bias +000, without its escaping (the texts need none). */
function ccmLine(ms, text, component, type, thread) {
  const t = new Date(ms);
  return (
    `<![LOG[${text}]LOG]!><time="${pad2(t.getUTCHours())}:${pad2(t.getUTCMinutes())}:${pad2(t.getUTCSeconds())}.${pad3(t.getUTCMilliseconds())}+000" ` +
    `date="${pad2(t.getUTCMonth() + 1)}-${pad2(t.getUTCDate())}-${t.getUTCFullYear()}" component="${component}" context="" ` +
    `type="${type}" thread="${thread}" file="">\n`
  );
}

const LOGS = [
  { stem: 'CMGHttpHandler', share: 0.5, message: httpMessage, threads: [2417, 2417, 2417, 9133] },
  { stem: 'CMGService', share: 0.15, message: serviceMessage, threads: [2417, 9133] },
  { stem: 'SMS_CLOUD_PROXYCONNECTOR', share: 0.35, message: connectorMessage, threads: [1861, 1861, 7702] },
];
/** The share of each log held in its rotated .lo_ part. */
const ROTATED_SHARE = 0.4;
const START = Date.UTC(2026, 10, 28, 0, 0, 0);
const SPAN_MS = 24 * 3600_000;
const BLOCK = 100; // lines per block: exactly one holds the needle

function generate(dir) {
  const t0 = performance.now();
  const files = [];
  let lines = 0;
  let entries = 0;
  let needles = 0;
  for (const log of LOGS) {
    const bytes = mb * MB * log.share;
    // Entries average about 300 bytes: spread them over the same day in every log, so that the merge interleaves.
    const stepMs = (2 * SPAN_MS) / (bytes / 300);
    let clock = START;
    for (const [ext, target] of [
      ['.lo_', bytes * ROTATED_SHARE],
      ['.log', bytes * (1 - ROTATED_SHARE)],
    ]) {
      const path = join(dir, `${log.stem}${ext}`);
      const fd = openSync(path, 'w');
      let size = 0;
      let buf = [];
      let bufLen = 0;
      const entry = (text, type) => {
        clock += rand() * stepMs;
        const line = ccmLine(Math.floor(clock), text, log.stem, type, pick(log.threads));
        buf.push(line);
        bufLen += line.length;
        entries++;
      };
      while (size + bufLen < target) {
        const needleAt = int(BLOCK);
        for (let i = 0; i < BLOCK; ) {
          if (i === needleAt) {
            const [text, type] = log.message();
            // The marker in the middle of the text, as a request id or a host name would be.
            const space = text.indexOf(' ', 20);
            const cut = space === -1 ? text.length : space;
            entry(`${text.slice(0, cut)} ${NEEDLE}${text.slice(cut)}`, type);
            i++;
            needles++;
            continue;
          }
          const k = 3 + int(4);
          if (rand() < 0.01 && i + k <= BLOCK && !(needleAt >= i && needleAt < i + k)) {
            entry(stackMessage(k), 3);
            i += k;
          } else {
            const [text, type] = log.message();
            entry(text, type);
            i++;
          }
        }
        lines += BLOCK;
        if (bufLen >= 4 << 20) {
          const chunk = buf.join('');
          writeSync(fd, chunk);
          size += chunk.length; // ASCII only: characters are bytes
          buf = [];
          bufLen = 0;
        }
      }
      const chunk = buf.join('');
      writeSync(fd, chunk);
      size += chunk.length;
      closeSync(fd);
      files.push({ path, bytes: size });
    }
  }
  const bytes = files.reduce((n, f) => n + f.bytes, 0);
  return { files, bytes, lines, entries, needles, seconds: (performance.now() - t0) / 1000 };
}

console.log(`generating ${mb} MB of CMTrace logs in ${work} ...`);
const set = generate(work);
const paths = set.files.map((f) => f.path);
console.log(
  `  ${set.files.length} files, ${(set.bytes / MB).toFixed(1)} MB, ${set.lines} lines, ${set.entries} entries, ` +
    `${set.needles} lines with ${NEEDLE} (${((100 * set.needles) / set.lines).toFixed(2)}%), ` +
    `written in ${set.seconds.toFixed(1)} s (${(set.bytes / MB / set.seconds).toFixed(0)} MB/s)`,
);

// ---------------------------------------------------------------------------
// 2. Throughput.

const devNull = openSync('/dev/null', 'w');
// grep's output goes to a pipe, not /dev/null: GNU grep notices /dev/null and stops at the first match (-q),
// which would time nothing. Its output is a few lines; cmg's output is discarded as `> /dev/null` does.
// The shipped form, the single binary, beside `node bin/run.js` when it is built and not older than dist.
const binary = join(root, 'dist', 'cmg');
const binaryFresh =
  existsSync(binary) &&
  MODULES.every((m) => statSync(join(root, 'dist', `${m}.js`)).mtimeMs <= statSync(binary).mtimeMs);
if (existsSync(binary) && !binaryFresh)
  console.warn('warning: dist/cmg is older than dist: run `npm run build:binary` to measure it too');
const cmgForms = {
  'cmg logs': [process.execPath, [run]],
  ...(binaryFresh ? { 'dist/cmg logs': [binary, []] } : {}),
};
// The start alone (Node, oclif, the command's modules): the same command on an empty log.
const empty = join(work, 'empty', 'CMGService.log');
mkdirSync(dirname(empty));
writeFileSync(empty, '');
const contenders = {};
for (const [form, [cmd, pre]] of Object.entries(cmgForms)) {
  contenders[`${form} EMPTY.log`] = { cmd, args: [...pre, 'logs', empty], stdout: devNull, counts: 'empty' };
  contenders[`${form} --json`] = {
    cmd,
    args: [...pre, 'logs', '--dir', work, '--json'],
    stdout: devNull,
    counts: 'json',
  };
  contenders[`${form} --grep ${NEEDLE}`] = {
    cmd,
    args: [...pre, 'logs', '--dir', work, '--grep', NEEDLE],
    stdout: devNull,
    counts: 'needles',
  };
}
contenders[`grep -c ${NEEDLE}`] = { cmd: 'grep', args: ['-c', NEEDLE, ...paths], stdout: 'pipe' };
/** The sum of grep -c's `file:count` lines. */
const grepCount = (stdout) =>
  String(stdout)
    .trim()
    .split('\n')
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(':') + 1)), 0);
const names = Object.keys(contenders);

/** Runs a contender once with its output counted (not timed): checks the answers and warms the page cache. */
function countLines(c) {
  return new Promise((resolve, reject) => {
    const child = spawn(c.cmd, c.args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let n = 0;
    let stderr = '';
    child.stdout.on('data', (b) => {
      for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
    });
    child.stderr.on('data', (b) => {
      stderr += b;
    });
    child.on('close', (code) => (code === 0 ? resolve(n) : reject(new Error(`${c.args}: ${stderr}`))));
  });
}
{
  const check = (what, got, want) => {
    if (got !== want) throw new Error(`${what}: ${got}, expected ${want}`);
  };
  for (const name of names) {
    const c = contenders[name];
    if (c.counts === 'json') check(`${name} entries`, await countLines(c), set.entries);
    else if (c.counts === 'needles') check(`${name} entries`, await countLines(c), set.needles);
    else if (c.counts === 'empty') check(`${name} entries`, await countLines(c), 0);
    else check(`${name} lines`, grepCount(spawnSync('grep', c.args).stdout), set.needles);
  }
  console.log(
    `  checked: every --json printed ${set.entries} entries, every --grep and grep -c ${set.needles}`,
  );
}

const times = Object.fromEntries(names.map((k) => [k, []]));
for (let i = 0; i < runs; i++) {
  for (const name of names) {
    const c = contenders[name];
    const t0 = performance.now();
    const r = spawnSync(c.cmd, c.args, { cwd: root, stdio: ['ignore', c.stdout, 'pipe'] });
    const s = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`${name} failed (${r.status ?? r.signal}): ${r.stderr}`);
    if (c.stdout === 'pipe' && grepCount(r.stdout) !== set.needles) throw new Error(`${name}: wrong count`);
    times[name].push(s);
    console.log(`  round ${i + 1}/${runs}: ${name}: ${s.toFixed(3)} s`);
  }
}
closeSync(devNull);

const throughput = Object.fromEntries(
  names.map((name) => {
    const s = median(times[name]);
    return [
      name,
      {
        medianS: +s.toFixed(3),
        mbPerS: +(set.bytes / MB / s).toFixed(1),
        runsS: times[name].map((x) => +x.toFixed(3)),
      },
    ];
  }),
);
const grepC = throughput[`grep -c ${NEEDLE}`];
/** The targets for one form of cmg (`cmg logs` through node, or the binary). */
const targetsOf = (form) => {
  const parse = throughput[`${form} --json`];
  const cmgGrep = throughput[`${form} --grep ${NEEDLE}`];
  const start = throughput[`${form} EMPTY.log`];
  return {
    // Not a target: what the process start costs, and the rate of the rest.
    startS: start.medianS,
    jsonMbPerSAfterStart: +(set.bytes / MB / (parse.medianS - start.medianS)).toFixed(1),
    parseMbPerS: { target: `>= ${TARGET_MBPS} MB/s`, value: parse.mbPerS, met: parse.mbPerS >= TARGET_MBPS },
    grepWithin5x: {
      target: `cmg --grep time <= ${TARGET_GREP_FACTOR} x grep -c time`,
      value: +(cmgGrep.medianS / grepC.medianS).toFixed(2),
      met: cmgGrep.medianS <= TARGET_GREP_FACTOR * grepC.medianS,
    },
  };
};

// ---------------------------------------------------------------------------
// 3. Follow latency.

async function followLatency() {
  const dir = join(work, 'follow');
  mkdirSync(dir);
  const file = join(dir, 'CMGService.log');
  const at = () => Date.now();
  appendFileSync(
    file,
    ['service starting', 'gateway g7f3a listening for clients on 0.0.0.0:443', 'seed line 3']
      .map((t) => ccmLine(at(), t, 'CMGService', 1, process.pid))
      .join(''),
  );
  const child = spawn(process.execPath, [run, 'logs', '-f', file], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const seen = new Map();
  let firstOutput;
  const ready = new Promise((resolve) => {
    firstOutput = resolve;
  });
  let partial = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text) => {
    const now = performance.now();
    firstOutput();
    const lines = (partial + text).split('\n');
    partial = lines.pop();
    for (const line of lines) {
      const m = /FOLLOW-(\d+)/.exec(line);
      if (m && !seen.has(Number(m[1]))) seen.set(Number(m[1]), now);
    }
  });
  child.stderr.on('data', (b) => {
    stderr += b;
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));

  const startup = await Promise.race([
    ready.then(() => 'ready'),
    sleep(20_000, 'timeout', { ref: false }),
    exited,
  ]);
  if (startup !== 'ready') throw new Error(`cmg logs -f did not start: ${JSON.stringify(startup)} ${stderr}`);
  await sleep(300); // the follower starts right after the history is printed

  // About every 100 ms, jittered (50-150 ms) so that the appends do not lock in phase with the
  // follower's own 100 ms poll, which would make every latency the same.
  const written = [];
  for (let i = 0; i < followLines; i++) {
    await sleep(50 + rand() * 100);
    appendFileSync(
      file,
      ccmLine(at(), `follow probe FOLLOW-${String(i).padStart(4, '0')}`, 'CMGService', 1, 2417),
    );
    written.push(performance.now());
  }
  const deadline = performance.now() + 5_000;
  while (seen.size < followLines && performance.now() < deadline) await sleep(20);

  child.kill('SIGINT');
  const end = await Promise.race([exited, sleep(5_000, 'timeout', { ref: false })]);
  if (end === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
  const latencies = [];
  for (let i = 0; i < followLines; i++) if (seen.has(i)) latencies.push(seen.get(i) - written[i]);
  return {
    lines: followLines,
    shown: latencies.length,
    lost: followLines - latencies.length,
    p50Ms: +percentile(latencies, 50).toFixed(1),
    p99Ms: +percentile(latencies, 99).toFixed(1),
    maxMs: +Math.max(...latencies).toFixed(1),
    minMs: +Math.min(...latencies).toFixed(1),
    exitOnSigint: end === 'timeout' ? 'did not exit within 5 s (killed)' : (end.code ?? end.signal),
  };
}

console.log(`following: ${followLines} lines appended about every 100 ms ...`);
const follow = await followLatency();

// ---------------------------------------------------------------------------
// 4. Results.

const targets = {
  ...Object.fromEntries(Object.keys(cmgForms).map((form) => [form, targetsOf(form)])),
  followMs: {
    target: `<= ${TARGET_FOLLOW_MS} ms`,
    value: follow.maxMs,
    met: follow.lost === 0 && follow.maxMs <= TARGET_FOLLOW_MS,
  },
};
const result = {
  date: new Date().toISOString(),
  machine: machine(),
  commit,
  srcChangedSinceCommit: srcChanged,
  distOlderThanSrc: stale,
  distRebuiltDuringRun: builtAt() !== built,
  mb,
  runs,
  logSet: {
    files: set.files.map((f) => ({ name: f.path.slice(work.length + 1), bytes: f.bytes })),
    bytes: set.bytes,
    lines: set.lines,
    entries: set.entries,
    needleLines: set.needles,
  },
  throughput,
  follow,
  targets,
};
saveResult('logs', result);
if (result.distRebuiltDuringRun)
  console.warn('warning: dist was rebuilt during the run: the figures mix two builds');

const yes = (ok) => (ok ? 'met' : 'MISSED');
console.log(`\n| command | median | MB/s | runs |\n|---|---|---|---|`);
for (const name of names) {
  const t = throughput[name];
  console.log(
    `| \`${name}\` | ${t.medianS.toFixed(3)} s | ${t.mbPerS} | ${t.runsS.map((x) => x.toFixed(3)).join(', ')} s |`,
  );
}
console.log(
  `follow: ${follow.shown}/${follow.lines} lines shown, latency p50 ${follow.p50Ms} ms, p99 ${follow.p99Ms} ms, ` +
    `max ${follow.maxMs} ms (min ${follow.minMs} ms); exit on SIGINT: ${follow.exitOnSigint}`,
);
console.log(`\n| target | wanted | measured | |\n|---|---|---|---|`);
for (const form of Object.keys(cmgForms)) {
  const t = targets[form];
  console.log(
    `| \`${form} --json\` | >= ${TARGET_MBPS} MB/s | ${t.parseMbPerS.value} MB/s | ${yes(t.parseMbPerS.met)} |`,
  );
  console.log(
    `| \`${form} --grep\` vs grep -c | within ${TARGET_GREP_FACTOR}x | ${t.grepWithin5x.value}x | ${yes(t.grepWithin5x.met)} |`,
  );
}

console.log(
  `| follow latency (max) | <= ${TARGET_FOLLOW_MS} ms | ${follow.maxMs} ms${follow.lost ? `, ${follow.lost} lost` : ''} | ${yes(targets.followMs.met)} |`,
);
for (const form of Object.keys(cmgForms)) {
  const t = targets[form];
  console.log(
    `${form}: start ${t.startS.toFixed(3)} s (on an empty log); --json after the start: ${t.jsonMbPerSAfterStart} MB/s`,
  );
}
console.log(
  `\n${(set.bytes / MB).toFixed(0)} MB in ${set.files.length} files, ${runs} interleaved rounds, ${result.machine}`,
);
console.log(`\n${JSON.stringify(result, null, 2)}`);
