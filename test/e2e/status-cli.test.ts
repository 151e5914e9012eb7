/**
 * `cmg status` against a real gateway and connection point: the view for
 * people, --json, --config, --watch, and the exit codes when a source does
 * not answer or is not ready.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { StandInMp } from '../../src/demo/management-point.js';
import { RUN_JS, runCli } from '../helpers/cli.js';
import {
  adminUrlOf,
  clientRequest,
  type Daemon,
  freePort,
  killAll,
  type LabPki,
  MP_BASE,
  makeLabPki,
  SITE,
  startDaemon,
  startMp,
  tempLabDir,
  waitUntil,
  writeConnectorConfig,
  writeGatewayConfig,
} from '../helpers/cluster.js';

const test = suite('cmg status (e2e)');

interface World {
  pki: LabPki;
  mp: StandInMp;
  gateway: Daemon;
  cp: Daemon;
  gatewayUrl: string;
  cpUrl: string;
  gatewayFile: string;
  zeroFile: string;
  remove(): void;
}
let w: World;

async function readyz(url: string): Promise<number> {
  return (await fetch(`${url}/readyz`)).status;
}

function json(stdout: string) {
  return JSON.parse(stdout) as {
    sources: {
      url: string;
      kind: string;
      ready?: boolean;
      readiness?: { ready: boolean; reasons: string[] };
      // biome-ignore lint/suspicious/noExplicitAny: the shape is asserted field by field
      status?: any;
      error?: string;
    }[];
  };
}

test.before(async () => {
  const tmp = tempLabDir('cmg-e2e-status-');
  const pki = await makeLabPki(tmp.dir);
  const mp = await startMp(pki);
  const ports = { listen: await freePort(), channel: await freePort() };
  // The gateway on a known admin port (for --config); the connection point on port 0 (its URL from its output).
  const gatewayFile = writeGatewayConfig(pki, 'gateway', ports);
  const doc = JSON.parse(readFileSync(gatewayFile, 'utf8'));
  doc.admin.port = await freePort();
  writeFileSync(gatewayFile, JSON.stringify(doc));
  const zeroFile = writeGatewayConfig(pki, 'gateway-zero', ports);
  const cpFile = writeConnectorConfig(pki, 'cp01', {
    cert: 'cp01',
    gatewayPorts: [ports.channel],
    mpUrl: mp.url,
  });
  const gateway = startDaemon('gateway', ['serve', '--config', gatewayFile], pki.dir);
  const gatewayUrl = await adminUrlOf(gateway);
  assert.is(gatewayUrl, `http://127.0.0.1:${doc.admin.port}`);
  const cp = startDaemon('cp01', ['connect', '--config', cpFile], pki.dir);
  const cpUrl = await adminUrlOf(cp);
  w = { pki, mp, gateway, cp, gatewayUrl, cpUrl, gatewayFile, zeroFile, remove: tmp.remove };
  await waitUntil('gateway and connection point ready', async () => {
    return (await readyz(gatewayUrl)) === 200 && (await readyz(cpUrl)) === 200;
  });
  // Some traffic, so that the endpoint counters have something to show.
  const a = await clientRequest(pki, {
    port: ports.listen,
    path: `${MP_BASE}/CCM_System/echo`,
    cert: 'client',
  });
  assert.is(a.status, 200);
});

test.after(async () => {
  await killAll();
  await w?.mp.close();
  w?.remove();
});

test('the view for people names the gateway, site PS1 and cp01, and exits 0 when all is ready', async () => {
  const r = await runCli(['status', '--gateway', w.gatewayUrl, '--connector', w.cpUrl]);
  assert.is(r.code, 0, r.stderr + r.stdout);
  assert.is(r.stderr, '');
  assert.not.match(r.stdout, '\x1b[', 'no colour when stdout is not a terminal');
  assert.match(r.stdout, new RegExp(`^Gateway \\S+:\\d+  ${w.gatewayUrl}  ready$`, 'm'));
  assert.match(r.stdout, /^ {2}PS1\s+cp01\s+#\d+\s+ready\s/m);
  assert.match(r.stdout, new RegExp(`^Connection point PS1/cp01  ${w.cpUrl}  ready$`, 'm'));
  assert.match(r.stdout, /^ {2}127\.0\.0\.1:\d+\s+0\s+up\s/m);
  assert.match(r.stdout, /^ {2}\/CCM_Proxy_MutualAuth\/\d+\/CCM_System\s+PS1\s+1\s+1\s+0\s/m);
  assert.match(r.stdout, /All 2 sources ready\n$/);
});

test('--json: one document with both sources, site PS1 with cp01 up, traffic counted', async () => {
  const r = await runCli(['status', '--gateway', w.gatewayUrl, '--connector', w.cpUrl, '--json']);
  assert.is(r.code, 0, r.stderr);
  const doc = json(r.stdout);
  assert.equal(Object.keys(doc), ['defaults', 'sources']);
  const [gw, cp] = doc.sources;
  assert.equal([gw?.url, gw?.kind, gw?.ready], [w.gatewayUrl, 'gateway', true]);
  assert.equal(gw?.readiness, { ready: true, reasons: [] });
  const site = gw?.status.sites.find((s: { site: string }) => s.site === SITE);
  const point = site.connectionPoints.find((c: { id: string }) => c.id === 'cp01');
  assert.ok(point.channels.length >= 1);
  assert.ok(point.channels.every((c: { state: string }) => c.state === 'ready'));
  const endpoint = gw?.status.endpoints.find(
    (e: { endpoint: string }) => e.endpoint === `${MP_BASE}/CCM_System`,
  );
  assert.is(endpoint.requests, 1);
  assert.is(endpoint.healthyConnectionPoints, 1);
  assert.equal([cp?.url, cp?.kind, cp?.ready], [w.cpUrl, 'connector', true]);
  assert.equal([cp?.status.site, cp?.status.id], [SITE, 'cp01']);
  assert.ok(cp?.status.channels.every((c: { state: string }) => c.state === 'up'));
});

test('--config reads the admin address from the gateway config', async () => {
  const r = await runCli(['status', '--config', w.gatewayFile, '--json']);
  assert.is(r.code, 0, r.stderr);
  const doc = json(r.stdout);
  assert.equal(
    doc.sources.map((s) => [s.url, s.kind, s.ready]),
    [[w.gatewayUrl, 'gateway', true]],
  );
});

test('--config with admin.port 0: exit 2, telling to pass the URL printed at start', async () => {
  const r = await runCli(['status', '--config', w.zeroFile]);
  assert.is(r.code, 2, r.stderr);
  assert.is(r.stdout, '');
  assert.match(r.stderr, `${w.zeroFile}: admin.port is 0`);
  assert.match(r.stderr, 'printed at start');
});

test('--watch with --json, or a bad --timeout: usage errors, exit 2', async () => {
  const both = await runCli(['status', '--gateway', w.gatewayUrl, '--watch', '--json']);
  assert.is(both.code, 2);
  assert.is(JSON.parse(both.stdout).error.code, 'CMG_USAGE');
  assert.match(both.stderr, '--watch');
  const timeout = await runCli(['status', '--gateway', w.gatewayUrl, '--timeout', 'soon']);
  assert.is(timeout.code, 2);
  assert.match(timeout.stderr, '--timeout "soon"');
  const url = await runCli(['status', '--gateway', 'not a url']);
  assert.is(url.code, 2);
  assert.match(url.stderr, '--gateway "not a url" is not an admin URL');
});

test('--watch redraws until SIGINT (frames separated by a line when stdout is not a terminal), then exits 0', async () => {
  const child = spawn(process.execPath, [RUN_JS, 'status', '--gateway', w.gatewayUrl, '--watch', '0.3'], {
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await waitUntil('three frames', () => (out.match(/^cmg status at /gm) ?? []).length >= 3, 20_000);
    child.kill('SIGINT');
    assert.is(await exited, 0, out);
  } finally {
    child.kill('SIGKILL');
  }
  assert.not.match(out, '\x1b[', 'no screen clearing when stdout is not a terminal');
  assert.ok((out.match(/^-{72}$/gm) ?? []).length >= 2);
  assert.match(out, new RegExp(`^Gateway \\S+  ${w.gatewayUrl}  ready$`, 'm'));
});

test('a closed port: exit 1 with a message naming the URL; with --json the error document', async () => {
  const closed = `http://127.0.0.1:${await freePort()}`;
  const r = await runCli(['status', '--gateway', closed]);
  assert.is(r.code, 1);
  assert.is(r.stdout, '');
  assert.match(r.stderr, `Error: cannot reach the gateway at ${closed}: connection refused (ECONNREFUSED)`);
  const j = await runCli(['status', '--connector', closed, '--json']);
  assert.is(j.code, 1);
  const { error } = JSON.parse(j.stdout);
  assert.is(error.code, 'CMG_STATUS_UNREACHABLE');
  assert.match(error.message, `cannot reach the connection point at ${closed}`);
});

test('one source answers, one does not: everything that answered is shown, exit 1', async () => {
  const closed = `http://127.0.0.1:${await freePort()}`;
  const r = await runCli(['status', '--gateway', w.gatewayUrl, '--connector', closed]);
  assert.is(r.code, 1);
  assert.match(r.stdout, new RegExp(`^Gateway \\S+  ${w.gatewayUrl}  ready$`, 'm'));
  assert.match(r.stdout, `Connection point ${closed}  NO ANSWER`);
  assert.match(r.stdout, '1 ready, 1 not answering (of 2 sources)');
  assert.match(r.stderr, `cannot reach the connection point at ${closed}`);
  const j = await runCli(['status', '--gateway', w.gatewayUrl, '--connector', closed, '--json']);
  assert.is(j.code, 1);
  const doc = json(j.stdout);
  assert.is(doc.sources[0]?.ready, true);
  assert.equal(Object.keys(doc.sources[1] ?? {}), ['url', 'kind', 'error']);
  assert.match(doc.sources[1]?.error ?? '', closed);
});

test('the connection point stopped: the gateway is not ready for PS1 and the connection point does not answer, exit 1', async () => {
  assert.is(await w.cp.stop('SIGTERM'), 0);
  await waitUntil('the gateway to lose its channel', async () => (await readyz(w.gatewayUrl)) === 503);
  const r = await runCli(['status', '--gateway', w.gatewayUrl, '--connector', w.cpUrl]);
  assert.is(r.code, 1);
  assert.match(r.stdout, new RegExp(`^Gateway \\S+  ${w.gatewayUrl}  NOT READY$`, 'm'));
  assert.match(r.stdout, /^ {2}! no healthy channel for site PS1$/m);
  assert.match(r.stdout, `Connection point ${w.cpUrl}  NO ANSWER`);
  assert.match(r.stderr, `cannot reach the connection point at ${w.cpUrl}`);
  const gatewayOnly = await runCli(['status', '--gateway', w.gatewayUrl, '--json']);
  assert.is(gatewayOnly.code, 1, 'not ready alone is exit 1');
  const [gw] = json(gatewayOnly.stdout).sources;
  assert.is(gw?.ready, false);
  assert.equal(gw?.readiness?.reasons, ['no healthy channel for site PS1']);
});

test.run();
