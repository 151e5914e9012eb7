/**
 * End-to-end fixtures: a lab PKI on disk, real `cmg serve` and `cmg connect`
 * child processes on loopback, the stand-in management point, and an HTTPS
 * client that presents (or does not present) a client certificate.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { createCrl } from '../../src/certs/crl.js';
import { connectionPointUri } from '../../src/certs/identity.js';
import { issueCertificate } from '../../src/certs/issue.js';
import { generateKeyPair, privateKeyPem } from '../../src/certs/keys.js';
import { loadIssuer } from '../../src/certs/make.js';
import { x509 } from '../../src/certs/x509.js';
import { type StandInMp, startStandInMp } from '../../src/demo/management-point.js';
import { RUN_JS } from './cli.js';
import { craftCertificate, daysFromNow, type Issued, issue, makeRoot } from './pki.js';

export const SERVICE = 'cmg.test.contoso.com';
export const SITE = 'PS1';
export const ROLE_ID = '72057594037927939';
export const MP_BASE = `/CCM_Proxy_MutualAuth/${ROLE_ID}`;

export async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  await once(s, 'close');
  return port;
}

/** Polls `check` until it returns a value (not undefined/false) or the deadline passes. */
export async function waitUntil<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  deadlineMs = 15_000,
  everyMs = 50,
): Promise<T> {
  const end = Date.now() + deadlineMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) {
      throw new Error(
        `timed out after ${deadlineMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// ------------------------------------------------------------------ PKI

export interface LabPki {
  dir: string;
  /** Absolute paths by name: `<name>.pem` and `<name>.key`. */
  pem(name: string): string;
  key(name: string): string;
  text(file: string): string;
}

async function writeIssued(dir: string, name: string, it: Issued): Promise<void> {
  writeFileSync(join(dir, `${name}.pem`), it.cert.toPem());
  writeFileSync(join(dir, `${name}.key`), await privateKeyPem(it.keyPair.privateKey), { mode: 0o600 });
}

/**
 * Everything the e2e suites need: client PKI (root, issuing CA, a good client,
 * an expired one, one without the Client Authentication EKU, a revoked one
 * with the CRLs), a client from an untrusted root, the web certificate, the
 * channel CA with connection points of site PS1 and PS2, a rogue channel CA,
 * and the internal root with the management point's certificate.
 */
export async function makeLabPki(dir: string): Promise<LabPki> {
  mkdirSync(dir, { recursive: true });
  const made: [string, Issued][] = [];
  const clientRoot = await makeRoot({ subject: 'CN=e2e client root' });
  const clientCa = await issue('sub-ca', clientRoot, { subject: 'CN=e2e client issuing' });
  const client = await issue('client', clientCa, { subject: 'CN=client01', dns: ['client01.contoso.com'] });
  const expired = await issue('client', clientCa, {
    subject: 'CN=expired',
    notBefore: daysFromNow(-30),
    notAfter: daysFromNow(-1),
  });
  const wrongEku = await issue('server', clientCa, { subject: 'CN=server-only', dns: ['x.contoso.com'] });
  const revoked = await issue('client', clientCa, { subject: 'CN=revoked' });
  const untrustedRoot = await makeRoot({ subject: 'CN=e2e untrusted root' });
  const untrusted = await issue('client', untrustedRoot, { subject: 'CN=untrusted' });
  // TLS accepts it; its EKU extension holds ASN.1 NULL instead of a list, which only a full parse notices.
  const malformed = await craftCertificate({
    subject: 'CN=malformed',
    ca: false,
    extensions: [new x509.Extension('2.5.29.37', false, new Uint8Array([0x05, 0x00]))],
  });
  const webRoot = await makeRoot({ subject: 'CN=e2e web root' });
  const web = await issue('server', webRoot, { subject: `CN=${SERVICE}`, dns: [SERVICE] });
  const channelCa = await makeRoot({ subject: 'CN=e2e channel CA' });
  const cp = async (site: string, id: string, ca = channelCa) =>
    issue('connection-point', ca, { subject: `CN=${id}`, uris: [connectionPointUri(site, id)] });
  const rogueCa = await makeRoot({ subject: 'CN=e2e rogue channel CA' });
  const corpRoot = await makeRoot({ subject: 'CN=e2e corp root' });
  const mp = await issue('server', corpRoot, {
    subject: 'CN=localhost',
    dns: ['localhost'],
    ips: ['127.0.0.1'],
  });
  made.push(
    ['client-root', clientRoot],
    ['client-issuing', clientCa],
    ['client', client],
    ['client-expired', expired],
    ['client-wrong-eku', wrongEku],
    ['client-revoked', revoked],
    ['untrusted-root', untrustedRoot],
    ['client-untrusted', untrusted],
    ['client-malformed', malformed],
    ['web-root', webRoot],
    ['web', web],
    ['channel-ca', channelCa],
    ['cp01', await cp(SITE, 'cp01')],
    ['cp02', await cp(SITE, 'cp02')],
    ['cp-other-site', await cp('PS2', 'cp09')],
    ['cp-rogue', await cp(SITE, 'cp66', rogueCa)],
    ['rogue-ca', rogueCa],
    ['corp-root', corpRoot],
    ['mp', mp],
  );
  for (const [name, it] of made) await writeIssued(dir, name, it);
  const crl = async (name: string, ca: Issued, revokedSerials: string[]) => {
    const list = await createCrl({
      issuer: ca.signer,
      entries: revokedSerials.map((serialNumber) => ({ serialNumber, revocationDate: daysFromNow(-1) })),
      nextUpdate: daysFromNow(30),
      crlNumber: 1,
    });
    writeFileSync(join(dir, `${name}.crl`), list.toPem());
  };
  await crl('client-root', clientRoot, []);
  await crl('client-issuing', clientCa, [revoked.cert.serialNumber]);
  return {
    dir,
    pem: (name) => join(dir, `${name}.pem`),
    key: (name) => join(dir, `${name}.key`),
    text: (file) => readFileSync(join(dir, file), 'utf8'),
  };
}

// ------------------------------------------------------------------ configs

export interface GatewayPorts {
  listen: number;
  channel: number;
}

export function writeGatewayConfig(
  pki: LabPki,
  name: string,
  ports: GatewayPorts,
  extra: { limits?: Record<string, number>; checkCrl?: boolean; sites?: string[]; sharedPort?: boolean } = {},
): string {
  const file = join(pki.dir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      serviceName: SERVICE,
      listen: { host: '127.0.0.1', port: ports.listen },
      channel: {
        host: '127.0.0.1',
        ...(extra.sharedPort ? {} : { port: ports.channel }),
        caFiles: ['channel-ca.pem'],
        sites: extra.sites ?? [SITE],
      },
      tls: { certFile: 'web.pem', keyFile: 'web.key' },
      clientAuth: {
        trustedRootFiles: ['client-root.pem'],
        intermediateFiles: ['client-issuing.pem'],
        crlFiles: ['client-root.crl', 'client-issuing.crl'],
        checkCrl: extra.checkCrl ?? true,
      },
      limits: { headersTimeoutMs: 1000, requestTimeoutMs: 3000, ...extra.limits },
      admin: { host: '127.0.0.1', port: 0 },
      logDir: `logs/${name}`,
    }),
  );
  return file;
}

export function writeConnectorConfig(
  pki: LabPki,
  name: string,
  options: {
    cert: string;
    site?: string;
    gatewayPorts: number[];
    mpUrl: string;
    roleId?: string;
    endpoints?: { external: string; internal: string; maxContentLength?: number }[];
    connectionsPerInstance?: number;
    heartbeatSeconds?: number;
  },
): string {
  const file = join(pki.dir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      siteCode: options.site ?? SITE,
      gateway: {
        host: '127.0.0.1',
        ports: options.gatewayPorts,
        serverName: SERVICE,
        caFiles: ['web-root.pem'],
      },
      tls: { certFile: `${options.cert}.pem`, keyFile: `${options.cert}.key` },
      connectionsPerInstance: options.connectionsPerInstance ?? 1,
      heartbeatSeconds: options.heartbeatSeconds ?? 1,
      roles: [{ type: 'managementPoint', roleId: options.roleId ?? ROLE_ID, url: options.mpUrl }],
      endpoints: options.endpoints ?? [],
      internalCaFiles: ['corp-root.pem'],
      admin: { host: '127.0.0.1', port: 0 },
      logDir: `logs/${name}`,
    }),
  );
  return file;
}

// ------------------------------------------------------------------ daemons

export interface Daemon {
  child: ChildProcess;
  name: string;
  output(): string;
  waitForOutput(re: RegExp, deadlineMs?: number): Promise<void>;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
  log(file: string): string;
}

const running = new Set<Daemon>();

/** Starts `cmg <args>` (the built bin/run.js) as a real child process in `cwd`. */
export function startDaemon(name: string, args: string[], cwd: string): Daemon {
  const child = spawn(process.execPath, [RUN_JS, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(daemon);
      resolve(code ?? signal ?? -1);
    }),
  );
  const daemon: Daemon = {
    child,
    name,
    output: () => out,
    waitForOutput: (re, deadlineMs = 20_000) =>
      waitUntil(`${name} to print ${re}; it printed: ${out}`, () => re.test(out), deadlineMs).then(
        () => undefined,
      ),
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        if (signal === 'SIGSTOP') return 'stopped';
      }
      return exited;
    },
    log: (file) => {
      try {
        return readFileSync(join(cwd, 'logs', name, file), 'utf8');
      } catch {
        return '';
      }
    },
  };
  running.add(daemon);
  return daemon;
}

/** Kills whatever a suite left running (a failed assertion must not leave daemons behind). */
export async function killAll(): Promise<void> {
  const all = [...running];
  for (const d of all) {
    d.child.kill('SIGCONT');
    d.child.kill('SIGKILL');
  }
  await Promise.all(all.map((d) => d.exited));
}

export interface GatewayWithConnector {
  gateway: Daemon;
  cp: Daemon;
  ports: GatewayPorts;
}

/**
 * The e2e suites' usual world: one gateway and connection point cp01 as real
 * processes in the lab's folder, returned once a request through both to the
 * stand-in management point (`probe`, the echo path unless given) is answered 200.
 */
export async function startGatewayWithConnector(
  pki: LabPki,
  mp: StandInMp,
  options: {
    gateway?: Parameters<typeof writeGatewayConfig>[3];
    connector?: Partial<Parameters<typeof writeConnectorConfig>[2]>;
    probe?: string;
    deadlineMs?: number;
  } = {},
): Promise<GatewayWithConnector> {
  const [listen, channel] = await Promise.all([freePort(), freePort()]);
  const ports = { listen, channel };
  const gwConfig = writeGatewayConfig(pki, 'gateway', ports, options.gateway);
  const cpConfig = writeConnectorConfig(pki, 'cp01', {
    cert: 'cp01',
    gatewayPorts: [channel],
    mpUrl: mp.url.replace('127.0.0.1', 'localhost'),
    ...options.connector,
  });
  const gateway = startDaemon('gateway', ['serve', '--config', gwConfig], pki.dir);
  await gateway.waitForOutput(/cmg serve: clients on/);
  const cp = startDaemon('cp01', ['connect', '--config', cpConfig], pki.dir);
  const path = options.probe ?? `${MP_BASE}/CCM_System/echo`;
  await waitUntil(
    'the channel to carry requests',
    async () => (await clientRequest(pki, { port: listen, path, cert: 'client' })).status === 200,
    options.deadlineMs,
  );
  return { gateway, cp, ports };
}

/**
 * A suite's lab folder. On removal the daemons' logs are kept in
 * `$TMPDIR/cmg-e2e-last/<prefix>` (replacing the previous run's), so a
 * failure can be read after the fact.
 */
export function tempLabDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    remove: () => {
      const keep = join(tmpdir(), 'cmg-e2e-last', prefix.replace(/-+$/, ''));
      rmSync(keep, { recursive: true, force: true });
      try {
        cpSync(join(dir, 'logs'), keep, { recursive: true });
      } catch {
        // no logs written
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function startMp(pki: LabPki): Promise<StandInMp> {
  return startStandInMp({ cert: pki.text('mp.pem'), key: pki.text('mp.key') });
}

// ------------------------------------------------------------------ client

export interface ClientAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  sha256: string;
  bytes: number;
}

export interface ClientRequest {
  port: number;
  method?: string;
  path: string;
  headers?: Record<string, string | number>;
  body?: Buffer | string | AsyncIterable<Buffer>;
  /** Which client certificate (a name in the lab), or none. */
  cert?: string | undefined;
  /** Keep at most this many body bytes (hash and count all of them). */
  keepBytes?: number;
  timeoutMs?: number;
}

/** Options of an HTTPS request to the gateway as a lab client sends it (its own connection, no agent). */
export function gatewayRequestOptions(
  pki: LabPki,
  r: Pick<ClientRequest, 'port' | 'method' | 'path' | 'headers' | 'cert'>,
  timeoutMs: number | undefined,
): RequestOptions {
  return {
    host: '127.0.0.1',
    port: r.port,
    servername: SERVICE,
    method: r.method ?? 'GET',
    path: r.path,
    headers: r.headers,
    ca: pki.text('web-root.pem'),
    ...(r.cert ? { cert: pki.text(`${r.cert}.pem`), key: pki.text(`${r.cert}.key`) } : {}),
    agent: false,
    timeout: timeoutMs,
  };
}

/** One HTTPS request to the gateway, as a client would send it. The answer body is hashed as it streams. */
export function clientRequest(pki: LabPki, r: ClientRequest): Promise<ClientAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(gatewayRequestOptions(pki, r, r.timeoutMs ?? 15_000));
    req.on('timeout', () => req.destroy(new Error(`no answer within ${r.timeoutMs ?? 15_000} ms`)));
    req.on('error', reject);
    req.on('response', (res) => {
      const hash = createHash('sha256');
      const kept: Buffer[] = [];
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        hash.update(c);
        if (bytes < (r.keepBytes ?? 1 << 20)) kept.push(c);
        bytes += c.length;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(kept),
          sha256: hash.digest('hex'),
          bytes,
        }),
      );
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('answer aborted')));
    });
    const body = r.body;
    if (body === undefined) req.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else {
      void (async () => {
        for await (const chunk of body) if (!req.write(chunk)) await once(req, 'drain');
        req.end();
      })().catch((err) => req.destroy(err));
    }
  });
}

/** A raw TLS connection to the gateway for byte-exact requests (several on one connection, malformed ones). */
export async function rawConnection(
  pki: LabPki,
  port: number,
  cert: string | undefined = 'client',
  /** A TCP connection of the test's own to run TLS over (to reset it: a TLS socket cannot). */
  tcp?: Socket,
): Promise<TLSSocket> {
  const socket = tlsConnect({
    host: '127.0.0.1',
    port,
    ...(tcp ? { socket: tcp } : {}),
    servername: SERVICE,
    ca: pki.text('web-root.pem'),
    ...(cert ? { cert: pki.text(`${cert}.pem`), key: pki.text(`${cert}.key`) } : {}),
    ALPNProtocols: ['http/1.1'],
  });
  await once(socket, 'secureConnect');
  return socket;
}

/** Reads from the socket until `done(received)` is true or it closes; returns everything received. */
export async function readUntil(
  socket: TLSSocket,
  done: (text: string) => boolean,
  deadlineMs = 10_000,
): Promise<string> {
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no complete answer within ${deadlineMs} ms; got: ${text.slice(0, 2000)}`)),
      deadlineMs,
    );
    const finish = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(text);
    };
    const onData = (c: Buffer) => {
      text += c.toString('latin1');
      if (done(text)) finish();
    };
    socket.on('data', onData);
    socket.once('close', finish);
  });
}

