/**
 * Two gateway instances, two connection points, real processes: round-robin,
 * a connection point killed (SIGKILL) or frozen (SIGSTOP, its sockets open
 * and silent as behind a broken network), all of them stopped, a gateway
 * restarted, and connection points that must publish nothing.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { StandInMp } from '../../src/demo/management-point.js';
import { runCli } from '../helpers/cli.js';
import {
  clientRequest,
  type Daemon,
  freePort,
  type GatewayPorts,
  killAll,
  type LabPki,
  MP_BASE,
  makeLabPki,
  startDaemon,
  startMp,
  tempLabDir,
  waitUntil,
  writeConnectorConfig,
  writeGatewayConfig,
} from '../helpers/cluster.js';

const test = suite('two gateways, two connection points (e2e)');

interface World {
  pki: LabPki;
  mp: StandInMp;
  ports: GatewayPorts[];
  gwConfigs: string[];
  gateways: Daemon[];
  cpConfigs: Record<string, string>;
  cps: Record<string, Daemon>;
  remove(): void;
}
let w: World;

const ECHO = `${MP_BASE}/CCM_System/echo`;

/** Which connection point forwarded a request, from the Via header the management point saw. */
async function viaOf(port: number, path = ECHO): Promise<string> {
  const a = await clientRequest(w.pki, { port, path, cert: 'client', timeoutMs: 10_000 });
  if (a.status !== 200) return `status ${a.status}`;
  const via = (JSON.parse(a.body.toString()) as { headers: { via?: string } }).headers.via ?? '';
  return /1\.1 (\w+)\.PS1\.cmg/.exec(via)?.[1] ?? `via ${via}`;
}

async function servedBy(port: number, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await viaOf(port));
  return out;
}

/** Until both gateways send requests to every one of `ids` (and to nothing else). */
async function waitServedBy(ids: string[], what: string): Promise<void> {
  await waitUntil(
    what,
    async () => {
      for (const p of w.ports) {
        const seen = new Set(await servedBy(p.listen, ids.length * 2));
        if (seen.size !== ids.length || !ids.every((id) => seen.has(id))) return false;
      }
      return true;
    },
    20_000,
    100,
  );
}

function startCp(id: string): Daemon {
  const d = startDaemon(id, ['connect', '--config', w.cpConfigs[id] as string], w.pki.dir);
  w.cps[id] = d;
  return d;
}

function startGateway(i: number): Daemon {
  const d = startDaemon(`gateway${i}`, ['serve', '--config', w.gwConfigs[i] as string], w.pki.dir);
  w.gateways[i] = d;
  return d;
}

test.before(async () => {
  const tmp = tempLabDir('cmg-e2e-failover-');
  const pki = await makeLabPki(tmp.dir);
  const mp = await startMp(pki);
  const ports: GatewayPorts[] = [];
  for (let i = 0; i < 2; i++) ports.push({ listen: await freePort(), channel: await freePort() });
  // A request that hangs would run into this; every failure here must come far sooner.
  const gwConfigs = ports.map((p, i) =>
    writeGatewayConfig(pki, `gateway${i}`, p, { limits: { requestTimeoutMs: 20_000 } }),
  );
  const cpConfigs: Record<string, string> = {};
  for (const id of ['cp01', 'cp02']) {
    cpConfigs[id] = writeConnectorConfig(pki, id, {
      cert: id,
      gatewayPorts: ports.map((p) => p.channel),
      mpUrl: mp.url,
      heartbeatSeconds: 1,
    });
  }
  w = { pki, mp, ports, gwConfigs, gateways: [], cpConfigs, cps: {}, remove: tmp.remove };
  startGateway(0);
  startGateway(1);
  await Promise.all(w.gateways.map((g) => g.waitForOutput(/cmg serve: clients on/)));
  startCp('cp01');
  startCp('cp02');
  await waitServedBy(['cp01', 'cp02'], 'both connection points to serve through both gateways');
});

test.after(async () => {
  await killAll();
  await w?.mp.close();
  w?.remove();
});

