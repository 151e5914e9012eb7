// One load generator process of the gateway benchmark. It presents the lab's
// client certificate (wrk, h2load and hey cannot), on undici pools for
// keep-alive traffic and on raw TLS sockets for handshakes and held
// connections. The parent forks several and sends each one job over IPC:
//   saturate  {connections, seconds, path}            closed loop, one request in flight per connection
//   rate      {rps, seconds, connections, path}       open loop: latency counted from the scheduled time
//   download  {bytes, path}                           one GET of `bytes`
//   upload    {bytes, path}                           one POST of `bytes`
//   handshake {seconds, concurrency, resume, path}    new connection + one request + close, in a loop
//   idle      {connections, addresses}                opens and holds TLS connections from many source addresses
//   held      {connections, path}                     one request per connection, left open until answered
// and gets back counts, latencies (ms) and its own CPU time.

import { Readable } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { Pool } from 'undici';

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function tlsOptions(t) {
  return { ca: t.ca, cert: t.cert, key: t.key, servername: t.servername, rejectUnauthorized: true };
}

function poolOf(t, connections) {
  return new Pool(`https://${t.host}:${t.port}`, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 600_000,
    keepAliveMaxTimeout: 600_000,
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: tlsOptions(t),
  });
}

async function get(pool, path) {
  const { statusCode, body } = await pool.request({ method: 'GET', path });
  for await (const _ of body);
  return statusCode;
}

async function saturate(t, job) {
  const pool = poolOf(t, job.connections);
  // Warm every connection (handshakes are not what this measures).
  await Promise.all(Array.from({ length: job.connections }, () => get(pool, job.path)));
  process.send({ ready: true });
  await new Promise((r) => process.once('message', r)); // 'go', so that all workers start together
  const latencies = [];
  let ok = 0;
  let failed = 0;
  const cpu0 = cpuSeconds();
  const end = performance.now() + job.seconds * 1000;
  await Promise.all(
    Array.from({ length: job.connections }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          if ((await get(pool, job.path)) === 200) ok++;
          else failed++;
        } catch {
          failed++;
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const cpu = cpuSeconds() - cpu0;
  await pool.close();
  return { ok, failed, cpu, latencies: sample(latencies, 20_000) };
}

async function rate(t, job) {
  const pool = poolOf(t, job.connections);
  await Promise.all(Array.from({ length: job.connections }, () => get(pool, job.path)));
  process.send({ ready: true });
  await new Promise((r) => process.once('message', r));
  const latencies = [];
  let ok = 0;
  let failed = 0;
  const total = Math.round(job.rps * job.seconds);
  const interval = 1000 / job.rps;
  const t0 = performance.now();
  let issued = 0;
  const pending = [];
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      // Issue every request whose time has come; each is timed from when it was due (no coordinated omission).
      while (issued < total && t0 + issued * interval <= now) {
        const due = t0 + issued * interval;
        issued++;
        pending.push(
          get(pool, job.path).then(
            (s) => {
              latencies.push(performance.now() - due);
              s === 200 ? ok++ : failed++;
            },
            () => failed++,
          ),
        );
      }
      if (issued < total) setTimeout(tick, Math.max(0, t0 + issued * interval - performance.now()));
      else resolve();
    };
    tick();
  });
  await Promise.all(pending);
  await pool.close();
  return { ok, failed, latencies };
}

async function transfer(t, job) {
  const pool = poolOf(t, 1);
  await get(pool, job.warmPath);
  const t0 = performance.now();
  let bytes = 0;
  let status;
  if (job.mode === 'download') {
    const { statusCode, body } = await pool.request({ method: 'GET', path: job.path });
    status = statusCode;
    for await (const chunk of body) bytes += chunk.length;
  } else {
    const chunk = Buffer.alloc(256 * 1024, 'u');
    let left = job.bytes;
    const source = Readable.from(
      (function* () {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          yield n === chunk.length ? chunk : chunk.subarray(0, n);
        }
      })(),
    );
    const { statusCode, body } = await pool.request({
      method: 'POST',
      path: job.path,
      body: source,
      headers: { 'content-length': String(job.bytes), 'content-type': 'application/octet-stream' },
    });
    status = statusCode;
    const answer = JSON.parse(await body.text());
    bytes = answer.bytes ?? 0;
  }
  const seconds = (performance.now() - t0) / 1000;
  await pool.close();
  return { status, bytes, seconds };
}

