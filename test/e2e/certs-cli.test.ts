/**
 * `cmg certs` end to end: the built CLI as real processes in temp folders, and the real openssl
 * binary to judge what it writes. Each test has its own folder; tests that only need a finished lab
 * PKI get a copy of one made once (RSA, as `cmg certs lab` makes it by default).
 */
import { spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { InspectedFile, RootsExportResult, VerifyFilesResult } from '../../src/certs/examine.js';
import type { CrlResult, MadeCertificate, PfxConversion, WebRequestResult } from '../../src/certs/make.js';
import type { WebCheckResult } from '../../src/certs/web-check.js';
import { type CliResult, runCli } from '../helpers/cli.js';

// ---------------------------------------------------------------- helpers

/** Generous: an RSA lab takes about 3 s, a loaded CI machine more. */
const TIMEOUT_MS = 120_000;
const SERVICE = 'cmg.contoso.com';
const PASS_VAR = 'CMG_TEST_PFX_PASS';
const PASS = 'correct horse battery staple';
const PASS_ENV = { [PASS_VAR]: PASS };

interface LabJson {
  outDir: string;
  gatewayConfig: string;
  connectorConfigs: { id: string; file: string }[];
  certificates: { file: string; subject: string; thumbprint: string }[];
  files: { path: string; mode: string }[];
}
type WebCheckJson = WebCheckResult & { file: string };
interface ErrorJson {
  error?: { code: string; message: string };
}
interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Command words: `w('certs issue --type client')`; arguments with spaces are added as array items. */
const w = (words: string): string[] => words.split(/\s+/).filter(Boolean);

let dir = '';
/** A path in the current test's folder. */
const p = (...parts: string[]) => join(dir, ...parts);

function cmg(args: string[], options: RunOptions = {}): Promise<CliResult> {
  return runCli(args, { cwd: options.cwd ?? dir, env: options.env ?? {}, timeoutMs: TIMEOUT_MS });
}

function parse<T>(r: CliResult, what: string): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`${what}: stdout is not one JSON document (exit ${r.code})\n${r.stdout}\n${r.stderr}`);
  }
}

/** Runs `cmg ARGS --json`, asserts exit `exit` (0 unless said) and returns the document. */
async function cmgJson<T>(args: string[], options: RunOptions & { exit?: number } = {}): Promise<T> {
  const r = await cmg([...args, '--json'], options);
  assert.is(r.code, options.exit ?? 0, `cmg ${args.join(' ')}\n${r.stderr}${r.stdout}`);
  return parse<T>(r, `cmg ${args.join(' ')}`);
}

/** What a failing `cmg ARGS --json` printed. */
interface Failure {
  exit: number | null;
  code: string | undefined;
  message: string;
  stderr: string;
}

async function runFailing(args: string[], options: RunOptions = {}): Promise<Failure> {
  const r = await cmg([...args, '--json'], options);
  let error: ErrorJson['error'];
  try {
    error = (JSON.parse(r.stdout) as ErrorJson).error;
  } catch {
    error = undefined;
  }
  return { exit: r.code, code: error?.code, message: error?.message ?? '', stderr: r.stderr };
}

/** What is wrong with a failure that should exit `exit` with error `code` (or a code matching it); '' if nothing. */
function failureProblem(f: Failure, exit: number, code: string | RegExp): string {
  const codeOk = f.code !== undefined && (typeof code === 'string' ? f.code === code : code.test(f.code));
  if (f.exit !== exit || !codeOk) {
    return `expected exit ${exit} and ${code}, got exit ${f.exit} and ${f.code ?? 'no error document'}`;
  }
  if (!f.stderr.startsWith('Error: ')) return `stderr does not start with "Error: ": ${f.stderr}`;
  if (/\n\s+at /.test(f.stderr)) return `a stack trace was printed: ${f.stderr}`;
  return '';
}

/** Runs `cmg ARGS --json`, asserting exit `exit` and error `code`. */
async function cmgFails(args: string[], exit: number, code: string | RegExp, options: RunOptions = {}) {
  const f = await runFailing(args, options);
  assert.is(failureProblem(f, exit, code), '', `cmg ${args.join(' ')}`);
  return f;
}

/** The real openssl binary, in the test folder unless said; `out` is its stdout and stderr. */
function openssl(args: string[], options: RunOptions = {}): { status: number; out: string } {
  const run = spawnSync('openssl', args, {
    cwd: options.cwd ?? dir,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (run.error)
    throw new Error(`openssl ${args.join(' ')}: ${run.error.message} (these tests need openssl)`);
  return { status: run.status ?? -1, out: `${run.stdout}${run.stderr}` };
}

function opensslOk(args: string[], options: RunOptions = {}): string {
  const r = openssl(args, options);
  assert.is(r.status, 0, `openssl ${args.join(' ')}\n${r.out}`);
  return r.out;
}

/** SHA-1 fingerprint of the (first) certificate of a file as openssl prints it, without colons. */
function fingerprint(file: string, inform: 'PEM' | 'DER' = 'PEM', options: RunOptions = {}): string {
  const out = opensslOk([...w(`x509 -inform ${inform} -noout -fingerprint -sha1 -in`), file], options);
  const m = /Fingerprint=([0-9A-F:]+)/i.exec(out);
  if (!m?.[1]) throw new Error(`no fingerprint in: ${out}`);
  return m[1].replaceAll(':', '').toUpperCase();
}

/** SHA-1 thumbprints of every certificate in a PEM text, in order (read by node:crypto, not by cmg). */
function pemThumbprints(text: string): string[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b).fingerprint.replaceAll(':', '').toUpperCase());
}

