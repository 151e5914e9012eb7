/**
 * Faults, with real processes: a management point that stalls or breaks its
 * answers off, uploads and downloads at once, a connection point SIGKILLed in
 * the middle of 50 concurrent 20 MB transfers, a gateway SIGKILLed under load
 * and restarted, and a channel cut by a network that stops forwarding without
 * closing anything. Every transfer must end byte-exact or with an error the
 * client can see (a 502/504 with `x-cmg-error`, an answer cut short, a
 * connection error), never hang and never arrive complete-looking and wrong.
 *
 * Gateways: requestTimeoutMs 3000, idleTimeoutMs 4000; connection points:
 * heartbeatSeconds 1. Measured on the project's machine (2 vCPUs, Node
 * 20.20.2, 2026-11-29; CMG_E2E_FIGURES=1 prints these after a run), 3+ runs:
 * - role faults: a stall is 504 after 3036-3146 ms; headers then nothing is
 *   cut after 4093-4320 ms; an answer broken off (FIN or RST, before the
 *   status line, mid Content-Length or mid chunked) is a 502 or a cut the
 *   client sees within 102-364 ms.
 * - uploads and downloads at once (20 + 20 of 4 MB), and the SIGKILL test
 *   (25 + 25 of 20 MB): FAIL on this tree. Both directions saturated on a
 *   channel deadlock it (no byte moves either way; 32 MB session window, see
 *   src/channel/protocol.ts); with a 1 s heartbeat every channel is dropped
 *   within 1.5-3.3 s and all transfers fail with 502 or a cut (with the
 *   defaults, 20 s heartbeat and 120 s timeouts, nothing moved for 34 s, then
 *   the channels were dropped and half the transfers failed). On a
 *   copy built with SESSION_WINDOW = 1 MB both pass (7 of 7 runs): 40 of 40
 *   byte-exact in 3.1-6.0 s; the kill lands after 1.9-5.1 s with 250 MB
 *   moved, the 26 transfers on cp02 all arrive byte-exact, the 24 on cp01
 *   fail (12 x 502, 12 cut) at most 70-1807 ms after the kill, all done in
 *   6.5-15.2 s.
 * - gateway SIGKILL: the 20 requests in flight fail (10 cut, 10 connection
 *   errors) within 31-190 ms; restarted, it listens after 0.7-1.5 s and both
 *   connection points serve through it 0.35-1.7 s later (deadline 10 s).
 * - black-holed channel: dropped by the gateway 1098-2012 ms after the cut
 *   (bound: two heartbeats + 500 ms = 2500 ms); healed, served again 0.2-0.5 s
 *   after the proxy forwards again.
 */
import { createHash } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { contentSlice, type StandInMp } from '../../src/demo/management-point.js';
import {
  adminGet,
  adminUrlOf,
  clientRequest,
  type Daemon,
  freePort,
  type GatewayPorts,
  killAll,
  type LabPki,
  MP_BASE,
  makeLabPki,
  metricValue,
  startDaemon,
  startMp,
  tempLabDir,
  waitUntil,
  writeConnectorConfig,
  writeGatewayConfig,
} from '../helpers/cluster.js';
import {
  type BlackholeProxy,
  FAULT_SENT,
  FAULT_TOTAL,
  Fault,
  type FaultyRole,
  startBlackholeProxy,
  startFaultyRole,
  type TransferOutcome,
  transfer,
} from '../helpers/faults.js';

const test = suite('faults: killed, stalled and cut peers (e2e)');

/** The gateways' limits: small, so that a hang shows as one well within the test's time. */
const REQUEST_TIMEOUT_MS = 3000;
const IDLE_TIMEOUT_MS = 4000;
/** Connection points' heartbeat (the minimum the schema allows): a silent channel is dead after two. */
const HEARTBEAT_S = 1;
/** A transfer with no byte either way for this long is hung (longer than both gateway limits). */
const HANG_MS = IDLE_TIMEOUT_MS + 4000;

const SYSTEM = `${MP_BASE}/CCM_System`;
const ECHO = `${SYSTEM}/echo`;
const FAULTY = `${MP_BASE}/Faulty`;
const MB20 = 20 * 1024 * 1024;