/** Counts complete HTTP/1.1 answers in a stream of bytes (status lines), for pipelined requests. */
export function statusLines(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

/** Bytes in deterministic pseudo-random order, produced as they are read (never held whole). */
export async function* generatedBody(size: number, seed = 1): AsyncGenerator<Buffer> {
  let x = seed;
  for (let at = 0; at < size; ) {
    const n = Math.min(65536, size - at);
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      b[i] = x >>> 16;
    }
    at += n;
    yield b;
  }
}

export async function sha256Of(chunks: AsyncIterable<Buffer>): Promise<string> {
  const h = createHash('sha256');
  for await (const c of chunks) h.update(c);
  return h.digest('hex');
}

// ------------------------------------------------------------------ operations (admin endpoint, reload)

/**
 * Changes a config file written above (read, edit, write), for keys the
 * writers do not take: `drainSeconds`, `trafficReportSeconds`, `gateway.proxy`.
 */
export function editConfig(file: string, edit: (config: Record<string, unknown>) => void): string {
  const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(config);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

/** The admin endpoint's base URL, from the line the daemon prints once it is up (`... admin on http://...; logs in ...`). */
export async function adminUrlOf(daemon: Daemon): Promise<string> {
  await daemon.waitForOutput(/admin on http:\/\/[^\s;]+;/);
  return /admin on (http:\/\/[^\s;]+);/.exec(daemon.output())?.[1] as string;
}

export interface AdminAnswer {
  status: number;
  contentType: string;
  text: string;
  /** The body as JSON (throws when it is not). */
  json<T = unknown>(): T;
}

/** One plain HTTP request to an admin endpoint (no keep-alive: nothing stays open after a test). */
export function adminGet(base: string, path: string, method = 'GET'): Promise<AdminAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method, agent: false, timeout: 5000 });
    req.on('timeout', () => req.destroy(new Error(`${base}${path}: no answer within 5 s`)));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          text,
          json: <T>() => JSON.parse(text) as T,
        });
      });
    });
    req.end();
  });
}

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped, label values unescaped). */
export function parseMetrics(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the sample `name` whose labels are exactly `labels`; 0 when there is none (a counter not yet moved). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels);
  const hit = parseMetrics(text).find(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === want.length &&
      want.every(([k, v]) => s.labels[k] === v),
  );
  return hit?.value ?? 0;
}