const pemFileThumbprints = (file: string) => pemThumbprints(readFileSync(file, 'latin1'));

/** The public key of a private key file, and of a certificate file, as openssl writes them. */
const publicKeyOfKey = (file: string) => opensslOk(['pkey', '-pubout', '-in', file]);
const publicKeyOfCert = (file: string) => opensslOk(['x509', '-noout', '-pubkey', '-in', file]);

const modeOf = (file: string) => statSync(file).mode & 0o777;

/** Every file under `root` with its content hash, mtime and mode, sorted: to prove that nothing changed. */
function snapshot(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((rel) => statSync(join(root, rel)).isFile())
    .sort()
    .map((rel) => {
      const st = statSync(join(root, rel));
      const hash = createHash('sha256')
        .update(readFileSync(join(root, rel)))
        .digest('hex');
      return `${rel} ${hash} ${st.mtimeMs} ${(st.mode & 0o777).toString(8)}`;
    });
}

/** The files a lab with connection points `cps` holds. */
function labFileNames(cps: string[]): string[] {
  const cas = ['client-root', 'client-issuing', 'web-root', 'channel-ca', 'corp-root'];
  const certs = [...cas, 'client', 'web', 'mp', ...cps];
  return [
    ...certs.flatMap((c) => [`${c}.pem`, `${c}.key`]),
    ...cas.map((c) => `${c}.crl`),
    'gateway.json',
    ...cps.map((c) => `connector-${c}.json`),
  ].sort();
}

/** The failing lines of a web check, as [check, codes]. */
const failingLines = (r: WebCheckResult) =>
  r.checks.filter((c) => !c.ok).map((c) => [c.check, c.problems.map((x) => x.code)]);

// ---------------------------------------------------------------- folders

let sharedLab = '';

test.before(async () => {
  sharedLab = mkdtempSync(join(tmpdir(), 'cmg-certs-lab-'));
  const r = await runCli(['certs', 'lab', '--out', join(sharedLab, 'lab')], { timeoutMs: TIMEOUT_MS });
  if (r.code !== 0) throw new Error(`the shared lab could not be made: ${r.stderr}`);
});
test.after(() => rmSync(sharedLab, { recursive: true, force: true }));
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'cmg-certs-cli-'));
});
test.after.each(() => {
  rmSync(dir, { recursive: true, force: true });
  dir = '';
});

/** A copy of the shared lab in this test's folder (or at `to`); returns its path. */
function copyLab(to = p('lab')): string {
  cpSync(join(sharedLab, 'lab'), to, { recursive: true });
  return to;
}

// ---------------------------------------------------------------- certs lab

test('certs lab: the files it lists exist with 0600 keys and 0644 others, its configs pass config check', async () => {
  const out = p('lab');
  const r = await cmg(['certs', 'lab', '--out', out, '--json']);
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stdout + r.stderr, 'PRIVATE KEY');
  const lab = parse<LabJson>(r, 'certs lab');

  assert.equal(readdirSync(out).sort(), labFileNames(['cp01', 'cp02']), 'the lab holds exactly its files');
  assert.equal(
    lab.files.map((f) => basename(f.path)).sort(),
    labFileNames(['cp01', 'cp02']),
    'and lists them',
  );
  for (const f of lab.files) {
    assert.is(f.path, join(out, basename(f.path)), 'absolute paths in the lab folder');
    const wanted = f.path.endsWith('.key') ? 0o600 : 0o644;
    assert.is(modeOf(f.path).toString(8), wanted.toString(8), `mode of ${f.path}`);
    assert.is(f.mode, `0${wanted.toString(8)}`, `listed mode of ${f.path}`);
  }
  for (const c of lab.certificates) assert.is(c.thumbprint, fingerprint(join(out, c.file)), c.file);

  assert.is(lab.gatewayConfig, join(out, 'gateway.json'));
  assert.equal(
    lab.connectorConfigs,
    ['cp01', 'cp02'].map((id) => ({ id, file: join(out, `connector-${id}.json`) })),
  );
  const configs = [
    [lab.gatewayConfig, 'gateway'],
    ...lab.connectorConfigs.map((c) => [c.file, 'connection point']),
  ];
  for (const [file, kind] of configs) {
    const check = await cmg(['config', 'check', file as string]);
    assert.is(check.code, 0, `config check ${file}: ${check.stderr}`);
    assert.is(check.stdout, `${file}: valid ${kind} configuration\n`);
  }
});