interface World {
  pki: LabPki;
  mp: StandInMp;
  faulty: FaultyRole;
  /** g1: cp01 and cp02 dial it directly. g2: cp02 directly, cp01 through `proxy`. */
  ports: { g1: GatewayPorts; g2: GatewayPorts };
  proxy: BlackholeProxy;
  configs: Record<string, string>;
  daemons: Record<string, Daemon>;
  admin: Record<string, string>;
  remove(): void;
}
let w: World;

const daemon = (name: string) => w.daemons[name] as Daemon;
/** Measured figures, printed after the run with CMG_E2E_FIGURES=1. */
const figures: string[] = [];

async function start(name: string, kind: 'serve' | 'connect'): Promise<Daemon> {
  const d = startDaemon(name, [kind, '--config', w.configs[name] as string], w.pki.dir);
  w.daemons[name] = d;
  w.admin[name] = await adminUrlOf(d);
  return d;
}

/** Which connection point forwarded a request, from the Via header the management point saw. */
function viaOf(headers: Record<string, string | string[] | undefined>): string {
  return /1\.1 (\w+)\.PS1\.cmg/.exec(String(headers.via ?? ''))?.[1] ?? `?${String(headers.via)}`;
}

async function echoVia(port: number): Promise<string> {
  const a = await clientRequest(w.pki, { port, path: ECHO, cert: 'client', timeoutMs: 10_000 });
  if (a.status !== 200) return `status ${a.status}`;
  return viaOf((JSON.parse(a.body.toString()) as { headers: Record<string, string> }).headers);
}

/** Until echo requests through `port` are served by exactly the connection points `ids` (returns how long it took). */
async function waitServedBy(port: number, ids: string[], what: string, deadlineMs = 20_000): Promise<number> {
  const started = Date.now();
  await waitUntil(
    what,
    async () => {
      const seen = new Set<string>();
      for (let i = 0; i < ids.length * 2; i++) seen.add(await echoVia(port));
      return seen.size === ids.length && ids.every((id) => seen.has(id));
    },
    deadlineMs,
    50,
  );
  return Date.now() - started;
}

/**
 * Every daemon running and both connection points serving through both gateways: each test starts
 * from there, whatever the one before it killed (and failed to bring back).
 */
async function healthy(): Promise<void> {
  for (const [name, kind] of [
    ['g1', 'serve'],
    ['g2', 'serve'],
    ['cp01', 'connect'],
    ['cp02', 'connect'],
  ] as const) {
    const d = w.daemons[name];
    if (!d || d.child.exitCode !== null || d.child.signalCode !== null) await start(name, kind);
  }
  w.proxy.restore();
  await waitServedBy(w.ports.g1.listen, ['cp01', 'cp02'], 'both connection points to serve through g1');
  await waitServedBy(w.ports.g2.listen, ['cp01', 'cp02'], 'both connection points to serve through g2');
}

/** The gateway's channels of a connection point in a state, from its /metrics. */
async function channels(gateway: string, cp: string, state = 'ready'): Promise<number> {
  const m = await adminGet(w.admin[gateway] as string, '/metrics');
  return metricValue(m.text, 'cmg_gateway_channels', { site: 'PS1', connection_point: cp, state });
}

/** SHA-256 of the stand-in's content bytes [offset, offset + size), hashed a megabyte at a time. */
function contentSha(size: number, offset = 0): string {
  const h = createHash('sha256');
  for (let at = 0; at < size; at += 1 << 20)
    h.update(contentSlice(offset + at, offset + Math.min(size, at + (1 << 20))));
  return h.digest('hex');
}

/** An upload body: the content pattern from `offset` (each upload its own bytes), a megabyte at a time. */
async function* uploadBody(
  offset: number,
  size: number,
  onSent: (n: number) => void,
): AsyncGenerator<Buffer> {
  for (let at = 0; at < size; at += 1 << 20) {
    const chunk = contentSlice(offset + at, offset + Math.min(size, at + (1 << 20)));
    onSent(chunk.length);
    yield chunk;
  }
}

const describe = (o: TransferOutcome) =>
  `${o.kind} ${o.status ?? '-'} ${o.error ?? ''} ${o.bytes}/${o.contentLength ?? '?'} bytes, sent ${o.sent}${o.message ? `, ${o.message}` : ''}`;