test('requests go through both instances, round-robin over the connection points (visible at the management point)', async () => {
  for (const p of w.ports) {
    const seq = await servedBy(p.listen, 8);
    assert.is(seq.filter((v) => v === 'cp01').length, 4, seq.join(','));
    assert.is(seq.filter((v) => v === 'cp02').length, 4, seq.join(','));
    for (let i = 1; i < seq.length; i++) assert.is.not(seq[i], seq[i - 1], `alternates: ${seq.join(',')}`);
  }
});

test('SIGKILL: in-flight requests on the dead connection point fail with 502 at once, the other serves everything; restarted, it takes its share again', async () => {
  const port = (w.ports[0] as GatewayPorts).listen;
  const before = w.mp.requests.length;
  const held = Array.from({ length: 4 }, () =>
    clientRequest(w.pki, {
      port,
      path: `${MP_BASE}/CCM_System/hold?ms=3000`,
      cert: 'client',
      timeoutMs: 15_000,
    }).then((a) => ({ status: a.status, at: Date.now(), code: a.headers['x-cmg-error'] })),
  );
  await waitUntil('the held requests to reach the management point', () =>
    w.mp.requests.slice(before).filter((r) => r.url.includes('hold')).length === 4 ? true : undefined,
  );
  const viaOfHeld = w.mp.requests
    .slice(before)
    .filter((r) => r.url.includes('hold'))
    .map((r) => String(r.headers.via));
  assert.is(viaOfHeld.filter((v) => v.includes('cp01')).length, 2, viaOfHeld.join(','));
  const killedAt = Date.now();
  await (w.cps.cp01 as Daemon).stop('SIGKILL');
  const results = await Promise.all(held);
  const failed = results.filter((r) => r.status === 502);
  assert.is(failed.length, 2, JSON.stringify(results));
  for (const r of failed) {
    assert.ok(r.at - killedAt < 1000, `502 after ${r.at - killedAt} ms`);
    assert.is(r.code, 'CMGService_ConnectionPointFailed');
  }
  assert.is(
    results.filter((r) => r.status === 200).length,
    2,
    'the other connection point finished its requests',
  );
  // Within two seconds of the kill, everything is served by cp02.
  const wait = killedAt + 2000 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  for (const p of w.ports) assert.equal(await servedBy(p.listen, 6), Array(6).fill('cp02'));

  startCp('cp01');
  await waitServedBy(['cp01', 'cp02'], 'the restarted cp01 to take its share on both gateways');
});

test('SIGSTOP: within a few heartbeats no request goes to the frozen connection point or hangs on it; SIGCONT: it rejoins', async () => {
  const port = (w.ports[1] as GatewayPorts).listen;
  const frozenAt = Date.now();
  await (w.cps.cp02 as Daemon).stop('SIGSTOP');
  // Requests sent at once: half go to the frozen one until its heartbeat is missed; none may hang.
  const early = await Promise.all(
    Array.from({ length: 4 }, () =>
      clientRequest(w.pki, { port, path: ECHO, cert: 'client', timeoutMs: 15_000 }).then((a) => ({
        status: a.status,
        ms: Date.now() - frozenAt,
      })),
    ),
  );
  for (const r of early) {
    assert.ok(r.status === 200 || r.status === 502, JSON.stringify(early));
    assert.ok(r.ms < 5000, `answered after ${r.ms} ms, not held until the 20 s request timeout`);
  }
  const wait = frozenAt + 3500 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  for (const p of w.ports) {
    const started = Date.now();
    assert.equal(await servedBy(p.listen, 6), Array(6).fill('cp01'));
    assert.ok(Date.now() - started < 3000, 'no request waited on the frozen connection point');
  }
  (w.cps.cp02 as Daemon).child.kill('SIGCONT');
  await waitServedBy(['cp01', 'cp02'], 'cp02 to rejoin after SIGCONT');
});