test('certs lab --key-type p256: EC keys; a second run is refused and changes nothing; --force replaces the keys', async () => {
  const out = p('lab');
  const args = [...w('certs lab --key-type p256 --connection-points cp07 --out'), out];
  await cmgJson<LabJson>(args);
  assert.equal(readdirSync(out).sort(), labFileNames(['cp07']));
  for (const name of ['web', 'client', 'cp07', 'client-root']) {
    const text = opensslOk([...w('x509 -noout -text -in'), join(out, `${name}.pem`)]);
    assert.match(text, 'ASN1 OID: prime256v1', `${name}.pem has a P-256 key`);
  }
  assert.match(opensslOk([...w('pkey -noout -text -in'), join(out, 'web.key')]), 'prime256v1');

  const before = snapshot(out);
  const again = await cmgFails(args, 2, 'CMG_FILE_EXISTS');
  assert.match(again.message, join(out, 'web.key'));
  assert.equal(snapshot(out), before, 'a refused run changes no file');

  const forced = await cmg([...args, '--force']);
  assert.is(forced.code, 0, forced.stderr);
  assert.not.match(forced.stdout, 'PRIVATE KEY');
  assert.match(forced.stdout, /files written; private keys \(\.key\) have mode 0600/);
  assert.equal(readdirSync(out).sort(), labFileNames(['cp07']), 'the same files');
  const after = snapshot(out);
  for (const name of labFileNames(['cp07']).filter((n) => n.endsWith('.key'))) {
    const hashOf = (snap: string[]) => snap.find((l) => l.startsWith(`${name} `))?.split(' ')[1];
    assert.ok(hashOf(before), name);
    assert.is.not(hashOf(after), hashOf(before), `${name} was replaced`);
    assert.is(modeOf(join(out, name)), 0o600, `mode of the new ${name}`);
  }
});

// ---------------------------------------------------------------- openssl judges the lab

test('openssl verify accepts every chain of the lab, and refuses it where it must', async () => {
  const cwd = copyLab();
  const accepted: [string, string][] = [
    [
      'client.pem',
      '-CAfile client-root.pem -untrusted client-issuing.pem -crl_check_all ' +
        '-CRLfile client-root.crl -CRLfile client-issuing.crl -purpose sslclient',
    ],
    ['web.pem', `-CAfile web-root.pem -purpose sslserver -verify_hostname ${SERVICE}`],
    ['mp.pem', '-CAfile corp-root.pem -purpose sslserver -verify_hostname localhost'],
    ['cp01.pem', '-CAfile channel-ca.pem -purpose sslclient'],
    ['cp02.pem', '-CAfile channel-ca.pem -purpose sslclient'],
  ];
  for (const [file, args] of accepted) {
    assert.match(opensslOk(['verify', ...w(args), file], { cwd }), `${file}: OK`);
  }
  const refused: [string, string][] = [
    ['web.pem', '-CAfile web-root.pem -purpose sslserver -verify_hostname other.contoso.com'],
    ['cp01.pem', '-CAfile channel-ca.pem -purpose sslserver'],
    ['client.pem', '-CAfile web-root.pem -untrusted client-issuing.pem'],
  ];
  for (const [file, args] of refused) {
    assert.is.not(openssl(['verify', ...w(args), file], { cwd }).status, 0, `openssl verify ${args} ${file}`);
  }
});

// ---------------------------------------------------------------- CAs, issuing, CRLs

test('certs ca create and certs issue: a root, a subordinate, and one certificate of each type', async () => {
  const root = await cmgJson<MadeCertificate>([
    ...w('certs ca create --out root --key-type p256 --subject'),
    'CN=Test Root, O=Contoso',
  ]);
  const rc = root.certificate;
  assert.equal([rc.subject, rc.isCA, rc.selfSigned], ['CN=Test Root, O=Contoso', true, true]);
  assert.equal(
    root.files.map((f) => [basename(f.path), f.mode]),
    [
      ['root.pem', '0644'],
      ['root.key', '0600'],
    ],
  );
  assert.is(modeOf(p('root.key')), 0o600);
  assert.is(rc.thumbprint, fingerprint('root.pem'));

  const sub = await cmgJson<MadeCertificate>([
    ...w('certs ca create --out sub --issuer root.pem --path-length 0 --key-type p256 --subject'),
    'CN=Test Issuing CA, O=Contoso',
  ]);
  const sc = sub.certificate;
  assert.equal(
    [sc.issuer, sc.isCA, sc.selfSigned, sc.pathLength],
    ['CN=Test Root, O=Contoso', true, false, 0],
  );
  assert.match(opensslOk(w('verify -CAfile root.pem sub.pem')), 'sub.pem: OK');

  const types = [
    {
      type: 'client',
      args: '--subject CN=client01',
      subject: 'CN=client01',
      san: '',
      verify: '-purpose sslclient',
    },
    {
      type: 'server',
      args: '--dns s1.contoso.com,s2.contoso.com',
      subject: 'CN=s1.contoso.com',
      san: 'DNS:s1.contoso.com, DNS:s2.contoso.com',
      verify: '-purpose sslserver -verify_hostname s2.contoso.com',
    },
    {
      type: 'connection-point',
      args: '--site ps1 --id cp01',
      subject: 'CN=cp01',
      san: 'URI:urn:cmg:site:PS1:connection-point:cp01',
      verify: '-purpose sslclient',
    },
  ];
  for (const t of types) {
    const out = `leaf-${t.type}`;
    const made = await cmgJson<MadeCertificate>(
      w(`certs issue --type ${t.type} --issuer sub.pem --out ${out} --key-type p256 ${t.args}`),
    );
    assert.is(made.certificate.subject, t.subject, t.type);
    assert.is(made.certificate.issuer, 'CN=Test Issuing CA, O=Contoso', t.type);
    assert.is(made.certificate.thumbprint, fingerprint(`${out}.pem`), t.type);
    assert.is(modeOf(p(`${out}.key`)), 0o600, t.type);
    if (t.san) assert.match(opensslOk(w(`x509 -noout -ext subjectAltName -in ${out}.pem`)), t.san, t.type);
    assert.match(
      opensslOk(w(`verify -CAfile root.pem -untrusted sub.pem ${t.verify} ${out}.pem`)),
      `${out}.pem: OK`,
    );
  }

  const cp = await cmgJson<VerifyFilesResult>(
    w(
      'certs verify --cert leaf-connection-point.pem --roots root.pem --intermediates sub.pem ' +
        '--purpose connection-point --site PS1',
    ),
  );
  assert.is(cp.ok, true, JSON.stringify(cp.failures));
  assert.equal(cp.identity, { site: 'PS1', id: 'cp01' });
});