test.before(async () => {
  const tmp = tempLabDir('cmg-e2e-faults-');
  const pki = await makeLabPki(tmp.dir);
  const mp = await startMp(pki);
  const faulty = await startFaultyRole(pki);
  const ports = {
    g1: { listen: await freePort(), channel: await freePort() },
    g2: { listen: await freePort(), channel: await freePort() },
  };
  const proxy = await startBlackholeProxy(ports.g2.channel);
  const limits = { requestTimeoutMs: REQUEST_TIMEOUT_MS, idleTimeoutMs: IDLE_TIMEOUT_MS };
  const configs: Record<string, string> = {
    g1: writeGatewayConfig(pki, 'g1', ports.g1, { limits }),
    g2: writeGatewayConfig(pki, 'g2', ports.g2, { limits }),
  };
  const endpoints = [
    { external: SYSTEM, internal: `${mp.url}/CCM_System`, maxContentLength: 32 * 1024 * 1024 },
    { external: FAULTY, internal: `${faulty.url}/Faulty` },
  ];
  configs.cp01 = writeConnectorConfig(pki, 'cp01', {
    cert: 'cp01',
    gatewayPorts: [ports.g1.channel, proxy.port],
    mpUrl: mp.url,
    endpoints,
    heartbeatSeconds: HEARTBEAT_S,
  });
  configs.cp02 = writeConnectorConfig(pki, 'cp02', {
    cert: 'cp02',
    gatewayPorts: [ports.g1.channel, ports.g2.channel],
    mpUrl: mp.url,
    endpoints,
    heartbeatSeconds: HEARTBEAT_S,
  });
  w = { pki, mp, faulty, ports, proxy, configs, daemons: {}, admin: {}, remove: tmp.remove };
  await Promise.all([start('g1', 'serve'), start('g2', 'serve')]);
  await Promise.all([start('cp01', 'connect'), start('cp02', 'connect')]);
});

// A test that failed half-way must not fail the ones after it.
test.before.each(healthy);

test.after(async () => {
  await killAll();
  await w?.proxy.close();
  await w?.faulty.close();
  await w?.mp.close();
  w?.remove();
  // The measured figures, for the record (CMG_E2E_FIGURES=1): after the run, not inside uvu's progress line.
  if (process.env.CMG_E2E_FIGURES) for (const f of figures) console.log(`FIGURES ${f}`);
});