/** One TLS connection, one request with Connection: close, the status line read; resolves the status. */
function oneConnection(t, path, session) {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: t.host,
      port: t.port,
      ...tlsOptions(t),
      ...(session ? { session } : {}),
    });
    let head = '';
    let resumed = false;
    socket.once('secureConnect', () => {
      resumed = socket.isSessionReused();
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${t.servername}\r\nConnection: close\r\n\r\n`);
    });
    socket.on('session', (s) => {
      oneConnection.session = s;
    });
    socket.on('data', (d) => {
      if (head.length < 16) head += d.toString('latin1', 0, 16);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ status: Number(head.slice(9, 12)) || 0, resumed }));
  });
}

async function handshake(t, job) {
  // A first connection to get a session ticket when resumption is measured.
  await oneConnection(t, job.path);
  process.send({ ready: true });
  await new Promise((r) => process.once('message', r));
  let ok = 0;
  let failed = 0;
  let resumed = 0;
  const cpu0 = cpuSeconds();
  const end = performance.now() + job.seconds * 1000;
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (performance.now() < end) {
        const r = await oneConnection(t, job.path, job.resume ? oneConnection.session : undefined);
        if (r.status === 200) ok++;
        else failed++;
        if (r.resumed) resumed++;
      }
    }),
  );
  return { ok, failed, resumed, cpu: cpuSeconds() - cpu0 };
}

const held = [];

/** Opens job.connections TLS connections spread over source addresses 127.x.y.z and keeps them. */
async function idle(t, job) {
  let opened = 0;
  let failed = 0;
  const open = (i) =>
    new Promise((resolve) => {
      const a = job.firstAddress + i;
      const localAddress = `127.${(a >> 16) & 255}.${(a >> 8) & 255}.${a & 255 || 1}`;
      const socket = tlsConnect({ host: t.host, port: t.port, localAddress, ...tlsOptions(t) });
      socket.once('secureConnect', () => {
        opened++;
        held.push(socket);
        resolve();
      });
      socket.on('error', () => {
        failed++;
        resolve();
      });
    });
  const batch = 64;
  for (let i = 0; i < job.connections; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, job.connections - i) }, (_, k) => open(i + k)));
  }
  const stillOpen = () => held.filter((s) => !s.destroyed).length;
  return { opened, failed, open: stillOpen() };
}

/** Sends one request on each of job.connections connections and waits for every answer. */
async function heldRequests(t, job) {
  let sent = 0;
  const answers = [];
  for (let i = 0; i < job.connections; i += 200) {
    const n = Math.min(200, job.connections - i);
    await Promise.all(
      Array.from(
        { length: n },
        () =>
          new Promise((resolve) => {
            const socket = tlsConnect({ host: t.host, port: t.port, ...tlsOptions(t) });
            let head = '';
            const answered = new Promise((done) => {
              socket.on('data', (d) => {
                if (head.length < 16) head += d.toString('latin1', 0, 16);
              });
              socket.on('error', () => undefined);
              socket.on('close', () => done(Number(head.slice(9, 12)) || 0));
            });
            answers.push(answered);
            socket.once('secureConnect', () => {
              socket.write(`GET ${job.path} HTTP/1.1\r\nHost: ${t.servername}\r\nConnection: close\r\n\r\n`);
              sent++;
              resolve();
            });
            socket.once('close', resolve);
          }),
      ),
    );
  }
  process.send({ sent });
  const statuses = await Promise.all(answers);
  return {
    sent,
    ok: statuses.filter((s) => s === 200).length,
    statuses: [...new Set(statuses)],
  };
}

/** Keeps at most `n` evenly spaced values (percentiles stay representative, the message small). */
function sample(xs, n) {
  if (xs.length <= n) return xs;
  const step = xs.length / n;
  return Array.from({ length: n }, (_, i) => xs[Math.floor(i * step)]);
}

const modes = {
  saturate,
  rate,
  download: transfer,
  upload: transfer,
  handshake,
  idle,
  held: heldRequests,
};

process.once('message', async (job) => {
  let message;
  try {
    message = { result: await modes[job.mode](job.target, job) };
  } catch (err) {
    message = { error: String(err?.stack ?? err) };
  }
  // Exit only once the message is out (send is asynchronous); idle keeps its connections until the parent goes.
  process.send(message, () => {
    if (job.mode !== 'idle') process.exit(0);
  });
});
process.on('disconnect', () => process.exit(0));
