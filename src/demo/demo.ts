import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { createLab, LAB_MP_ROLE_ID } from '../certs/lab.js';
import { loadConnectorConfig } from '../config/connector.js';
import { loadGatewayConfig } from '../config/gateway.js';
import { ConnectorDaemon } from '../connector/daemon.js';
import { GatewayDaemon } from '../gateway/daemon.js';
import type { RequestRecord } from '../gateway/gateway.js';
import type { CmtraceLogger } from '../logs/logger.js';
import { contentSlice, startStandInMp } from './management-point.js';

export interface DemoOptions {
  /** Where the lab goes; a new temp folder when absent. */
  dir?: string | undefined;
  /** Requests per kind (MPLIST, CCM_POST, content). */
  rounds: number;
  open: (dir: string, file: string, component: string) => CmtraceLogger;
  version: string;
  /** Progress for people (stderr). */
  note: (line: string) => void;
}

export interface DemoCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface DemoResult {
  ok: boolean;
  dir: string;
  gateway: string;
  checks: DemoCheck[];
  requests: { method: string; path: string; status: number; count: number }[];
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  servedBy: Record<string, number>;
  logs: string[];
  curl: string;
}

export interface RunningDemo {
  result: DemoResult;
  stop(): Promise<void>;
}

const SERVICE = 'cmg.demo.contoso.com';
const SITE = 'PS1';
const BASE = `/CCM_Proxy_MutualAuth/${LAB_MP_ROLE_ID}`;
const CONTENT_BYTES = 1024 * 1024;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/**
 * The whole system on loopback: a lab PKI, a stand-in management point, one
 * gateway and two connection points (the same code `cmg serve` and
 * `cmg connect` run, in this process), then real client requests through it
 * all, checked: MPLIST, CCM_POST to ccm_system/request, a content download
 * with its hash and a Range request, and a request without a client
 * certificate, which must be refused.
 */
