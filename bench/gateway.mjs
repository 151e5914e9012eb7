// The gateway benchmark (issue 8): every contender on loopback with the same
// lab PKI, the same stand-in management point (bench/peers/mp.mjs) and the
// same load generator (bench/peers/load.mjs, which presents the client
// certificate), measured in one run so that the ratios hold on a noisy machine.
//   direct  client → management point (one TLS leg: the limit)
//   nginx   client → nginx (ssl_verify_client on, upstream keep-alive) → management point
//   cmg     client → cmg serve → channel → cmg connect → management point (1 and 2 connection points)
// Figures: 1 saturation (req/s, CPU µs per request of the proxying processes),
// 2 latency at a fixed rate, 3 1 GB down and up, 4 handshakes (RSA-2048,
// P-256; full and resumed), 5 idle connections held, 6 long-held requests.
// Usage: npm run bench [-- --runs 3 --seconds 10 --only 1,2,3,4,5,6 --transfer-mb 1024
//                          --idle 10000,19000 --held 10000 --cps 1,2]
import { execFileSync, fork, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSecondsOf, machine, median, percentile, root, rssKbOf, saveResult } from './lib.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const RUNS = Number(arg('runs', 3));
const SECONDS = Number(arg('seconds', 10));
const ONLY = new Set(arg('only', '1,2,3,4,5,6').split(',').map(Number));
const TRANSFER_MB = Number(arg('transfer-mb', 1024));
const IDLE = arg('idle', '10000,19000').split(',').map(Number);
const HELD = Number(arg('held', 10000));
const RATE = Number(arg('rate', 1000));
// --contenders direct,nginx,cmg: a subset, for quick iterations while tuning.
const CONTENDERS = new Set(arg('contenders', 'direct,nginx,cmg').split(','));
// --alt DIR: another built checkout of cmg (a commit to compare with), run as contender 'alt'
// beside this one, on a lab of its own, interleaved in figures 1 and 2: an A/B that a noisy
// machine's slow spells hit on both sides alike.
const ALT = arg('alt', undefined);
if (ALT) CONTENDERS.add('alt');
// --cps 1: cmg with one connection point only (the two-cp leg skipped), for quick A/B runs.
const CPS = new Set(arg('cps', '1,2').split(',').map(Number));
// --profile DIR: the cmg daemons run with --cpu-prof and write their profiles there when stopped.
const PROFILE = arg('profile', undefined);
const NODE_ARGS = PROFILE ? ['--cpu-prof', '--cpu-prof-dir', PROFILE] : [];
const LOAD_WORKERS = 2;
const ROLE_ID = '72057594037927939';
const MP_BASE = `/CCM_Proxy_MutualAuth/${ROLE_ID}`;
const RUN_JS = join(root, 'bin', 'run.js');

const work = mkdtempSync(join(tmpdir(), 'cmg-bench-'));
const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => process.exit(130));