test('management point stalls and resets: 504 on time, 502 or a visibly cut answer, never a hang, and the channel keeps serving', async () => {
  const port = w.ports.g1.listen;
  const go = (path: string) =>
    transfer(w.pki, { port, path, cert: 'client', hangMs: HANG_MS }).then((o) => ({
      ...o,
      ms: o.endedAt - o.startedAt,
    }));
  // A 20 MB download on the same channels meanwhile: one request's fault must not cost another's.
  const size = MB20 + 3;
  const bystander = go(`${MP_BASE}/CCM_Client/content/${size}`);
  const [stall, headersThenStall, partial, ...resets] = await Promise.all([
    go(`${SYSTEM}/stall`),
    go(`${SYSTEM}/headers-then-stall`),
    go(`${SYSTEM}/partial`),
    ...Object.values(Fault).map((f) => go(`${FAULTY}/${f}`)),
  ]);
  const faults = Object.values(Fault);
  const byFault = Object.fromEntries(faults.map((f, i) => [f, resets[i] as (typeof resets)[number]]));
  figures.push(
    `role faults: stall ${stall?.ms} ms, headers-then-stall ${headersThenStall?.ms} ms, partial ${partial?.ms} ms, ` +
      faults.map((f) => `${f} ${byFault[f]?.ms} ms`).join(', '),
  );

  // A stall: 504 from the gateway, at requestTimeoutMs (not before, not much after).
  assert.is(stall?.kind, 'answered', describe(stall as TransferOutcome));
  assert.is(stall?.status, 504);
  assert.is(stall?.error, 'CMGService_RequestTimeout');
  assert.ok(
    (stall?.ms ?? 0) >= REQUEST_TIMEOUT_MS - 50 && (stall?.ms ?? 0) < REQUEST_TIMEOUT_MS + 1000,
    `504 after ${stall?.ms} ms, requestTimeoutMs is ${REQUEST_TIMEOUT_MS}`,
  );
  // Headers, then nothing: the answer is cut after idleTimeoutMs, and the client sees it cut.
  assert.is(headersThenStall?.kind, 'cut', describe(headersThenStall as TransferOutcome));
  assert.is(headersThenStall?.status, 200);
  assert.ok((headersThenStall?.bytes ?? 0) < 1000);
  assert.ok(
    (headersThenStall?.ms ?? 0) < IDLE_TIMEOUT_MS + 1000,
    `cut after ${headersThenStall?.ms} ms, idleTimeoutMs is ${IDLE_TIMEOUT_MS}`,
  );
  // The stand-in's own broken answer (100,000 of 1,000,000 bytes, then its socket destroyed).
  assert.is(partial?.kind, 'cut', describe(partial as TransferOutcome));
  assert.is(partial?.contentLength, 1_000_000);
  assert.ok((partial?.bytes ?? 0) <= 100_000, describe(partial as TransferOutcome));
  // Broken off before any answer, by FIN or by RST: 502 from the connection point, at once.
  for (const f of [Fault.closeBeforeAnswer, Fault.resetBeforeAnswer]) {
    const o = byFault[f] as (typeof resets)[number];
    assert.is(o.kind, 'answered', `${f}: ${describe(o)}`);
    assert.is(o.status, 502, `${f}: ${describe(o)}`);
    assert.is(o.error, 'CMGService_InternalRoleFailed', f);
    assert.ok(o.ms < 1000, `${f}: 502 after ${o.ms} ms`);
  }
  // Broken off mid-answer (Content-Length or chunked, FIN or RST): the client sees the cut, at once.
  for (const f of [Fault.resetMidContentLength, Fault.closeMidChunked, Fault.resetMidChunked]) {
    const o = byFault[f] as (typeof resets)[number];
    assert.is(o.kind, 'cut', `${f}: ${describe(o)}`);
    assert.is(o.status, 200, f);
    assert.ok(o.bytes <= FAULT_SENT, `${f}: ${o.bytes} bytes`);
    if (f === Fault.resetMidContentLength) assert.is(o.contentLength, FAULT_TOTAL);
    assert.ok(o.ms < 1000, `${f}: cut after ${o.ms} ms`);
  }
  assert.is(w.faulty.seen.length, faults.length, 'each fault reached the role once (no retries)');

  const b = await bystander;
  assert.is(b.kind, 'answered', describe(b));
  assert.equal([b.status, b.bytes, b.sha256], [200, size, contentSha(size)]);
  // Faults of the role are the role's: no channel was lost over them.
  for (const cp of ['cp01', 'cp02']) assert.is(await channels('g1', cp), 1, `${cp} still has its channel`);
  for (const name of ['g1', 'cp01', 'cp02']) assert.is(daemon(name).child.exitCode, null, `${name} runs`);
});

test('uploads and downloads at once, no fault: 20 uploads and 20 downloads of 4 MB through both connection points all arrive byte-exact', async () => {
  // The baseline for the SIGKILL test below: the same mix of directions, smaller, and nothing killed.
  const port = w.ports.g1.listen;
  const size = 4 * 1024 * 1024;
  const started = Date.now();
  const outcomes = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      i % 2 === 0
        ? transfer(w.pki, {
            port,
            path: `${MP_BASE}/CCM_Client/content/${size + i}`,
            cert: 'client',
            hangMs: HANG_MS,
          }).then((o) => ({
            o,
            ok: o.status === 200 && o.bytes === size + i && o.sha256 === contentSha(size + i),
          }))
        : transfer(w.pki, {
            port,
            method: 'BITS_POST',
            path: `${ECHO}/upload`,
            headers: { 'content-length': size + i },
            body: uploadBody(i * 7, size + i, () => undefined),
            cert: 'client',
            hangMs: HANG_MS,
          }).then((o) => {
            if (o.kind !== 'answered' || o.status !== 200) return { o, ok: false };
            const echo = JSON.parse(o.body.toString()) as { bodyBytes: number; bodySha256: string };
            return { o, ok: echo.bodyBytes === size + i && echo.bodySha256 === contentSha(size + i, i * 7) };
          }),
    ),
  );
  const ms = Date.now() - started;
  const summary: Record<string, number> = {};
  for (const { o, ok } of outcomes) {
    const key = ok ? 'byte-exact' : `${o.kind} ${o.status ?? '-'} ${o.error ?? ''}`.trim();
    summary[key] = (summary[key] ?? 0) + 1;
  }
  figures.push(`both directions at once: 40 transfers of 4 MB in ${ms} ms: ${JSON.stringify(summary)}`);
  assert.equal(summary, { 'byte-exact': 40 }, `after ${ms} ms`);
});