test('certs crl: --revoke makes openssl and certs verify refuse the certificate; --revoke-serial adds and raises the number', async () => {
  await cmgJson(w('certs ca create --out ca --subject CN=RevokingCA --key-type p256'));
  await cmgJson(w('certs issue --type client --issuer ca.pem --out client --key-type p256'));
  await cmgJson(
    w('certs issue --type server --issuer ca.pem --out server --dns srv.contoso.com --key-type p256'),
  );
  const clientSerial = opensslOk(w('x509 -noout -serial -in client.pem')).trim().replace('serial=', '');

  const first = await cmgJson<CrlResult>(
    w('certs crl --ca ca.pem --out ca.crl --revoke client.pem --reason keyCompromise'),
  );
  assert.is(first.crlNumber, 1);
  assert.equal(
    first.entries.map((e) => [e.serialNumber, e.reason]),
    [[clientSerial, 'keyCompromise']],
  );
  assert.is(modeOf(p('ca.crl')), 0o644);

  const opensslClient = w('verify -CAfile ca.pem -crl_check -CRLfile ca.crl -purpose sslclient client.pem');
  const refused = openssl(opensslClient);
  assert.is.not(refused.status, 0, refused.out);
  assert.match(refused.out, 'certificate revoked');
  opensslOk(w('verify -CAfile ca.pem -crl_check -CRLfile ca.crl -purpose sslserver server.pem'));

  const verifyClient = w('certs verify --cert client.pem --roots ca.pem --crl ca.crl --purpose client');
  const verified = await cmgJson<VerifyFilesResult>(verifyClient, { exit: 1 });
  assert.is(verified.ok, false);
  assert.equal(
    verified.failures.map((f) => [f.code, f.depth]),
    [['CMG_CERT_REVOKED', 0]],
  );
  const human = await cmg(verifyClient);
  assert.is(human.code, 1);
  assert.match(human.stdout, /FAILED[\s\S]*CMG_CERT_REVOKED/);
  const server = await cmgJson<VerifyFilesResult>(
    w(
      'certs verify --cert server.pem --roots ca.pem --crl ca.crl --purpose server ' +
        '--service-name srv.contoso.com --require-crl',
    ),
  );
  assert.is(server.ok, true, JSON.stringify(server.failures));

  const second = await cmgJson<CrlResult>(
    w('certs crl --ca ca.pem --out ca.crl --revoke-serial 4f:2a:9c:01'),
  );
  assert.is(second.crlNumber, 2);
  assert.equal(
    second.entries.map((e) => [e.serialNumber, e.reason, e.revocationDate]),
    [
      [clientSerial, 'keyCompromise', first.entries[0]?.revocationDate],
      ['4F2A9C01', undefined, second.entries[1]?.revocationDate],
    ],
    'the first entry is kept as it was',
  );
  assert.match(opensslOk(w('crl -noout -crlnumber -in ca.crl')), /crlNumber=0x0?2\b/);
  assert.match(openssl(opensslClient).out, 'certificate revoked', 'still revoked');

  const [inspected] = await cmgJson<InspectedFile[]>(w('certs inspect ca.crl'));
  assert.equal(
    inspected?.crls.map((c) => [c.issuer, c.crlNumber, c.revoked.map((e) => e.serialNumber)]),
    [['CN=RevokingCA', 2, [clientSerial, '4F2A9C01']]],
  );

  const third = await cmgJson<CrlResult>(w('certs crl --ca ca.pem --out ca.crl --revoke client.pem'));
  assert.equal(
    [third.crlNumber, third.entries.length],
    [3, 2],
    'the same certificate again: no second entry',
  );
});

// ---------------------------------------------------------------- usage errors

interface UsageCase {
  name: string;
  args: string[];
  code: string | RegExp;
}

/**
 * Runs each case in its own copy of the lab (so a case that wrongly writes cannot affect the next):
 * exit 2 with its code, no stack trace, and no file written or changed. Reports every case that fails.
 */
async function assertUsageErrors(cases: UsageCase[]): Promise<void> {
  const failed: string[] = [];
  for (const [i, c] of cases.entries()) {
    const cwd = copyLab(p(`case-${i}`));
    cpSync(join(cwd, 'client-root.pem'), join(cwd, 'lonely-ca.pem'));
    const before = snapshot(cwd);
    const problem = failureProblem(await runFailing(c.args, { cwd }), 2, c.code);
    if (problem) failed.push(`${c.name}: ${problem}`);
    else if (snapshot(cwd).join('\n') !== before.join('\n'))
      failed.push(`${c.name}: files were written or changed`);
  }
  assert.equal(failed, [], `\n${failed.join('\n')}`);
}

