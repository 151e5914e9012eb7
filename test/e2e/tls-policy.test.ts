/**
 * The TLS policy of both gateway listeners (clients, and connection points on
 * their own port), with a web certificate of each kind the contract allows
 * (ECDSA P-256, as the e2e lab makes, and RSA 2048, as `cmg certs lab` makes
 * by default): TLS 1.0 and 1.1 refused by the server, TLS 1.2 and 1.3
 * accepted, and under TLS 1.2 only ECDHE key exchange with an AEAD cipher.
 *
 * Two independent probes:
 * - `openssl s_client` (spawned), at security level 0 so that what it can
 *   offer it does offer, and a refusal must come from the server: a refusal
 *   counts only when s_client reports the server's alert;
 * - a hand-built TLS 1.2 ClientHello over TCP, for what this OpenSSL cannot
 *   offer at all (RC4, 3DES, DES, EXPORT suites: compiled out), and to
 *   enumerate every code point of the registry's ranges, not only those
 *   this OpenSSL knows.
 * Both enumerate what the server accepts the same way: offer everything, note
 * the suite the server picks, take it out, offer the rest again, until the
 * server refuses what is left.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { issueCertificate } from '../../src/certs/issue.js';
import { generateKeyPair, privateKeyPem } from '../../src/certs/keys.js';
import { loadIssuer } from '../../src/certs/make.js';
import {
  type Daemon,
  editConfig,
  freePort,
  killAll,
  makeLabPki,
  SERVICE,
  startDaemon,
  tempLabDir,
  writeGatewayConfig,
} from '../helpers/cluster.js';

const test = suite('TLS policy (e2e)');

interface Listener {
  name: string;
  port: number;
  /** The web certificate's key: which TLS 1.2 suites can be negotiated at all. */
  key: 'ecdsa' | 'rsa';
}

let listeners: Listener[] = [];
let remove: () => void = () => undefined;

test.before(async () => {
  const tmp = tempLabDir('cmg-e2e-tls-policy-');
  remove = tmp.remove;
  const pki = await makeLabPki(tmp.dir);
  // An RSA web certificate from the same web root, as `cmg certs lab` makes by default.
  const issuer = await loadIssuer(pki.pem('web-root'), pki.key('web-root'));
  const keyPair = await generateKeyPair('rsa2048');
  const cert = await issueCertificate({
    profile: 'server',
    subject: `CN=${SERVICE}`,
    keyPair,
    issuer,
    dns: [SERVICE],
  });
  writeFileSync(pki.pem('web-rsa'), cert.toPem());
  writeFileSync(pki.key('web-rsa'), await privateKeyPem(keyPair.privateKey), { mode: 0o600 });

  const [ecListen, ecChannel, rsaListen, rsaChannel] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const ec = writeGatewayConfig(pki, 'gw-ecdsa', { listen: ecListen, channel: ecChannel });
  const rsa = writeGatewayConfig(pki, 'gw-rsa', { listen: rsaListen, channel: rsaChannel });
  editConfig(rsa, (c) => {
    c.tls = { certFile: 'web-rsa.pem', keyFile: 'web-rsa.key' };
  });
  const daemons: Daemon[] = [
    startDaemon('gw-ecdsa', ['serve', '--config', ec], pki.dir),
    startDaemon('gw-rsa', ['serve', '--config', rsa], pki.dir),
  ];
  await Promise.all(daemons.map((d) => d.waitForOutput(/cmg serve: clients on/)));
  listeners = [
    { name: 'client port, ECDSA certificate', port: ecListen, key: 'ecdsa' },
    { name: 'channel port, ECDSA certificate', port: ecChannel, key: 'ecdsa' },
    { name: 'client port, RSA certificate', port: rsaListen, key: 'rsa' },
    { name: 'channel port, RSA certificate', port: rsaChannel, key: 'rsa' },
  ];
});

test.after(async () => {
  await killAll();
  remove();
});

// ------------------------------------------------------------------ openssl s_client