test('SIGKILL of a connection point during 50 concurrent 20 MB transfers: each is byte-exact or fails visibly and promptly; the other serves on', async () => {
  const port = w.ports.g1.listen;
  const n = 50;
  const specs = Array.from({ length: n }, (_, i) => {
    // Each transfer its own length and bytes: a mix-up between streams cannot hash right.
    const size = MB20 + i;
    return i % 2 === 0
      ? { i, kind: 'download' as const, size, tag: `d${i}`, expected: contentSha(size) }
      : { i, kind: 'upload' as const, size, tag: `u${i}`, expected: contentSha(size, i * 7) };
  });
  const total = specs.reduce((s, x) => s + x.size, 0);
  let moved = 0;
  const onBytes = (k: number) => {
    moved += k;
  };
  const started = Date.now();
  const before = w.mp.requests.length;
  const running = specs.map((s) =>
    transfer(
      w.pki,
      s.kind === 'download'
        ? {
            port,
            path: `${MP_BASE}/CCM_Client/content/${s.size}?t=${s.tag}`,
            cert: 'client',
            hangMs: HANG_MS,
            onBytes,
          }
        : {
            port,
            method: 'BITS_POST',
            path: `${ECHO}/upload?t=${s.tag}`,
            headers: { 'content-length': s.size },
            body: uploadBody(s.i * 7, s.size, onBytes),
            cert: 'client',
            hangMs: HANG_MS,
          },
    ),
  );
  let ended = 0;
  for (const r of running) void r.then(() => ended++);
  // Killed a quarter of the way through: every transfer has begun, few (if any) have ended. (Should
  // they all end before that, they failed on their own: the kill goes ahead and the checks say so.)
  await waitUntil('a quarter of the bytes to move', () => moved >= total / 4 || ended === n, 60_000, 20);
  const killedAt = Date.now();
  const movedAtKill = moved;
  await daemon('cp01').stop('SIGKILL');
  const outcomes = await Promise.all(running);
  const allDone = Date.now();

  // Who forwarded what, as the management point saw it (Via); an upload is recorded once its body ended or broke.
  await waitUntil(
    'the management point to record every transfer',
    () => specs.every((s) => w.mp.requests.slice(before).some((r) => r.url.endsWith(`?t=${s.tag}`))),
    5000,
  ).catch(() => undefined);
  const seenAtMp = new Map(
    w.mp.requests
      .slice(before)
      .filter((r) => /\?t=[du]\d+$/.test(r.url))
      .map((r) => [r.url.split('?t=')[1] as string, r]),
  );

  const rows = specs.map((s, k) => {
    const o = outcomes[k] as TransferOutcome;
    const seen = seenAtMp.get(s.tag);
    let exact = false;
    if (o.kind === 'answered' && o.status === 200) {
      if (s.kind === 'download') exact = o.bytes === s.size && o.sha256 === s.expected;
      else {
        const echo = JSON.parse(o.body.toString()) as { bodyBytes: number; bodySha256: string };
        exact = echo.bodyBytes === s.size && echo.bodySha256 === s.expected;
      }
    }
    return { s, o, via: seen ? viaOf(seen.headers) : 'unknown', exact, afterKill: o.endedAt - killedAt };
  });
  const failed = rows.filter((r) => !r.exact);
  const slowest = failed.reduce<(typeof rows)[number] | undefined>(
    (a, b) => (a === undefined || b.afterKill > a.afterKill ? b : a),
    undefined,
  );
  figures.push(
    `cp SIGKILL: ${n} transfers of 20 MB, ${Math.round(total / 2 ** 20)} MB in all, killed after ${killedAt - started} ms ` +
      `(${Math.round(movedAtKill / 2 ** 20)} MB moved); all ended ${allDone - started} ms after the start; ` +
      `${rows.filter((r) => r.exact).length} byte-exact, ${failed.length} failed ` +
      `(${['answered', 'cut', 'connection-error', 'hung'].map((k) => `${k} ${failed.filter((r) => r.o.kind === k).length}`).join(', ')}); ` +
      `failures ended at most ${slowest ? `${slowest.afterKill} ms after the kill (${slowest.s.tag} via ${slowest.via}: ${describe(slowest.o)})` : '-'}; ` +
      `forwarded by cp01 ${rows.filter((r) => r.via === 'cp01').length}, cp02 ${rows.filter((r) => r.via === 'cp02').length}, unknown ${rows.filter((r) => r.via === 'unknown').length}`,
  );

  // Not byte-exact is allowed only for cp01's transfers, failed visibly and promptly: never hung, never a whole wrong answer.
  const problems: string[] = [];
  for (const r of rows) {
    if (r.exact) continue;
    const what = `${r.s.tag} via ${r.via}: ${describe(r.o)}, ended ${r.afterKill} ms after the kill`;
    // A 504 is explicit too: on a loaded machine (CI) a request the survivor or the management point
    // had not started answering when requestTimeoutMs ran out gets one, which is what it is for.
    const timedOut =
      r.o.kind === 'answered' && r.o.status === 504 && r.o.error === 'CMGService_RequestTimeout';
    const visible =
      (r.o.kind === 'answered' &&
        r.o.status === 502 &&
        ['CMGService_ConnectionPointFailed', 'CMGService_InternalRoleFailed'].includes(r.o.error ?? '')) ||
      timedOut ||
      (r.o.kind === 'cut' && (r.o.contentLength === undefined || r.o.bytes < r.o.contentLength)) ||
      r.o.kind === 'connection-error';
    if (r.afterKill < 0) problems.push(`failed before the kill: ${what}`);
    else if (!visible) problems.push(`not a visible failure: ${what}`);
    else if (r.afterKill > REQUEST_TIMEOUT_MS) problems.push(`failed later than requestTimeoutMs: ${what}`);
    else if (r.via === 'cp02' && !timedOut)
      problems.push(`failed on the surviving connection point: ${what}`);
  }
  assert.ok(problems.length === 0, `${problems.length} of ${n} transfers:\n${problems.join('\n')}`);
  assert.ok(failed.length >= 5, `the kill hit transfers in flight (${failed.length} failed)`);
  assert.ok(
    rows.filter((r) => r.via === 'cp02' && r.exact).length >= 20,
    'the surviving connection point carried its share to the end',
  );
  // The management point never took a broken upload for a whole one.
  for (const s of specs.filter((x) => x.kind === 'upload')) {
    const seen = seenAtMp.get(s.tag);
    if (seen?.complete) assert.equal([seen.bodyBytes, seen.bodySha256], [s.size, s.expected], s.tag);
  }

  // The survivors continue: every new request is served, by cp02, at once.
  const after = Date.now();
  const vias: string[] = [];
  for (let i = 0; i < 10; i++) vias.push(await echoVia(port));
  assert.equal(vias, Array(10).fill('cp02'));
  assert.ok(Date.now() - after < 5000, `10 requests took ${Date.now() - after} ms`);
  assert.is(daemon('g1').child.exitCode, null, 'the gateway runs');

  await start('cp01', 'connect');
  await waitServedBy(w.ports.g1.listen, ['cp01', 'cp02'], 'cp01 back on g1');
  await waitServedBy(w.ports.g2.listen, ['cp01', 'cp02'], 'cp01 back on g2');
});