const ISSUE = 'certs issue --out x --key-type p256';

test('usage errors: exit 2 with their code, and no file written or changed', async () => {
  await assertUsageErrors([
    {
      name: 'connection point without --site and --id',
      args: w(`${ISSUE} --type connection-point --issuer channel-ca.pem`),
      code: 'CMG_USAGE',
    },
    {
      name: 'connection point with --site only',
      args: w(`${ISSUE} --type connection-point --issuer channel-ca.pem --site PS1`),
      code: 'CMG_USAGE',
    },
    {
      name: 'connection point with a site that is not three characters',
      args: w(`${ISSUE} --type connection-point --issuer channel-ca.pem --site PS01 --id cp9`),
      code: 'CMG_USAGE',
    },
    {
      name: 'server without --dns',
      args: w(`${ISSUE} --type server --issuer corp-root.pem`),
      code: 'CMG_USAGE',
    },
    {
      name: 'an issuer that is not a CA',
      args: w(`${ISSUE} --type client --issuer client.pem`),
      code: 'CMG_CERT_NOT_A_CA',
    },
    {
      name: 'an --issuer-key file that does not exist',
      args: w(`${ISSUE} --type client --issuer client-issuing.pem --issuer-key missing.key`),
      code: 'CMG_CERT_KEY_NOT_FOUND',
    },
    {
      name: 'no key file beside the issuer',
      args: w(`${ISSUE} --type client --issuer lonely-ca.pem`),
      code: 'CMG_CERT_KEY_NOT_FOUND',
    },
    {
      name: 'an unknown --type',
      args: w(`${ISSUE} --type toaster --issuer corp-root.pem`),
      code: 'CMG_USAGE',
    },
    { name: 'no --issuer', args: w(`${ISSUE} --type client`), code: 'CMG_USAGE' },
    {
      name: 'a key type cmg does not make',
      args: w('certs issue --out x --type client --issuer client-issuing.pem --key-type rsa1024'),
      code: 'CMG_USAGE',
    },
    {
      name: 'crl revoking a certificate of another CA',
      args: w('certs crl --ca client-issuing.pem --out client-issuing.crl --revoke web.pem'),
      code: 'CMG_CERT_NOT_ISSUED_BY_CA',
    },
    { name: 'pfx with neither --pfx nor --cert', args: w('certs pfx --out x.pfx'), code: 'CMG_USAGE' },
    { name: 'pfx --cert without --key', args: w('certs pfx --cert web.pem --out x.pfx'), code: 'CMG_USAGE' },
    {
      name: 'inspect a file that does not exist',
      args: w('certs inspect nope.pem'),
      code: 'CMG_CERT_FILE_NOT_FOUND',
    },
  ]);
});

test('bad values are usage errors too: an IP, a subject, a site code, a serial number, a CA key', async () => {
  await assertUsageErrors([
    {
      name: 'issue --ip with something that is not an IP address',
      args: w(`${ISSUE} --type server --issuer corp-root.pem --ip not-an-ip`),
      code: 'CMG_USAGE',
    },
    {
      name: 'ca create --subject with something that is not a distinguished name',
      args: [...w('certs ca create --out x --key-type p256 --subject'), 'not a dn'],
      code: /^CMG_/,
    },
    {
      name: 'lab --site with a site code that is not three characters',
      args: w('certs lab --out newlab --site TOOLONG --key-type p256'),
      code: 'CMG_USAGE',
    },
    {
      name: 'crl --revoke-serial with a serial number that is not hexadecimal',
      args: w('certs crl --ca client-issuing.pem --out client-issuing.crl --revoke-serial zz'),
      code: /^CMG_/,
    },
    {
      name: "issue with an --issuer-key that is another CA's key (it would sign what does not verify)",
      args: w(`${ISSUE} --type client --issuer client-issuing.pem --issuer-key web-root.key`),
      code: /^CMG_/,
    },
    {
      name: "crl with a --ca-key that is another CA's key",
      args: w('certs crl --ca client-issuing.pem --ca-key web-root.key --out other.crl'),
      code: /^CMG_/,
    },
  ]);
});

// ---------------------------------------------------------------- management certificate

test('certs management create: OUT.cer is DER, OUT.pem holds key and certificate with mode 0600', async () => {
  const made = await cmgJson<MadeCertificate>(w('certs management create --out m'));
  assert.equal(
    made.files.map((f) => [basename(f.path), f.mode]),
    [
      ['m.cer', '0644'],
      ['m.pem', '0600'],
    ],
  );
  assert.equal(readdirSync(dir).sort(), ['m.cer', 'm.pem']);
  assert.is(modeOf(p('m.pem')), 0o600);
  assert.is(modeOf(p('m.cer')), 0o644);

  assert.match(opensslOk(w('x509 -inform DER -noout -subject -in m.cer')), 'subject=CN = cmg deploy');
  opensslOk(w('pkey -noout -in m.pem'));
  assert.match(opensslOk(w('x509 -noout -subject -in m.pem')), 'subject=CN = cmg deploy');
  assert.is(publicKeyOfKey('m.pem'), publicKeyOfCert('m.pem'), 'the key belongs to the certificate');
  assert.is(fingerprint('m.cer', 'DER'), fingerprint('m.pem'), 'the same certificate in both files');
  assert.is(made.certificate.thumbprint, fingerprint('m.cer', 'DER'));
  assert.equal(made.certificate.key, { algorithm: 'RSA', bits: 2048 });
  assert.equal(
    made.certificate.extendedKeyUsages.map((e) => e.oid),
    ['1.3.6.1.5.5.7.3.2'],
  );
});

