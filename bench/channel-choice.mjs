// Which transport for the channel: reverse HTTP/2 (one TLS connection, a
// stream per request) or a pool of HTTP/1.1 keep-alive connections (a socket
// per request in flight)? Measured here in isolation, on the same TLS, with
// the "connection point" end in a child process:
//   1. saturation: 64 requests in flight, 1 KB answers: req/s and CPU
//      microseconds per request on each end;
//   2. held requests (client notification keeps requests open): N requests
//      the far end does not answer yet: RSS of each end and sockets used.
// Usage: node bench/channel-choice.mjs [--runs 3] [--held 5000]
import { execFileSync, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import { cpuSecondsOf, machine, median, rssKbOf, runsFromArgv, saveResult } from './lib.mjs';

const role = process.argv[2];
const ANSWER = Buffer.alloc(1024, 'x');

if (role === 'server') {
  // The far end: answers /x with 1 KB; holds /hold until told to release.
  const { cert, key, proto } = JSON.parse(process.argv[3]);
  const held = [];
  const handler = (req, res) => {
    if (req.url === '/hold') held.push(res);
    else if (req.url === '/release') {
      for (const r of held.splice(0)) r.end('ok');
      res.end('released');
    } else res.end(ANSWER);
  };
  const server =
    proto === 'h2'
      ? http2.createSecureServer(
          {
            cert,
            key,
            settings: { maxConcurrentStreams: 100000, initialWindowSize: 1 << 20 },
            maxSessionMemory: 512,
          },
          handler,
        )
      : https.createServer({ cert, key, keepAliveTimeout: 60000 }, handler);
  server.maxConnections = 100000;
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
} else {
  main();
}

function pemPair() {
  // A throwaway self-signed P-256 certificate, made with openssl (node has no X.509 writer).
  const dir = execFileSync('mktemp', ['-d']).toString().trim();
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost',
      '-days',
      '2',
      '-keyout',
      `${dir}/k.pem`,
      '-out',
      `${dir}/c.pem`,
    ],
    { stdio: 'ignore' },
  );
  return { cert: readFileSync(`${dir}/c.pem`, 'utf8'), key: readFileSync(`${dir}/k.pem`, 'utf8') };
}

/** Microseconds of CPU a process has used. */
const cpuOf = (pid) => cpuSecondsOf(pid) * 1e6;
/** Bytes of resident memory. */
const rssOf = (pid) => rssKbOf(pid) * 1024;

async function startServer(proto, pair) {
  const child = fork(new URL(import.meta.url).pathname, ['server', JSON.stringify({ ...pair, proto })], {
    stdio: 'inherit',
  });
  const { port } = await new Promise((r) => child.once('message', r));
  return { child, port };
}

function h2Client(port, ca) {
  const session = http2.connect(`https://localhost:${port}`, {
    ca,
    settings: { initialWindowSize: 1 << 20 },
    maxSessionMemory: 512,
    peerMaxConcurrentStreams: 100000,
  });
  const request = (path) =>
    new Promise((resolve, reject) => {
      const s = session.request({ ':path': path });
      s.on('error', reject);
      s.on('data', () => {});
      s.on('end', resolve);
      s.end();
    });
  return { request, close: () => session.close() };
}

function h1Client(port, ca, maxSockets) {
  const agent = new https.Agent({ keepAlive: true, maxSockets, ca });
  const request = (path) =>
    new Promise((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', servername: 'localhost', port, path, agent }, (res) => {
        res.on('data', () => {});
        res.on('end', resolve);
      });
      req.on('error', reject);
    });
  return { request, close: () => agent.destroy(), agent };
}

async function saturate(client, serverPid, total, concurrency) {
  const c0 = process.cpuUsage();
  const s0 = cpuOf(serverPid);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) await client.request('/x');
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return {
    reqPerSec: Math.round(total / secs),
    clientCpuUsPerReq: +((c.user + c.system) / total).toFixed(1),
    serverCpuUsPerReq: +((cpuOf(serverPid) - s0) / total).toFixed(1),
  };
}

async function hold(proto, pair, n) {
  const { child, port } = await startServer(proto, pair);
  const client = proto === 'h2' ? h2Client(port, pair.cert) : h1Client(port, pair.cert, Infinity);
  await client.request('/x');
  const rss0 = { client: process.memoryUsage().rss, server: rssOf(child.pid) };
  const pending = Array.from({ length: n }, () => client.request('/hold'));
  // Wait until the far end holds them all (its RSS settles), then measure.
  await new Promise((r) => setTimeout(r, 3000));
  const out = {
    held: n,
    clientRssMB: +((process.memoryUsage().rss - rss0.client) / 2 ** 20).toFixed(1),
    serverRssMB: +((rssOf(child.pid) - rss0.server) / 2 ** 20).toFixed(1),
    sockets: proto === 'h2' ? 1 : n,
  };
  const rel = proto === 'h2' ? client : h1Client(port, pair.cert, 1);
  await rel.request('/release');
  await Promise.all(pending);
  client.close();
  child.kill();
  return out;
}

async function main() {
  const runs = runsFromArgv(3);
  const heldIdx = process.argv.indexOf('--held');
  const heldN = heldIdx > 0 ? Number(process.argv[heldIdx + 1]) : 5000;
  const pair = pemPair();
  const rounds = { h2: [], h1: [] };
  for (let r = 0; r < runs; r++) {
    for (const proto of ['h2', 'h1']) {
      const { child, port } = await startServer(proto, pair);
      const client = proto === 'h2' ? h2Client(port, pair.cert) : h1Client(port, pair.cert, 64);
      await saturate(client, child.pid, 2000, 64); // warm-up
      rounds[proto].push(await saturate(client, child.pid, 20000, 64));
      client.close();
      child.kill();
    }
  }
  const summary = {};
  for (const proto of ['h2', 'h1']) {
    const rs = rounds[proto];
    summary[proto] = {
      reqPerSec: median(rs.map((x) => x.reqPerSec)),
      clientCpuUsPerReq: median(rs.map((x) => x.clientCpuUsPerReq)),
      serverCpuUsPerReq: median(rs.map((x) => x.serverCpuUsPerReq)),
      held: await hold(proto, pair, heldN),
    };
  }
  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    runs,
    concurrency: 64,
    answerBytes: 1024,
    summary,
  };
  saveResult('channel-choice', result);
  console.log(JSON.stringify(result, null, 2));
}