interface Probe {
  /** The handshake completed: the protocol and suite the server chose. */
  accepted?: { protocol: string; cipher: string };
  /** The server refused with this TLS alert (s_client saw it). */
  alert?: number;
  /** Neither: s_client failed on its own side (it cannot offer this) or the connection just dropped. */
  output: string;
}

async function sClient(port: number, args: string[]): Promise<Probe> {
  // stdin is /dev/null: s_client hangs up once the handshake is over.
  const child: ChildProcess = spawn(
    'openssl',
    ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', SERVICE, '-brief', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  // 'close', not 'exit': the output is complete only once its pipes are.
  await once(child, 'close');
  clearTimeout(timer);
  const protocol = /Protocol version: (\S+)/.exec(output)?.[1];
  const cipher = /Ciphersuite: (\S+)/.exec(output)?.[1];
  const alert = /SSL alert number (\d+)/.exec(output)?.[1];
  return {
    // The handshake completed (the channel listener then hangs up on a peer without a connection
    // point's certificate, which can make s_client's exit code non-zero: not a refusal).
    ...(/CONNECTION ESTABLISHED/.test(output) && protocol && cipher && cipher !== '(NONE)'
      ? { accepted: { protocol, cipher } }
      : {}),
    ...(alert ? { alert: Number(alert) } : {}),
    output: output.slice(0, 600),
  };
}

/** Runs `fn` over `items`, `n` at a time. */
async function pool<T, R>(items: readonly T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

const LEGACY = ['-cipher', 'DEFAULT@SECLEVEL=0'];

test('TLS 1.0 and TLS 1.1 are refused by the server on every listener (openssl s_client)', async () => {
  const failures: string[] = [];
  for (const l of listeners) {
    for (const flag of ['-tls1', '-tls1_1']) {
      const p = await sClient(l.port, [flag, ...LEGACY]);
      if (p.accepted)
        failures.push(`${l.name}: ${flag} accepted (${p.accepted.protocol} ${p.accepted.cipher})`);
      else if (p.alert === undefined)
        failures.push(`${l.name}: ${flag} failed without an alert from the server: ${p.output}`);
      else if (p.alert !== 70 && p.alert !== 40)
        failures.push(`${l.name}: ${flag} refused with alert ${p.alert}, expected protocol_version (70)`);
    }
  }
  assert.ok(failures.length === 0, `\n${failures.join('\n')}`);
});

test('TLS 1.2 and TLS 1.3 are accepted on every listener (openssl s_client)', async () => {
  for (const l of listeners) {
    const v12 = await sClient(l.port, ['-tls1_2']);
    assert.is(v12.accepted?.protocol, 'TLSv1.2', `${l.name}: ${v12.output}`);
    const v13 = await sClient(l.port, ['-tls1_3']);
    assert.is(v13.accepted?.protocol, 'TLSv1.3', `${l.name}: ${v13.output}`);
  }
});

/** Weak suite families this OpenSSL can still offer (at security level 0), as cipher strings. */
const WEAK_FAMILIES: [string, string][] = [
  ['NULL encryption', 'eNULL'],
  ['anonymous (aNULL)', 'aNULL'],
  ['static RSA key exchange (no forward secrecy)', 'kRSA'],
  ['AES128-SHA (CBC, SHA-1, static RSA)', 'AES128-SHA'],
  ['AES256-SHA (CBC, SHA-1, static RSA)', 'AES256-SHA'],
  [
    'CBC with SHA-1 MAC, even with ECDHE',
    'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA',
  ],
  [
    'CBC with SHA-2 MAC',
    'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES256-SHA384:AES128-SHA256:AES256-SHA256',
  ],
  [
    'Camellia and ARIA with static RSA',
    'CAMELLIA128-SHA:CAMELLIA256-SHA:ARIA128-GCM-SHA256:ARIA256-GCM-SHA384',
  ],
  ['finite-field DHE', 'kDHE'],
  ['MD5 MAC', 'MD5'],
];

test('weak suite families are refused by the server on every listener (openssl s_client, TLS 1.2)', async () => {
  const failures: string[] = [];
  for (const l of listeners) {
    const probes = await pool(WEAK_FAMILIES, 6, ([, ciphers]) =>
      sClient(l.port, ['-tls1_2', '-cipher', `${ciphers}:@SECLEVEL=0`]),
    );
    probes.forEach((p, i) => {
      const [family] = WEAK_FAMILIES[i] as [string, string];
      if (p.accepted) failures.push(`${l.name}: ${family} accepted: ${p.accepted.cipher}`);
      else if (p.alert === undefined)
        failures.push(`${l.name}: ${family}: no alert from the server: ${p.output}`);
    });
  }
  assert.ok(failures.length === 0, `\n${failures.join('\n')}`);
});

/** ECDHE key exchange with an AEAD cipher (GCM, ChaCha20-Poly1305, CCM; not CCM_8, whose tag is 64 bits), by OpenSSL name. */
const isEcdheAead = (name: string) =>
  /^ECDHE-/.test(name) && /(GCM|CHACHA20-POLY1305|CCM)/.test(name) && !/CCM8/.test(name);

/** Every TLS 1.2 suite this OpenSSL knows, by name. */
function tls12Suites(): string[] {
  return execFileSync('openssl', ['ciphers', '-s', '-tls1_2', 'ALL:COMPLEMENTOFALL:@SECLEVEL=0'], {
    encoding: 'utf8',
  })
    .trim()
    .split(':')
    .filter((n) => !n.startsWith('TLS_'));
}

test('every TLS 1.2 suite the server accepts (openssl s_client: all offered, the chosen one taken out, again) is ECDHE with AEAD', async () => {
  const suites = tls12Suites();
  assert.ok(suites.length > 40, `openssl knows ${suites.length} TLS 1.2 suites`);
  const failures: string[] = [];
  await pool(listeners, 2, async (l) => {
    let offer = [...suites];
    const accepted: string[] = [];
    for (;;) {
      const p = await sClient(l.port, ['-tls1_2', '-cipher', `${offer.join(':')}:@SECLEVEL=0`]);
      if (p.accepted) {
        if (!offer.includes(p.accepted.cipher)) {
          failures.push(`${l.name}: the server chose ${p.accepted.cipher}, which was not offered`);
          break;
        }
        accepted.push(p.accepted.cipher);
        offer = offer.filter((s) => s !== p.accepted?.cipher);
        if (offer.length > 0) continue;
      } else if (p.alert === undefined) {
        failures.push(`${l.name}: neither accepted nor refused by an alert: ${p.output}`);
      }
      break;
    }
    const weak = accepted.filter((s) => !isEcdheAead(s));
    if (weak.length > 0) failures.push(`${l.name}: accepted ${weak.join(', ')}`);
    if (accepted.length === 0) failures.push(`${l.name}: no TLS 1.2 suite accepted at all`);
    const expected = l.key === 'ecdsa' ? 'ECDHE-ECDSA-AES128-GCM-SHA256' : 'ECDHE-RSA-AES128-GCM-SHA256';
    if (!accepted.includes(expected)) failures.push(`${l.name}: ${expected} refused`);
  });
  assert.ok(failures.length === 0, `\n${failures.join('\n')}`);
});

const TLS13_RECOMMENDED = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
];

test('TLS 1.3: the recommended suites are accepted, CCM_8 (short tag) is not (openssl s_client)', async () => {
  const failures: string[] = [];
  for (const l of listeners) {
    for (const s of [...TLS13_RECOMMENDED, 'TLS_AES_128_CCM_8_SHA256']) {
      const p = await sClient(l.port, ['-tls1_3', '-ciphersuites', s]);
      const ok = TLS13_RECOMMENDED.includes(s);
      if (ok && !p.accepted) failures.push(`${l.name}: ${s} refused: ${p.output}`);
      if (!ok && p.accepted) failures.push(`${l.name}: ${s} accepted`);
    }
  }
  assert.ok(failures.length === 0, `\n${failures.join('\n')}`);
});

// ------------------------------------------------------------------ a hand-built ClientHello

const u16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const u24 = (n: number) => [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const vec16 = (b: number[]) => [...u16(b.length), ...b];
const ext = (type: number, body: number[]) => [...u16(type), ...vec16(body)];

/** A ClientHello offering `suites` at `version` (no supported_versions: TLS 1.3 is not offered). */
function clientHello(suites: number[], version = 0x0303): Buffer {
  const sni = [...Buffer.from(SERVICE)];
  const extensions = [
    ...ext(0x0000, vec16([0, ...vec16(sni)])), // server_name
    ...ext(0x000a, vec16([0x00, 0x1d, 0x00, 0x17, 0x00, 0x18])), // supported_groups: x25519, P-256, P-384
    ...ext(0x000b, [1, 0]), // ec_point_formats: uncompressed
    // signature_algorithms: ECDSA and RSA (PSS, PKCS#1) with SHA-2, then SHA-1
    ...ext(0x000d, vec16([4, 3, 5, 3, 6, 3, 8, 4, 8, 5, 8, 6, 4, 1, 5, 1, 6, 1, 2, 3, 2, 1])),
    ...ext(0xff01, [0]), // renegotiation_info
  ];
  const body = [
    ...u16(version),
    ...Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff),
    0, // session id
    ...vec16(suites.flatMap(u16)),
    1,
    0, // compression: null
    ...vec16(extensions),
  ];
  const handshake = [1, ...u24(body.length), ...body];
  return Buffer.from([0x16, 0x03, 0x01, ...u16(handshake.length), ...handshake]);
}

/** The server's answer to a ClientHello: the suite it chose, or its alert, or a close without either. */
async function hello(
  port: number,
  suites: number[],
  version = 0x0303,
): Promise<{ chosen: number; version: number } | { alert: number } | { closed: true }> {
  const socket = netConnect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write(clientHello(suites, version));
  let data = Buffer.alloc(0);
  const answer = await new Promise<
    { chosen: number; version: number } | { alert: number } | { closed: true }
  >((resolve) => {
    const timer = setTimeout(() => resolve({ closed: true }), 5000);
    const done = (v: { chosen: number; version: number } | { alert: number } | { closed: true }) => {
      clearTimeout(timer);
      resolve(v);
    };
    socket.on('data', (c: Buffer) => {
      data = Buffer.concat([data, c]);
      if (data.length < 5) return;
      const type = data[0];
      if (type === 0x15 && data.length >= 7) return done({ alert: data[6] as number });
      // handshake record: 5 header, 4 handshake header, 2 version, 32 random, session id, suite
      if (type === 0x16 && data.length >= 5 + 4 + 2 + 32 + 1) {
        const sidLen = data[5 + 4 + 2 + 32] as number;
        const at = 5 + 4 + 2 + 32 + 1 + sidLen;
        if (data[5] !== 2) return done({ closed: true });
        if (data.length >= at + 2)
          return done({ chosen: data.readUInt16BE(at), version: data.readUInt16BE(5 + 4) });
      }
    });
    socket.once('close', () => done({ closed: true }));
  });
  socket.destroy();
  return answer;
}

/** Every TLS 1.2 code point in the registry's ranges, but the signalling values. */
const ALL_SUITES = [
  ...Array.from({ length: 0x100 }, (_, i) => i),
  ...Array.from({ length: 0x100 }, (_, i) => 0xc000 + i),
  ...Array.from({ length: 0x10 }, (_, i) => 0xcca8 + i),
].filter((s) => s !== 0x0000 && s !== 0x00ff);

/** ECDHE key exchange with an AEAD cipher, by code point (RFC 5289, 7905, 7251, 6209, 6367); CCM_8 left out as for TLS 1.3. */
const ECDHE_AEAD = new Set([
  // ECDHE ECDSA/RSA AES-GCM
  0xc02b, 0xc02c, 0xc02f, 0xc030,
  // ECDHE RSA/ECDSA ChaCha20-Poly1305
  0xcca8, 0xcca9,
  // ECDHE ECDSA AES-CCM (not CCM_8: 0xc0ae, 0xc0af)
  0xc0ac, 0xc0ad,
  // ECDHE ECDSA/RSA ARIA-GCM, Camellia-GCM
  0xc05c, 0xc05d, 0xc060, 0xc061, 0xc086, 0xc087, 0xc08a, 0xc08b,
]);

/** Names for the report, from OpenSSL where it knows the code point. */
function suiteNames(): Map<number, string> {
  const out = new Map<number, string>();
  const text = execFileSync('openssl', ['ciphers', '-V', 'ALL:COMPLEMENTOFALL:@SECLEVEL=0'], {
    encoding: 'utf8',
  });
  for (const m of text.matchAll(/0x([0-9A-F]{2}),0x([0-9A-F]{2}) - (\S+)/g))
    out.set(Number.parseInt(`${m[1]}${m[2]}`, 16), m[3] as string);
  return out;
}
const hex = (s: number) => `0x${s.toString(16).padStart(4, '0')}`;

/** Weak families this OpenSSL cannot even offer, by code point. */
const LEGACY_FAMILIES: [string, number[]][] = [
  ['RC4', [0x0004, 0x0005, 0x0018, 0x008a, 0xc002, 0xc007, 0xc00c, 0xc011, 0xc016]],
  ['3DES', [0x000a, 0x000d, 0x0010, 0x0013, 0x0016, 0x001b, 0xc003, 0xc008, 0xc00d, 0xc012, 0xc017]],
  ['single DES', [0x0009, 0x000c, 0x000f, 0x0012, 0x0015, 0x001a]],
  ['EXPORT', [0x0003, 0x0006, 0x0008, 0x000b, 0x000e, 0x0011, 0x0014, 0x0017, 0x0019]],
  ['NULL', [0x0001, 0x0002, 0x003b, 0xc001, 0xc006, 0xc00b, 0xc010, 0xc015]],
  ['anonymous', [0x0034, 0x003a, 0x006c, 0x006d, 0x00a6, 0x00a7, 0xc018, 0xc019]],
];

test('RC4, 3DES, DES, EXPORT, NULL and anonymous suites are refused (hand-built ClientHello)', async () => {
  const failures: string[] = [];
  for (const l of listeners) {
    for (const [family, suites] of LEGACY_FAMILIES) {
      const a = await hello(l.port, suites);
      if ('chosen' in a) failures.push(`${l.name}: ${family} accepted: ${hex(a.chosen)}`);
      else if (!('alert' in a)) failures.push(`${l.name}: ${family}: closed without an alert`);
    }
  }
  assert.ok(failures.length === 0, `\n${failures.join('\n')}`);
});

test('SSL 3.0, TLS 1.0 and TLS 1.1 ClientHellos are refused with an alert (hand-built ClientHello)', async () => {
  const failures: string[] = [];
  for (const l of listeners) {
    for (const [name, version] of [
      ['SSL 3.0', 0x0300],
      ['TLS 1.0', 0x0301],
      ['TLS 1.1', 0x0302],
    ] as const) {
      const a = await hello(l.port, ALL_SUITES, version);
      if ('chosen' in a) failures.push(`${l.name}: ${name} accepted (${hex(a.version)}, ${hex(a.chosen)})`);
      else if (!('alert' in a)) failures.push(`${l.name}: ${name}: closed without an alert`);
    }
  }
  assert.ok(failures.length === 0, `\n${failures.join('\n')}`);
});

test('every TLS 1.2 suite the server accepts, enumerated from all code points, is ECDHE with AEAD', async () => {
  const names = suiteNames();
  const failures: string[] = [];
  for (const l of listeners) {
    let offer = [...ALL_SUITES];
    const accepted: number[] = [];
    for (let round = 0; round < 100; round++) {
      const a = await hello(l.port, offer);
      if (!('chosen' in a)) break;
      assert.is(a.version, 0x0303, `${l.name}: TLS 1.2`);
      accepted.push(a.chosen);
      offer = offer.filter((s) => s !== a.chosen);
    }
    const weak = accepted.filter((s) => !ECDHE_AEAD.has(s));
    if (weak.length > 0)
      failures.push(
        `${l.name}: accepted ${weak.map((s) => `${names.get(s) ?? '?'} (${hex(s)})`).join(', ')}`,
      );
    if (accepted.length === 0) failures.push(`${l.name}: no TLS 1.2 suite accepted at all`);
  }
  assert.ok(failures.length === 0, `\n${failures.join('\n')}`);
});

test.run();