test('all connection points stopped: 503 with Retry-After; they drain and exit 0', async () => {
  const codes = await Promise.all([
    (w.cps.cp01 as Daemon).stop('SIGTERM'),
    (w.cps.cp02 as Daemon).stop('SIGTERM'),
  ]);
  assert.equal(codes, [0, 0]);
  for (const p of w.ports) {
    const a = await clientRequest(w.pki, { port: p.listen, path: ECHO, cert: 'client' });
    assert.is(a.status, 503);
    assert.is(a.headers['retry-after'], '10');
    assert.is(a.headers['x-cmg-error'], 'CMGService_NoHealthyConnectionPoint');
  }
  assert.match((w.cps.cp01 as Daemon).log('SMS_CLOUD_PROXYCONNECTOR.log'), /SIGTERM: draining/);
  startCp('cp01');
  startCp('cp02');
  await waitServedBy(['cp01', 'cp02'], 'the connection points to come back');
});

test('a restarted gateway gets its channels back and serves without anyone touching the connection points', async () => {
  const g = w.gateways[0] as Daemon;
  assert.is(await g.stop('SIGTERM'), 0);
  await waitUntil('the connection points to notice', () =>
    /channel 0 to 127\.0\.0\.1:\d+ down/.test((w.cps.cp01 as Daemon).log('SMS_CLOUD_PROXYCONNECTOR.log')),
  );
  startGateway(0);
  await (w.gateways[0] as Daemon).waitForOutput(/cmg serve: clients on/);
  await waitServedBy(['cp01', 'cp02'], 'both connection points back on the restarted gateway');
});

test('a connection point of a site not served, and one with a certificate from an untrusted CA, publish nothing', async () => {
  const other = writeConnectorConfig(w.pki, 'cp-other-site', {
    cert: 'cp-other-site',
    site: 'PS2',
    gatewayPorts: w.ports.map((p) => p.channel),
    mpUrl: w.mp.url,
    roleId: '72057594037990001',
  });
  const rogue = writeConnectorConfig(w.pki, 'cp-rogue', {
    cert: 'cp-rogue',
    gatewayPorts: w.ports.map((p) => p.channel),
    mpUrl: w.mp.url,
    roleId: '72057594037990002',
  });
  const a = startDaemon('cp-other-site', ['connect', '--config', other], w.pki.dir);
  const b = startDaemon('cp-rogue', ['connect', '--config', rogue], w.pki.dir);
  const g = w.gateways[0] as Daemon;
  await waitUntil('both refusals in CMGService.log', () => {
    const log = g.log('CMGService.log');
    return /connection point refused from [^\]]*site PS2 is not served by this gateway/.test(log) &&
      /connection point refused from [^\]]*\(CN=cp66\): CMG_CERT_/.test(log)
      ? true
      : undefined;
  });
  await waitUntil('the connection points to log why they were refused', () =>
    /the gateway refused this connection point: site PS2 is not served/.test(
      a.log('SMS_CLOUD_PROXYCONNECTOR.log'),
    ) && /the gateway refused this connection point: CMG_CERT_/.test(b.log('SMS_CLOUD_PROXYCONNECTOR.log'))
      ? true
      : undefined,
  );
  for (const p of w.ports) {
    for (const role of ['72057594037990001', '72057594037990002']) {
      const r = await clientRequest(w.pki, {
        port: p.listen,
        path: `/CCM_Proxy_MutualAuth/${role}/CCM_System/echo`,
        cert: 'client',
      });
      assert.is(r.status, 404, role);
    }
  }
  await Promise.all([a.stop('SIGKILL'), b.stop('SIGKILL')]);
});

test('a connection point whose siteCode is not its certificate site refuses to start (exit 2, names both)', async () => {
  const file = writeConnectorConfig(w.pki, 'cp-mismatch', {
    cert: 'cp01',
    site: 'PS9',
    gatewayPorts: [(w.ports[0] as GatewayPorts).channel],
    mpUrl: w.mp.url,
  });
  const r = await runCli(['connect', '--config', file], { cwd: w.pki.dir });
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /siteCode: is PS9, but the certificate \S+cp01\.pem is for site PS1/);
});

test.run();