export async function runDemo(o: DemoOptions): Promise<RunningDemo> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'cmg-demo-'));
  const [gatewayPort, channelPort, mpPort, adminPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  o.note(`lab PKI and configs in ${dir}`);
  const lab = await createLab({
    outDir: dir,
    serviceName: SERVICE,
    site: SITE,
    connectionPoints: ['cp01', 'cp02'],
    keyType: 'p256',
    gatewayHost: '127.0.0.1',
    gatewayPort,
    channelPort,
    mpHost: 'localhost',
    mpPort,
    adminPort,
    days: 30,
  });
  lab.files.commit(true);
  const pem = (name: string) => readFileSync(join(dir, name), 'utf8');
  const mp = await startStandInMp({ cert: pem('mp.pem'), key: pem('mp.key'), port: mpPort });
  o.note(`stand-in management point on ${mp.url}`);

  const env = process.env;
  const gwConfig = { ...loadGatewayConfig(lab.gatewayConfig, env), admin: { host: '127.0.0.1', port: 0 } };
  const gateway = await GatewayDaemon.create(
    gwConfig,
    o.version,
    (f, c) => o.open(gwConfig.logDir, f, c),
    env,
  );
  const served: RequestRecord[] = [];
  gateway.gateway.on('request', (r) => served.push(r));
  const where = await gateway.start();
  o.note(
    `gateway: clients on ${where.clients}, connection points on ${where.channels}, admin on ${where.admin}`,
  );
  const connectors: ConnectorDaemon[] = [];
  for (const { file } of lab.connectorConfigs) {
    const config = {
      ...loadConnectorConfig(file, env),
      admin: { host: '127.0.0.1', port: 0 },
      heartbeatSeconds: 5,
    };
    const d = await ConnectorDaemon.create(config, o.version, (f, c) => o.open(config.logDir, f, c), env);
    const { admin } = await d.start();
    o.note(`connection point ${d.connector.identity.id}: admin on ${admin}`);
    connectors.push(d);
  }
  const stop = async () => {
    await Promise.all(connectors.map((c) => c.stop('demo end')));
    await gateway.stop('demo end');
    await mp.close();
  };

  const checks: DemoCheck[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  try {
    const deadline = Date.now() + 15_000;
    while ((gateway.gateway.registry.healthyPoints().get(SITE)?.size ?? 0) < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const points = gateway.gateway.registry.healthyPoints().get(SITE)?.size ?? 0;
    check('both connection points connected', points === 2, `${points} of 2 within 15 s`);

    const agent = new Agent({
      connect: {
        ca: pem('web-root.pem'),
        cert: pem('client.pem'),
        key: pem('client.key'),
        servername: SERVICE,
      },
      connections: 8,
    });
    const anonymous = new Agent({ connect: { ca: pem('web-root.pem'), servername: SERVICE } });
    const origin = `https://127.0.0.1:${gatewayPort}`;
    const latencies: number[] = [];
    const counts = new Map<string, number>();
    const send = async (
      method: string,
      path: string,
      body?: string,
      headers: Record<string, string> = {},
      via = agent,
    ) => {
      const t0 = performance.now();
      const res = await request(`${origin}${path}`, { method, headers, body: body ?? null, dispatcher: via });
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of res.body) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
      latencies.push(performance.now() - t0);
      const key = `${method} ${path.split('?')[0]?.replace(BASE, '…')} ${res.statusCode}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      return { status: res.statusCode, sha256: hash.digest('hex'), bytes, headers: res.headers };
    };

    const expectedContent = createHash('sha256').update(contentSlice(0, CONTENT_BYTES)).digest('hex');
    let mplist = 0;
    let posts = 0;
    let downloads = 0;
    // Eight clients at a time, each sending its rounds in turn, as a handful of busy clients would.
    let next = 0;
    const round = async (i: number) => {
      const a = await send('GET', `${BASE}/SMS_MP/.sms_aut?MPLIST`);
      if (a.status === 200 && a.bytes > 0) mplist++;
      const body = `<Msg><ID>demo-${i}</ID></Msg>`;
      const b = await send('CCM_POST', `${BASE}/CCM_System/request`, body, { 'content-type': 'text/xml' });
      // The stand-in answers with the SHA-256 of what it received: the reply proves the body arrived whole.
      const reply = `<ReplyMessage><Sha256>${createHash('sha256').update(body).digest('hex')}</Sha256><Bytes>${Buffer.byteLength(body)}</Bytes></ReplyMessage>`;
      if (b.status === 200 && b.sha256 === createHash('sha256').update(reply).digest('hex')) posts++;
      if (i % 4 === 0) {
        const c = await send('GET', `${BASE}/CCM_Client/content/${CONTENT_BYTES}`);
        if (c.status === 200 && c.sha256 === expectedContent) downloads++;
      }
    };
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < o.rounds) await round(next++);
      }),
    );
    const wantDownloads = Math.ceil(o.rounds / 4);
    check('MPLIST answered', mplist === o.rounds, `${mplist} of ${o.rounds} with 200`);
    check(
      'CCM_POST to ccm_system/request answered',
      posts === o.rounds,
      `${posts} of ${o.rounds} with 200 and the body's hash`,
    );
    check(
      'content downloads arrived byte-exact',
      downloads === wantDownloads,
      `${downloads} of ${wantDownloads} (${CONTENT_BYTES / 1048576} MB each, SHA-256 compared)`,
    );
    const range = await send('GET', `${BASE}/CCM_Client/content/${CONTENT_BYTES}`, undefined, {
      range: 'bytes=1000-1999',
    });
    check(
      'a Range request got 206 and the right bytes',
      range.status === 206 &&
        range.sha256 === createHash('sha256').update(contentSlice(1000, 2000)).digest('hex'),
      `status ${range.status}`,
    );
    const refused = await send('GET', `${BASE}/CCM_System/request`, undefined, {}, anonymous);
    check(
      'a request without a client certificate was refused',
      refused.status === 403,
      `status ${refused.status} (${String(refused.headers['x-cmg-error'] ?? '')})`,
    );
    await agent.close();
    await anonymous.close();

    const servedBy: Record<string, number> = {};
    for (const r of served)
      if (r.connectionPoint) servedBy[r.connectionPoint] = (servedBy[r.connectionPoint] ?? 0) + 1;
    const shares = Object.values(servedBy);
    check(
      'both connection points served requests',
      shares.length === 2 && shares.every((n) => n > 0),
      Object.entries(servedBy)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', '),
    );
    latencies.sort((a, b) => a - b);
    const result: DemoResult = {
      ok: checks.every((c) => c.ok),
      dir,
      gateway: origin,
      checks,
      requests: [...counts]
        .map(([k, count]) => {
          const [method = '', path = '', status = '0'] = k.split(' ');
          return { method, path, status: Number(status), count };
        })
        .sort((a, b) => a.path.localeCompare(b.path) || a.status - b.status),
      latencyMs: {
        p50: round1(percentile(latencies, 50)),
        p90: round1(percentile(latencies, 90)),
        p99: round1(percentile(latencies, 99)),
        max: round1(latencies.at(-1) ?? 0),
      },
      servedBy,
      logs: [gwConfig.logDir, ...connectors.map((c) => c.config.logDir)],
      curl:
        `curl --cacert ${join(dir, 'web-root.pem')} --cert ${join(dir, 'client.pem')} --key ${join(dir, 'client.key')} ` +
        `--resolve ${SERVICE}:${gatewayPort}:127.0.0.1 'https://${SERVICE}:${gatewayPort}${BASE}/SMS_MP/.sms_aut?MPLIST'`,
    };
    return { result, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