test('certs management create --pfx --passphrase-env: a PFX openssl opens with that passphrase only', async () => {
  const env = { env: PASS_ENV };
  const made = await cmgJson<MadeCertificate>(
    w(`certs management create --out m --pfx --passphrase-env ${PASS_VAR}`),
    env,
  );
  assert.equal(
    made.files.map((f) => basename(f.path)),
    ['m.cer', 'm.pem', 'm.pfx'],
  );
  assert.is(modeOf(p('m.pfx')), 0o600);
  opensslOk(w(`pkcs12 -in m.pfx -info -noout -passin env:${PASS_VAR}`), env);
  const certs = opensslOk(w(`pkcs12 -in m.pfx -nokeys -passin env:${PASS_VAR}`), env);
  assert.equal(pemThumbprints(certs), [fingerprint('m.cer', 'DER')]);
  const wrong = openssl(w(`pkcs12 -in m.pfx -info -noout -passin env:${PASS_VAR}`), {
    env: { [PASS_VAR]: 'x' },
  });
  assert.is.not(wrong.status, 0, 'a wrong passphrase is refused');
});

test('passphrases: none without a source and no terminal; an unset variable; never from an argument', async () => {
  const cases: [string, string, RegExp?][] = [
    ['--pfx', 'CMG_PASSPHRASE_NEEDED'],
    ['--pfx --passphrase-env CMG_TEST_UNSET_VARIABLE', 'CMG_PASSPHRASE_ENV_UNSET'],
    ['--pfx --passphrase secret', 'CMG_USAGE', /--passphrase\b/],
    ['--passphrase secret', 'CMG_USAGE', /--passphrase\b/],
  ];
  for (const [args, code, stderr] of cases) {
    const failure = await cmgFails(w(`certs management create --out m ${args}`), 2, code);
    assert.equal(readdirSync(dir), [], `${args}: no file written`);
    if (stderr) assert.match(failure.stderr, stderr);
  }
});

// ---------------------------------------------------------------- web service certificate

test('certs web request: a CSR openssl verifies, naming the service, and a 0600 key that matches it', async () => {
  const args = w(`certs web request --service-name ${SERVICE} --out w`);
  const made = await cmgJson<WebRequestResult>(args);
  assert.equal([made.subject, made.dns], [`CN=${SERVICE}`, [SERVICE]]);
  assert.equal(
    made.files.map((f) => [basename(f.path), f.mode]),
    [
      ['w.csr', '0644'],
      ['w.key', '0600'],
    ],
  );
  assert.is(modeOf(p('w.key')), 0o600);
  assert.match(opensslOk(w('req -in w.csr -noout -verify')), /verify OK/i);
  const text = opensslOk(w('req -in w.csr -noout -text'));
  assert.match(text, `DNS:${SERVICE}`);
  assert.match(text, `Subject: CN = ${SERVICE}`);
  assert.is(opensslOk(w('req -in w.csr -noout -pubkey')), publicKeyOfKey('w.key'));
  await cmgFails(args, 2, 'CMG_FILE_EXISTS');
});

test('certs web check: the lab web certificate passes; a wrong service name or the system roots fail', async () => {
  const cwd = copyLab();
  const check = (name: string, more = '--roots web-root.pem') =>
    w(`certs web check web.pem --service-name ${name} ${more}`);

  const human = await cmg(check(SERVICE), { cwd });
  assert.is(human.code, 0, human.stderr + human.stdout);
  assert.match(human.stdout, 'passes every rule');
  const passing = await cmgJson<WebCheckJson>(check(SERVICE), { cwd });
  assert.is(passing.ok, true);
  assert.equal(failingLines(passing), []);
  assert.ok(passing.checks.every((c) => c.problems.length === 0));

  const wrongName = await cmgJson<WebCheckJson>(check('portal.contoso.com'), { cwd, exit: 1 });
  assert.is(wrongName.ok, false);
  assert.equal(failingLines(wrongName), [['name', ['CMG_CERT_NAME_MISMATCH']]]);
  const humanFail = await cmg(check('portal.contoso.com'), { cwd });
  assert.is(humanFail.code, 1);
  assert.match(humanFail.stdout, /FAIL name\n\s+CMG_CERT_NAME_MISMATCH/);

  // the system roots do not know the lab's web root
  const system = await cmgJson<WebCheckJson>(check(SERVICE, ''), { cwd, exit: 1 });
  assert.is(system.ok, false);
  assert.ok(
    failingLines(system).some(([line]) => line === 'trust'),
    JSON.stringify(system.checks),
  );
  assert.is(system.checks.find((c) => c.check === 'name')?.ok, true);
});