test('SIGKILL of the gateway under load: requests in flight fail as connection errors at once; restarted on the same ports, it serves again within 10 s', async () => {
  const port = w.ports.g1.listen;
  let moved = 0;
  const downloads = Array.from({ length: 10 }, (_, i) =>
    transfer(w.pki, {
      port,
      path: `${MP_BASE}/CCM_Client/content/${MB20 + i}`,
      cert: 'client',
      hangMs: HANG_MS,
      onBytes: (k) => {
        moved += k;
      },
    }),
  );
  const holds = Array.from({ length: 10 }, () =>
    transfer(w.pki, { port, path: `${SYSTEM}/hold?ms=2500`, cert: 'client', hangMs: HANG_MS }),
  );
  await waitUntil('the downloads to be under way', () => moved >= 10 * 2 ** 20, 20_000, 10);
  const killedAt = Date.now();
  assert.is(await daemon('g1').stop('SIGKILL'), 'SIGKILL');
  const outcomes = await Promise.all([...downloads, ...holds]);
  const late = Math.max(...outcomes.map((o) => o.endedAt - killedAt));
  figures.push(
    `gateway SIGKILL: 20 requests in flight ended at most ${late} ms after the kill: ` +
      `${outcomes.filter((o) => o.kind === 'cut').length} cut, ${outcomes.filter((o) => o.kind === 'connection-error').length} connection errors, ` +
      `${outcomes.filter((o) => o.kind === 'answered').length} answered`,
  );
  for (const o of outcomes) {
    assert.ok(o.kind === 'cut' || o.kind === 'connection-error', describe(o));
    assert.ok(o.endedAt - killedAt < 1000, `${describe(o)}: ended ${o.endedAt - killedAt} ms after the kill`);
  }

  const restartedAt = Date.now();
  await start('g1', 'serve');
  await daemon('g1').waitForOutput(/cmg serve: clients on/);
  const upAt = Date.now();
  // Both connection points redial on their own (backoff from 0.5 s): the deadline is 10 s from the restart.
  const firstMs = await waitUntil(
    'a request through the restarted gateway to be served',
    async () =>
      (await clientRequest(w.pki, { port, path: ECHO, cert: 'client' })).status === 200
        ? Date.now() - upAt
        : undefined,
    10_000,
    50,
  );
  const bothMs =
    (await waitServedBy(port, ['cp01', 'cp02'], 'both connection points back', 10_000)) + firstMs;
  figures.push(
    `gateway restart: listening ${upAt - restartedAt} ms after the start; first request served ${firstMs} ms later, both connection points ${bothMs} ms later`,
  );
  assert.ok(bothMs <= 10_000, `both connection points served ${bothMs} ms after the restart`);
});