export interface WebCertificate {
  cert: string;
  key: string;
  /** As TLS shows it: `getPeerCertificate().fingerprint256`. */
  fingerprint256: string;
  serialNumber: string;
}

/** A new web certificate for SERVICE from the lab's web root (a renewal), not written anywhere. */
export async function issueWebCertificate(pki: LabPki, subject = `CN=${SERVICE}`): Promise<WebCertificate> {
  const issuer = await loadIssuer(pki.pem('web-root'), pki.key('web-root'));
  const keyPair = await generateKeyPair('p256');
  const cert = await issueCertificate({ profile: 'server', subject, keyPair, issuer, dns: [SERVICE] });
  const pem = cert.toPem();
  const x = new X509Certificate(pem);
  return {
    cert: pem,
    key: await privateKeyPem(keyPair.privateKey),
    fingerprint256: x.fingerprint256,
    serialNumber: x.serialNumber,
  };
}

/** The certificate a new TLS connection to the gateway's client port is shown (the connection is closed again). */
export async function servedCertificate(
  pki: LabPki,
  port: number,
): Promise<{ fingerprint256: string; serialNumber: string }> {
  const socket = await rawConnection(pki, port);
  const peer = socket.getPeerCertificate();
  socket.destroy();
  return { fingerprint256: peer.fingerprint256, serialNumber: peer.serialNumber };
}