test('certs web check on PFX files: with its key it passes, without one it fails the privateKey line', async () => {
  const cwd = copyLab();
  const env = PASS_ENV;
  const exportPfx = `pkcs12 -export -in web.pem -certfile web-root.pem -passout env:${PASS_VAR}`;
  opensslOk(w(`${exportPfx} -inkey web.key -out with-key.pfx`), { cwd, env });
  opensslOk(w(`${exportPfx} -nokeys -out no-key.pfx`), { cwd, env });
  const check = (file: string) =>
    w(`certs web check ${file} --service-name ${SERVICE} --roots web-root.pem --passphrase-env ${PASS_VAR}`);

  const good = await cmgJson<WebCheckJson>(check('with-key.pfx'), { cwd, env });
  assert.equal(failingLines(good), []);
  assert.is(good.ok, true);
  const bad = await cmgJson<WebCheckJson>(check('no-key.pfx'), { cwd, env, exit: 1 });
  assert.equal(failingLines(bad), [['privateKey', ['CMG_WEB_KEY_MISSING']]]);
});

// ---------------------------------------------------------------- inspect

test('certs inspect --json reads PEM chains, DER, PKCS#7, PFX and CRLs; thumbprints are openssl fingerprints', async () => {
  const cwd = copyLab();
  const chain = ['client.pem', 'client-issuing.pem', 'client-root.pem'];
  const chainPrints = chain.map((f) => fingerprint(f, 'PEM', { cwd }));
  const webPrints = ['web.pem', 'web-root.pem'].map((f) => fingerprint(f, 'PEM', { cwd }));
  writeFileSync(join(cwd, 'chain.pem'), chain.map((f) => readFileSync(join(cwd, f), 'latin1')).join(''));
  for (const args of [
    'x509 -in web.pem -outform DER -out web.der',
    'crl2pkcs7 -nocrl -certfile chain.pem -out chain.p7b',
    'crl2pkcs7 -nocrl -certfile chain.pem -outform DER -out chain-der.p7b',
    `pkcs12 -export -in web.pem -inkey web.key -certfile web-root.pem -passout env:${PASS_VAR} -out web.pfx`,
    'crl -in client-root.crl -outform DER -out client-root-crl.der',
  ]) {
    opensslOk(w(args), { cwd, env: PASS_ENV });
  }

  const none: string[] = [];
  const expected = [
    { file: 'chain.pem', format: 'pem', key: false, prints: chainPrints, crls: 0 },
    { file: 'web.der', format: 'der', key: false, prints: webPrints.slice(0, 1), crls: 0 },
    { file: 'chain.p7b', format: 'pem', key: false, prints: chainPrints, crls: 0 },
    { file: 'chain-der.p7b', format: 'pkcs7', key: false, prints: chainPrints, crls: 0 },
    { file: 'web.pfx', format: 'pfx', key: true, prints: webPrints, crls: 0 },
    { file: 'client-root.crl', format: 'pem', key: false, prints: none, crls: 1 },
    { file: 'client-root-crl.der', format: 'crl', key: false, prints: none, crls: 1 },
  ];
  const files = await cmgJson<InspectedFile[]>(
    ['certs', 'inspect', ...expected.map((e) => e.file), '--passphrase-env', PASS_VAR],
    { cwd, env: PASS_ENV },
  );
  assert.equal(
    files.map((f) => f.file),
    expected.map((e) => e.file),
  );
  for (const [i, e] of expected.entries()) {
    const f = files[i] as InspectedFile;
    // A PEM file keeps its order; PKCS#7 and PFX containers need not.
    const prints = f.certificates.map((c) => c.thumbprint);
    if (e.file.endsWith('.pem') || e.file.endsWith('.der'))
      assert.equal(prints, e.prints, `${e.file} thumbprints`);
    else assert.equal([...prints].sort(), [...e.prints].sort(), `${e.file} thumbprints`);
    assert.equal([f.format, f.hasPrivateKey, f.crls.length], [e.format, e.key, e.crls], e.file);
    for (const c of f.certificates) assert.match(c.sha256Fingerprint, /^[0-9A-F]{64}$/);
    for (const crl of f.crls) {
      assert.equal(
        [crl.issuer, crl.crlNumber, crl.revoked],
        ['CN=cmg lab client root, O=cmg lab', 1, []],
        e.file,
      );
    }
  }
  assert.not.match(JSON.stringify(files), 'PRIVATE KEY');
});

// ---------------------------------------------------------------- roots export