const log = (...a) => console.error(...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, fn, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch {}
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const cpuAll = (pids) => pids.reduce((s, p) => s + cpuSecondsOf(p), 0);
/** Starts counting the processes' CPU; the returned function gives each one's µs per request since. */
function cpuMeter(pids) {
  const before = pids.map(cpuSecondsOf);
  return (requests) => pids.map((p, i) => round(((cpuSecondsOf(p) - before[i]) / requests) * 1e6));
}
const rssMb = (pid) => rssKbOf(pid) / 1024;

const portOpen = (port) =>
  new Promise((resolve) => {
    const s = netConnect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

let nextPort = 21000 + Math.floor(Math.random() * 20000);
const port = () => nextPort++;

// ---- the lab ------------------------------------------------------------------

function makeLab(keyType, name = `lab-${keyType}`) {
  const dir = join(work, name);
  // The lab gives the connection points the admin ports after the gateway's: leave room for two.
  const ports = { gateway: port(), channel: port(), admin: port() };
  nextPort += 2;
  ports.mp = port();
  execFileSync(
    process.execPath,
    [
      RUN_JS,
      'certs',
      'lab',
      '--out',
      dir,
      '--key-type',
      keyType,
      '--gateway-port',
      String(ports.gateway),
      '--channel-port',
      String(ports.channel),
      '--admin-port',
      String(ports.admin),
      '--mp-port',
      String(ports.mp),
    ],
    { stdio: 'ignore' },
  );
  const gw = JSON.parse(readFileSync(join(dir, 'gateway.json'), 'utf8'));
  gw.limits = {
    defaultMaxContentLength: 4 * 1024 ** 3,
    idleTimeoutMs: 3_600_000,
    requestTimeoutMs: 3_600_000,
  };
  writeFileSync(join(dir, 'gateway.json'), JSON.stringify(gw, null, 2));
  const file = (f) => readFileSync(join(dir, f), 'utf8');
  return {
    dir,
    ports,
    keyType,
    client: { cert: file('client.pem'), key: file('client.key') },
    webRoot: file('web-root.pem'),
    corpRoot: file('corp-root.pem'),
  };
}

function startChild(name, cmd, args, cwd) {
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  child.on('exit', (code, signal) => {
    children.delete(child);
    if (!child.expectedExit) log(`${name} exited (${code ?? signal}): ${stderr}`);
  });
  return child;
}

async function stop(child) {
  if (!child || child.exitCode !== null) return;
  child.expectedExit = true;
  // A profiled daemon writes its profile on a clean exit: SIGTERM drains and exits.
  child.kill(PROFILE ? 'SIGTERM' : 'SIGKILL');
  await once(child, 'exit');
}

async function startMp(lab) {
  const child = fork(join(root, 'bench', 'peers', 'mp.mjs'), [
    join(lab.dir, 'mp.pem'),
    join(lab.dir, 'mp.key'),
    String(lab.ports.mp),
  ]);
  children.add(child);
  const [m] = await once(child, 'message');
  return { child, pid: child.pid, port: m.port, ask: (cmd) => askChild(child, cmd) };
}

async function askChild(child, cmd) {
  child.send({ cmd });
  const [m] = await once(child, 'message');
  return m;
}

async function ensureNginx() {
  try {
    execFileSync('nginx', ['-v'], { stdio: 'ignore' });
  } catch {
    log("nginx is missing: installing it from Debian's packages (apt-get install nginx-light)");
    execFileSync('apt-get', ['install', '-y', '-q', 'nginx-light'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
  // nginx -v writes its version on stderr.
  return spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr.trim();
}

/**
 * nginx as the peer: one worker process (cmg's gateway is one process), client
 * certificates verified against the same roots and CRLs, upstream keep-alive,
 * bodies streamed (no request or response buffering, as cmg), an access log
 * (cmg writes one line per request too).
 */
async function startNginx(lab) {
  const dir = join(work, `nginx-${lab.keyType}`);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const p = (f) => join(lab.dir, f);
  writeFileSync(
    join(dir, 'client-ca.pem'),
    readFileSync(p('client-root.pem'), 'utf8') + readFileSync(p('client-issuing.pem'), 'utf8'),
  );
  writeFileSync(
    join(dir, 'crl.pem'),
    readFileSync(p('client-root.crl'), 'utf8') + readFileSync(p('client-issuing.crl'), 'utf8'),
  );
  const nginxPort = port();
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 20000;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 19000; }
http {
  access_log ${dir}/logs/access.log combined buffer=64k flush=1s;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/f; uwsgi_temp_path ${dir}/u; scgi_temp_path ${dir}/s;
  keepalive_timeout 600s; keepalive_requests 1000000;
  upstream mp { server 127.0.0.1:${lab.ports.mp}; keepalive 64; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:${nginxPort} ssl;
    ssl_certificate ${p('web.pem')};
    ssl_certificate_key ${p('web.key')};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_client_certificate ${dir}/client-ca.pem;
    ssl_crl ${dir}/crl.pem;
    ssl_verify_client on;
    ssl_verify_depth 3;
    location ${MP_BASE}/ {
      proxy_pass https://mp/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_ssl_trusted_certificate ${p('corp-root.pem')};
      proxy_ssl_verify on;
      proxy_ssl_name localhost;
      proxy_ssl_session_reuse on;
      proxy_request_buffering off;
      proxy_buffering off;
      proxy_read_timeout 3600s;
      client_max_body_size 0;
    }
  }
}
`,
  );
  const child = startChild('nginx', 'nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], dir);
  await until('nginx to listen', () => portOpen(nginxPort));
  return { pids: [child.pid], port: nginxPort, servername: 'cmg.contoso.com', prefix: MP_BASE, child };
}

async function startCmg(lab, cps, runJs = RUN_JS) {
  const gateway = startChild(
    'cmg serve',
    process.execPath,
    [...NODE_ARGS, runJs, 'serve', '--config', 'gateway.json'],
    lab.dir,
  );
  const connectors = cps.map((id) =>
    startChild(
      `cmg connect ${id}`,
      process.execPath,
      [...NODE_ARGS, runJs, 'connect', '--config', `connector-${id}.json`],
      lab.dir,
    ),
  );
  const admin = `http://127.0.0.1:${lab.ports.admin}`;
  await until(
    `the gateway to see ${cps.length} connection point(s)`,
    async () => {
      const status = JSON.parse(await httpGet(`${admin}/status`));
      const healthy = Math.min(...status.endpoints.map((e) => e.healthyConnectionPoints));
      return (await httpStatus(`${admin}/readyz`)) === 200 && healthy >= cps.length;
    },
    60_000,
  );
  return {
    pids: [gateway.pid, ...connectors.map((c) => c.pid)],
    gatewayPid: gateway.pid,
    port: lab.ports.gateway,
    servername: 'cmg.contoso.com',
    prefix: MP_BASE,
    children: [gateway, ...connectors],
    lab,
  };
}

function httpGet(url) {
  return new Promise((resolve, reject) => {
    httpRequest(url, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });
}
function httpStatus(url) {
  return new Promise((resolve) => {
    httpRequest(url, (res) => {
      res.resume();
      resolve(res.statusCode);
    })
      .on('error', () => resolve(0))
      .end();
  });
}

// ---- load ---------------------------------------------------------------------

function targetOf(defaultLab, contender) {
  const lab = contender.lab ?? defaultLab;
  if (contender.direct)
    return {
      host: '127.0.0.1',
      port: lab.ports.mp,
      servername: 'localhost',
      ca: lab.corpRoot,
      ...lab.client,
    };
  return {
    host: '127.0.0.1',
    port: contender.port,
    servername: contender.servername,
    ca: lab.webRoot,
    ...lab.client,
  };
}

/** Runs one job on `workers` load processes at once; resolves their results. */
async function load(workers, jobOf, onSent) {
  const procs = Array.from({ length: workers }, () => {
    const c = fork(join(root, 'bench', 'peers', 'load.mjs'));
    children.add(c);
    return c;
  });
  const results = procs.map(
    (c) =>
      new Promise((resolve, reject) => {
        c.on('message', (m) => {
          if (m.result) resolve(m.result);
          else if (m.error) reject(new Error(m.error));
          else if (m.sent !== undefined) onSent?.(m.sent);
        });
        c.on('exit', (code) => {
          children.delete(c);
          if (code) reject(new Error(`load generator exited ${code}`));
        });
      }),
  );
  const ready = procs.map((c) => new Promise((r) => c.on('message', (m) => m.ready && r())));
  for (const [i, c] of procs.entries()) c.send(jobOf(i));
  const needsGo = ['saturate', 'rate', 'handshake'].includes(jobOf(0).mode);
  if (needsGo) {
    await Promise.race([Promise.all(ready), Promise.all(results)]);
    for (const c of procs) c.send('go');
  }
  return { procs, results: Promise.all(results) };
}

const round = (x, d = 0) => Number(x.toFixed(d));
/** out[key], created by init() the first time. */
function slot(out, key, init) {
  if (!(key in out)) out[key] = init();
  return out[key];
}

// ---- figures ------------------------------------------------------------------

async function saturation(lab, contenders) {
  const out = {};
  for (let r = 0; r < RUNS; r++) {
    for (const c of contenders) {
      const target = targetOf(lab, c);
      const path = `${c.prefix ?? ''}/CCM_System/x`;
      const { results } = await load(LOAD_WORKERS, () => ({
        mode: 'saturate',
        target,
        connections: 64 / LOAD_WORKERS,
        seconds: SECONDS,
        path,
      }));
      // The measurement window opens at 'go': CPU read around the whole run less warm-up is close enough,
      // so read it around the results (warm-up is 64 requests).
      const pids = c.pids ?? [];
      const cpu0 = cpuAll(pids);
      const mpPid = (c.lab ?? lab).mp.pid;
      const mpCpu0 = cpuSecondsOf(mpPid);
      const rs = await results;
      const cpu = cpuAll(pids) - cpu0;
      const mpCpu = cpuSecondsOf(mpPid) - mpCpu0;
      const ok = rs.reduce((s, x) => s + x.ok, 0);
      const failed = rs.reduce((s, x) => s + x.failed, 0);
      const lat = rs.flatMap((x) => x.latencies);
      const row = slot(out, c.name, () => []);
      row.push({
        rps: ok / SECONDS,
        failed,
        cpuUsPerRequest: pids.length ? (cpu / ok) * 1e6 : undefined,
        mpCpuUsPerRequest: (mpCpu / ok) * 1e6,
        loadCpuUsPerRequest: (rs.reduce((s, x) => s + x.cpu, 0) / ok) * 1e6,
        p50: percentile(lat, 50),
        p99: percentile(lat, 99),
      });
      log(
        `  saturation ${c.name}: ${round(ok / SECONDS)} req/s, ${pids.length ? round((cpu / ok) * 1e6) : '-'} µs CPU/req` +
          (failed ? `, ${failed} failed` : ''),
      );
    }
  }
  return Object.fromEntries(
    Object.entries(out).map(([name, rows]) => [
      name,
      {
        rps: round(median(rows.map((x) => x.rps))),
        cpuUsPerRequest:
          rows[0].cpuUsPerRequest === undefined ? null : round(median(rows.map((x) => x.cpuUsPerRequest))),
        mpCpuUsPerRequest: round(median(rows.map((x) => x.mpCpuUsPerRequest))),
        loadCpuUsPerRequest: round(median(rows.map((x) => x.loadCpuUsPerRequest))),
        p50Ms: round(median(rows.map((x) => x.p50)), 2),
        p99Ms: round(median(rows.map((x) => x.p99)), 2),
        failed: rows.reduce((s, x) => s + x.failed, 0),
        runs: rows.map((x) => round(x.rps)),
      },
    ]),
  );
}

// The per-process split of CPU for cmg (gateway vs connection points) is measured separately below.
async function cpuSplit(lab, c) {
  const target = targetOf(lab, c);
  const { results } = await load(LOAD_WORKERS, () => ({
    mode: 'saturate',
    target,
    connections: 64 / LOAD_WORKERS,
    seconds: SECONDS,
    path: `${c.prefix}/CCM_System/x`,
  }));
  const perRequest = cpuMeter(c.pids);
  const rs = await results;
  return perRequest(rs.reduce((s, x) => s + x.ok, 0));
}

async function latency(lab, contenders, rps) {
  const out = {};
  for (let r = 0; r < RUNS; r++) {
    for (const c of contenders) {
      const { results } = await load(1, () => ({
        mode: 'rate',
        target: targetOf(lab, c),
        rps,
        seconds: SECONDS * 2,
        connections: 32,
        path: `${c.prefix ?? ''}/CCM_System/x`,
      }));
      const perRequest = cpuMeter(c.pids ?? []);
      const [res] = await results;
      // At a fixed rate the machine is not oversubscribed, so this is the steadier CPU figure.
      const cpuUs = perRequest(res.ok);
      slot(out, c.name, () => []).push({
        p50: percentile(res.latencies, 50),
        p99: percentile(res.latencies, 99),
        p999: percentile(res.latencies, 99.9),
        failed: res.failed,
        cpuUs,
      });
      log(
        `  latency ${c.name}: p50 ${round(percentile(res.latencies, 50), 2)} ms, p99 ${round(percentile(res.latencies, 99), 2)} ms${cpuUs.length ? `, CPU µs/req ${cpuUs.join(' + ')}` : ''}`,
      );
    }
  }
  return Object.fromEntries(
    Object.entries(out).map(([name, rows]) => [
      name,
      {
        p50Ms: round(median(rows.map((x) => x.p50)), 2),
        p99Ms: round(median(rows.map((x) => x.p99)), 2),
        p999Ms: round(median(rows.map((x) => x.p999)), 2),
        failed: rows.reduce((s, x) => s + x.failed, 0),
        ...(rows[0].cpuUs.length
          ? { cpuUsPerRequest: rows[0].cpuUs.map((_, i) => median(rows.map((x) => x.cpuUs[i]))) }
          : {}),
      },
    ]),
  );
}

async function transfers(lab, contenders) {
  const bytes = TRANSFER_MB * 1024 * 1024;
  const out = {};
  for (let r = 0; r < RUNS; r++) {
    for (const c of contenders) {
      for (const mode of ['download', 'upload']) {
        const pids = c.pids ?? [];
        const cpu0 = cpuAll(pids);
        const { results } = await load(1, () => ({
          mode,
          target: targetOf(lab, c),
          bytes,
          path:
            mode === 'download'
              ? `${c.prefix ?? ''}/CCM_System/down?bytes=${bytes}`
              : `${c.prefix ?? ''}/CCM_System/up`,
          warmPath: `${c.prefix ?? ''}/CCM_System/x`,
        }));
        const [res] = await results;
        const cpu = cpuAll(pids) - cpu0;
        if (res.status !== 200 || res.bytes !== bytes)
          throw new Error(`${c.name} ${mode}: status ${res.status}, ${res.bytes} of ${bytes} bytes`);
        const mbs = bytes / 1024 / 1024 / res.seconds;
        slot(out, c.name, () => ({ download: [], upload: [] }))[mode].push({
          mbs,
          cpuPerGb: pids.length ? cpu / (bytes / 1024 ** 3) : null,
        });
        log(
          `  ${mode} ${c.name}: ${round(mbs)} MB/s${pids.length ? `, ${round(cpu / (bytes / 1024 ** 3), 2)} CPU s/GB` : ''}`,
        );
      }
    }
  }
  const summary = (rows) => ({
    mbPerSecond: round(median(rows.map((x) => x.mbs))),
    cpuSecondsPerGb: rows[0].cpuPerGb === null ? null : round(median(rows.map((x) => x.cpuPerGb)), 2),
  });
  return Object.fromEntries(
    Object.entries(out).map(([name, m]) => [
      name,
      { download: summary(m.download), upload: summary(m.upload) },
    ]),
  );
}

async function handshakes(lab, contenders) {
  const out = {};
  for (let r = 0; r < RUNS; r++) {
    for (const c of contenders) {
      for (const resume of [false, true]) {
        const pids = c.pids ?? [];
        const { results } = await load(LOAD_WORKERS, () => ({
          mode: 'handshake',
          target: targetOf(lab, c),
          seconds: SECONDS / 2,
          concurrency: 8,
          resume,
          path: `${c.prefix ?? ''}/CCM_System/x`,
        }));
        const cpu0 = cpuAll(pids);
        const rs = await results;
        const cpu = cpuAll(pids) - cpu0;
        const ok = rs.reduce((s, x) => s + x.ok, 0);
        const resumed = rs.reduce((s, x) => s + x.resumed, 0);
        const failed = rs.reduce((s, x) => s + x.failed, 0);
        const key = resume ? 'resumed' : 'full';
        slot(out, c.name, () => ({ full: [], resumed: [] }))[key].push({
          perSecond: ok / (SECONDS / 2),
          cpuUs: (cpu / ok) * 1e6,
          resumed,
          failed,
          ok,
        });
        log(
          `  handshakes ${lab.keyType} ${key} ${c.name}: ${round(ok / (SECONDS / 2))}/s (${resumed} resumed, ${failed} failed), ${round((cpu / ok) * 1e6)} µs CPU each`,
        );
      }
    }
  }
  const summary = (rows) => ({
    perSecond: round(median(rows.map((x) => x.perSecond))),
    cpuUsEach: round(median(rows.map((x) => x.cpuUs))),
    resumedShare: round(
      rows.reduce((s, x) => s + x.resumed, 0) /
        Math.max(
          1,
          rows.reduce((s, x) => s + x.ok + x.failed, 0),
        ),
      2,
    ),
    failed: rows.reduce((s, x) => s + x.failed, 0),
  });
  return Object.fromEntries(
    Object.entries(out).map(([name, m]) => [name, { full: summary(m.full), resumed: summary(m.resumed) }]),
  );
}

/** Idle connections held by one gateway, RSS per connection, and p99 at 500 req/s while they are held. */
async function idleConnections(lab, cmg) {
  const rows = [];
  // Against the RSS before the first round: memory a round freed is not always returned to the system.
  const rss0 = rssMb(cmg.gatewayPid);
  for (const n of IDLE) {
    // Each load process stays under the file limit (20,000 here): several share the connections.
    const workers = Math.ceil(n / 9000);
    const per = Math.ceil(n / workers);
    const t0 = Date.now();
    const { procs, results } = await load(workers, (i) => ({
      mode: 'idle',
      target: targetOf(lab, cmg),
      connections: Math.min(per, n - i * per),
      firstAddress: 1 + i * per + 256,
    }));
    const rs = await results;
    const opened = rs.reduce((s, x) => s + x.opened, 0);
    const openSeconds = (Date.now() - t0) / 1000;
    const rss1 = rssMb(cmg.gatewayPid);
    const { results: lr } = await load(1, () => ({
      mode: 'rate',
      target: targetOf(lab, cmg),
      rps: 500,
      seconds: SECONDS,
      connections: 16,
      path: `${cmg.prefix}/CCM_System/x`,
    }));
    const [lat] = await lr;
    const row = {
      asked: n,
      held: opened,
      failed: rs.reduce((s, x) => s + x.failed, 0),
      secondsToOpen: round(openSeconds, 1),
      gatewayRssMb: round(rss1),
      gatewayRssMbBefore: round(rss0),
      rssKbPerConnection: round(((rss1 - rss0) * 1024) / Math.max(1, opened), 1),
      p50Ms: round(percentile(lat.latencies, 50), 2),
      p99Ms: round(percentile(lat.latencies, 99), 2),
      requestsFailed: lat.failed,
    };
    rows.push(row);
    log(
      `  idle ${n}: held ${opened}, RSS ${row.gatewayRssMb} MB (${row.rssKbPerConnection} KB each), p99 ${row.p99Ms} ms at 500 req/s`,
    );
    for (const p of procs) p.kill('SIGKILL');
    await until(
      'the gateway to let the idle connections go',
      async () => {
        const m = await httpGet(`http://127.0.0.1:${lab.ports.admin}/metrics`);
        const open = /cmg_gateway_client_connections(?:\{[^}]*\})? (\d+)/.exec(m);
        return open && Number(open[1]) < 10;
      },
      60_000,
    ).catch(() => undefined);
  }
  return rows;
}

/** Long-held requests through one connection point, all answered when the management point answers. */
async function heldRequests(lab, cmg, n) {
  const rss0 = cmg.pids.map(rssMb);
  let sent = 0;
  const t0 = Date.now();
  const { results } = await load(
    1,
    () => ({
      mode: 'held',
      target: targetOf(lab, cmg),
      connections: n,
      path: `${cmg.prefix}/CCM_System/hold`,
    }),
    (s) => {
      sent = s;
    },
  );
  await until(
    `${n} requests held at the management point`,
    async () => (await lab.mp.ask('held')).held >= n,
    300_000,
  );
  const heldSeconds = (Date.now() - t0) / 1000;
  const rss1 = cmg.pids.map(rssMb);
  const t1 = Date.now();
  await lab.mp.ask('release');
  const [res] = await results;
  return {
    requests: n,
    sent: Math.max(sent, res.sent),
    heldAtManagementPoint: n,
    secondsToHoldAll: round(heldSeconds, 1),
    answered200: res.ok,
    statuses: res.statuses,
    secondsToAnswerAll: round((Date.now() - t1) / 1000, 1),
    rssMbWhileHeld: { gateway: round(rss1[0]), connectionPoint: round(rss1[1]) },
    rssMbBefore: { gateway: round(rss0[0]), connectionPoint: round(rss0[1]) },
  };
}

// ---- the run ------------------------------------------------------------------

async function main() {
  if (!existsSync(join(root, 'dist', 'commands', 'index.js'))) {
    log('building first (npm run build)');
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  }
  const nginxVersion = (await ensureNginx()).trim();
  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    nginx: nginxVersion,
    runs: RUNS,
    seconds: SECONDS,
  };

  const lab = makeLab('rsa2048');
  lab.mp = await startMp(lab);
  const direct = { name: 'direct', direct: true };
  const nginx = { name: 'nginx', ...(await startNginx(lab)) };
  const cmg1 = { name: 'cmg (1 cp)', ...(await startCmg(lab, ['cp01'])) };
  const alts = [];
  if (ALT) {
    const altLab = makeLab('rsa2048', 'lab-alt');
    altLab.mp = await startMp(altLab);
    alts.push({ name: 'alt (1 cp)', ...(await startCmg(altLab, ['cp01'], join(ALT, 'bin', 'run.js'))) });
  }
  log(`lab ready in ${work}`);
  const pick = (list) => list.filter((c) => CONTENDERS.has(c.name.split(' ')[0]));

  if (ONLY.has(1) || ONLY.has(2) || ONLY.has(3)) {
    // cmg with two connection points shares the gateway: started after the one-cp figures, stopped after.
    if (ONLY.has(1)) {
      log('1. saturation: 64 keep-alive clients, 1 KB answers');
      result.saturation = await saturation(lab, pick([direct, nginx, cmg1, ...alts]));
      if (CONTENDERS.has('cmg')) {
        const [g, cp] = await cpuSplit(lab, cmg1);
        result.saturation.cmgSplitUs = { gateway: g, connectionPoint: cp };
      }
      for (const alt of alts) {
        const [g, cp] = await cpuSplit(lab, alt);
        result.saturation.altSplitUs = { gateway: g, connectionPoint: cp };
      }
    }
    if (ONLY.has(2)) {
      log(`2. latency at ${RATE} req/s`);
      result.latency = await latency(lab, pick([direct, nginx, cmg1, ...alts]), RATE);
    }
    if (ONLY.has(3)) {
      log(`3. ${TRANSFER_MB} MB down and up`);
      result.transfer = await transfers(lab, pick([direct, nginx, cmg1]));
    }
    if (CONTENDERS.has('cmg') && CPS.has(2)) {
      const cp2 = startChild(
        'cmg connect cp02',
        process.execPath,
        [...NODE_ARGS, RUN_JS, 'connect', '--config', 'connector-cp02.json'],
        lab.dir,
      );
      const cmg2 = { ...cmg1, name: 'cmg (2 cps)', pids: [...cmg1.pids, cp2.pid] };
      await until('the second connection point', async () => {
        const status = JSON.parse(await httpGet(`http://127.0.0.1:${lab.ports.admin}/status`));
        return Math.min(...status.endpoints.map((e) => e.healthyConnectionPoints)) >= 2;
      });
      if (ONLY.has(1)) Object.assign(result.saturation, await saturation(lab, [cmg2]));
      if (ONLY.has(2)) Object.assign(result.latency, await latency(lab, [cmg2], RATE));
      if (ONLY.has(3)) Object.assign(result.transfer, await transfers(lab, [cmg2]));
      await stop(cp2);
    }
  }
  if (ONLY.has(4)) {
    log('4. handshakes');
    result.handshakes = { rsa2048: await handshakes(lab, pick([nginx, cmg1])) };
    const ec = makeLab('p256');
    ec.mp = await startMp(ec);
    const ecNginx = { name: 'nginx', ...(await startNginx(ec)) };
    const ecCmg = { name: 'cmg (1 cp)', ...(await startCmg(ec, ['cp01'])) };
    result.handshakes.p256 = await handshakes(ec, pick([ecNginx, ecCmg]));
    for (const c of [ecNginx.child, ...ecCmg.children, ec.mp.child]) await stop(c);
  }
  await stop(nginx.child);
  if (ONLY.has(5)) {
    log(`5. idle connections: ${IDLE.join(', ')}`);
    result.idle = await idleConnections(lab, cmg1);
  }
  if (ONLY.has(6)) {
    log(`6. ${HELD} long-held requests`);
    result.held = await heldRequests(lab, cmg1, HELD);
  }
  for (const c of [...cmg1.children, ...alts.flatMap((a) => a.children)]) await stop(c);
  await stop(lab.mp.child);
  for (const a of alts) await stop(a.lab.mp.child);
  print(result);
  // A partial or profiled run does not replace the day's full results.
  const full = ONLY.size === 6 && CONTENDERS.size === 3 && CPS.size === 2 && !PROFILE && !ALT;
  saveResult(full ? 'gateway' : 'gateway-partial', result);
  rmSync(work, { recursive: true, force: true });
  process.exit(0);
}

function print(r) {
  const lines = [];
  if (r.saturation) {
    lines.push(
      '| 1. saturation, 64 clients, 1 KB | req/s | proxy CPU µs/req | p50 | p99 |',
      '|---|---|---|---|---|',
    );
    for (const [name, s] of Object.entries(r.saturation)) {
      if (name.endsWith('SplitUs')) continue;
      lines.push(`| ${name} | ${s.rps} | ${s.cpuUsPerRequest ?? '-'} | ${s.p50Ms} ms | ${s.p99Ms} ms |`);
    }
    lines.push('');
    for (const who of ['cmg', 'alt']) {
      const split = r.saturation[`${who}SplitUs`];
      if (split)
        lines.push(
          `${who} split: gateway ${split.gateway} µs + connection point ${split.connectionPoint} µs per request`,
        );
    }
  }
  if (r.latency) {
    lines.push('', `| 2. at ${RATE} req/s | p50 | p99 | p99.9 |`, '|---|---|---|---|');
    for (const [name, s] of Object.entries(r.latency))
      lines.push(
        `| ${name} | ${s.p50Ms} ms | ${s.p99Ms} ms | ${s.p999Ms} ms |${s.cpuUsPerRequest ? ` ${s.cpuUsPerRequest.join(' + ')} µs CPU/req |` : ''}`,
      );
  }
  if (r.transfer) {
    lines.push(
      '',
      `| 3. ${TRANSFER_MB} MB | down MB/s | up MB/s | CPU s/GB down | up |`,
      '|---|---|---|---|---|',
    );
    for (const [name, s] of Object.entries(r.transfer))
      lines.push(
        `| ${name} | ${s.download.mbPerSecond} | ${s.upload.mbPerSecond} | ${s.download.cpuSecondsPerGb ?? '-'} | ${s.upload.cpuSecondsPerGb ?? '-'} |`,
      );
  }
  if (r.handshakes) {
    lines.push('', '| 4. new connections/s (handshake + 1 request) | full | resumed |', '|---|---|---|');
    for (const [kt, byName] of Object.entries(r.handshakes))
      for (const [name, s] of Object.entries(byName))
        lines.push(
          `| ${kt} ${name} | ${s.full.perSecond} | ${s.resumed.perSecond} (${Math.round(s.resumed.resumedShare * 100)}% resumed) |`,
        );
  }
  if (r.idle) {
    lines.push(
      '',
      '| 5. idle connections | held | gateway RSS | per connection | p99 at 500 req/s |',
      '|---|---|---|---|---|',
    );
    for (const s of r.idle)
      lines.push(
        `| ${s.asked} | ${s.held} | ${s.gatewayRssMb} MB | ${s.rssKbPerConnection} KB | ${s.p99Ms} ms |`,
      );
  }
  if (r.held)
    lines.push(
      '',
      `6. held requests: ${r.held.answered200} of ${r.held.requests} answered 200 (${JSON.stringify(r.held)})`,
    );
  lines.push('', r.machine, r.nginx);
  console.log(lines.join('\n'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