test('a channel behind a network that stops forwarding (no FIN, no RST): dead at the gateway within two heartbeats, requests go to the other connection point; healed, it comes back', async () => {
  const port = w.ports.g2.listen;
  assert.is(await channels('g2', 'cp01'), 1, 'cp01 has its channel to g2, through the proxy');
  const holedAt = Date.now();
  w.proxy.blackhole();
  // Sent at once: those that land on the silent channel must fail (502) once it is found dead, not hang.
  const early = Promise.all(
    Array.from({ length: 4 }, () =>
      transfer(w.pki, { port, path: ECHO, cert: 'client', hangMs: HANG_MS }).then((o) => ({
        o,
        afterHole: o.endedAt - holedAt,
      })),
    ),
  );
  const deadMs = await waitUntil(
    'g2 to drop the silent channel',
    async () => ((await channels('g2', 'cp01')) === 0 ? Date.now() - holedAt : undefined),
    10_000,
    25,
  );
  // A ping unanswered at the next tick: at most two intervals after the cut, plus timer and poll slack.
  const boundMs = 2 * HEARTBEAT_S * 1000 + 500;
  figures.push(
    `blackhole: channel dropped by g2 ${deadMs} ms after the cut (heartbeat ${HEARTBEAT_S} s, bound ${boundMs} ms), ${w.proxy.dropped()} bytes dropped`,
  );
  assert.ok(deadMs <= boundMs, `the silent channel was dropped after ${deadMs} ms (bound ${boundMs} ms)`);
  assert.match(
    daemon('g2').log('CMGService.log'),
    /channel down: connection point PS1\/cp01 [^\]]*no answer to a heartbeat within 1 s/,
  );
  for (const { o, afterHole } of await early) {
    assert.ok(o.kind === 'answered' && (o.status === 200 || o.status === 502), describe(o));
    if (o.status === 502) assert.is(o.error, 'CMGService_ConnectionPointFailed');
    assert.ok(afterHole <= boundMs + 500, `answered ${afterHole} ms after the cut: ${describe(o)}`);
  }
  const vias: string[] = [];
  for (let i = 0; i < 8; i++) vias.push(await echoVia(port));
  assert.equal(vias, Array(8).fill('cp02'), 'every request goes to cp02');

  // The network heals: cp01 found its side dead too, redials through the proxy and takes its share again.
  w.proxy.restore();
  const backMs = await waitServedBy(
    port,
    ['cp01', 'cp02'],
    'cp01 back on g2 after the network healed',
    15_000,
  );
  figures.push(`blackhole healed: cp01 served through g2 again ${backMs} ms after restore()`);
});

test.run();