test('certs roots export: self-signed CAs to the roots file, other CAs to the intermediates, leaves skipped', async () => {
  const lab = copyLab();
  mkdirSync(p('in'));
  const inputs = [
    'client-root.pem',
    'client-issuing.pem',
    'client.pem',
    'web-root.pem',
    'cp01.pem',
    'client.key',
  ];
  for (const f of inputs) cpSync(join(lab, f), p('in', f));
  opensslOk([...w('x509 -outform DER -in'), join(lab, 'channel-ca.pem'), '-out', p('in', 'channel-ca.cer')]);
  writeFileSync(p('in', 'notes.txt'), 'not a certificate\n');
  const prints = (files: string[]) => files.map((f) => fingerprint(join(lab, f))).sort();

  const args = w('certs roots export in --out-roots roots.pem --out-intermediates inter.pem');
  const r = await cmgJson<RootsExportResult>(args);
  const roots = prints(['client-root.pem', 'web-root.pem', 'channel-ca.pem']);
  assert.equal(pemFileThumbprints(p('roots.pem')).sort(), roots, 'the roots file');
  assert.equal(pemFileThumbprints(p('inter.pem')), prints(['client-issuing.pem']), 'the intermediates file');
  assert.equal(r.roots.map((c) => c.thumbprint).sort(), roots);
  assert.equal(
    r.intermediates.map((c) => c.thumbprint),
    prints(['client-issuing.pem']),
  );
  assert.equal(r.skipped.map((c) => c.thumbprint).sort(), prints(['client.pem', 'cp01.pem']));
  assert.equal(r.skipped.map((c) => basename(c.from)).sort(), ['client.pem', 'cp01.pem']);
  assert.equal(
    r.files.map((f) => [basename(f.path), f.mode]),
    [
      ['roots.pem', '0644'],
      ['inter.pem', '0644'],
    ],
  );

  opensslOk([
    ...w('verify -CAfile roots.pem -untrusted inter.pem -purpose sslclient'),
    join(lab, 'client.pem'),
  ]);
  const before = snapshot(dir);
  await cmgFails(args, 2, 'CMG_FILE_EXISTS');
  assert.equal(snapshot(dir), before);
});

// ---------------------------------------------------------------- pfx

test('certs pfx: PEM and key to a PFX openssl opens, and back to the same certificates and a matching 0600 key', async () => {
  const lab = copyLab();
  const webPrints = ['web.pem', 'web-root.pem'].map((f) => fingerprint(join(lab, f)));
  const env = { env: PASS_ENV };
  const passin = w(`-passin env:${PASS_VAR}`);

  const toPfx = await cmgJson<PfxConversion>(
    [
      ...w(`certs pfx --out web.pfx --passphrase-env ${PASS_VAR}`),
      ...['--cert', `${join(lab, 'web.pem')},${join(lab, 'web-root.pem')}`, '--key', join(lab, 'web.key')],
    ],
    env,
  );
  assert.is(toPfx.direction, 'pem-to-pfx');
  assert.equal(
    toPfx.certificates.map((c) => c.thumbprint),
    webPrints,
  );
  assert.is(modeOf(p('web.pfx')), 0o600);
  opensslOk([...w('pkcs12 -in web.pfx -info -noout'), ...passin], env);
  const inPfx = pemThumbprints(opensslOk([...w('pkcs12 -in web.pfx -nokeys'), ...passin], env));
  assert.equal(inPfx.sort(), [...webPrints].sort());
  writeFileSync(p('from-pfx.key'), opensslOk([...w('pkcs12 -in web.pfx -nocerts -nodes'), ...passin], env));
  assert.is(publicKeyOfKey('from-pfx.key'), publicKeyOfCert(join(lab, 'web.pem')), 'the PFX holds the key');
  assert.is.not(openssl(w('pkcs12 -in web.pfx -info -noout -passin pass:wrong')).status, 0);

  writeFileSync(p('pass.txt'), `${PASS}\n`);
  const toPem = await cmgJson<PfxConversion>(
    w('certs pfx --pfx web.pfx --out back --passphrase-file pass.txt'),
  );
  assert.is(toPem.direction, 'pfx-to-pem');
  assert.equal(
    toPem.files.map((f) => [basename(f.path), f.mode]),
    [
      ['back.pem', '0644'],
      ['back.key', '0600'],
    ],
  );
  assert.equal(pemFileThumbprints(p('back.pem')), webPrints, 'the same certificates, leaf first');
  assert.is(modeOf(p('back.key')), 0o600);
  assert.is(publicKeyOfKey('back.key'), publicKeyOfCert('back.pem'), 'the key matches the certificate');
  assert.is(publicKeyOfKey('back.key'), publicKeyOfKey(join(lab, 'web.key')), 'and is the original key');
});

test('certs pfx: a PFX written by openssl converts to PEM; a wrong passphrase writes nothing', async () => {
  const lab = copyLab();
  opensslOk(
    [
      ...w(`pkcs12 -export -in web.pem -inkey web.key -certfile web-root.pem -passout env:${PASS_VAR}`),
      ...['-out', p('o.pfx')],
    ],
    { cwd: lab, env: PASS_ENV },
  );
  const pfx = w(`certs pfx --pfx o.pfx --passphrase-env ${PASS_VAR}`);
  await cmgFails([...pfx, '--out', 'bad'], 1, 'CMG_PFX_BAD_PASSPHRASE', { env: { [PASS_VAR]: 'wrong' } });
  assert.equal(readdirSync(dir).sort(), ['lab', 'o.pfx']);

  await cmgJson<PfxConversion>([...pfx, '--out', 'o'], { env: PASS_ENV });
  assert.equal(
    pemFileThumbprints(p('o.pem')).sort(),
    ['web.pem', 'web-root.pem'].map((f) => fingerprint(join(lab, f))).sort(),
  );
  assert.is(modeOf(p('o.key')), 0o600);
  assert.is(publicKeyOfKey('o.key'), publicKeyOfCert(join(lab, 'web.pem')));
});

test.run();
