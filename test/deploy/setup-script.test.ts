/**
 * The instance setup script of the gateway's cloud-init (setupScript and
 * SETUP_HELPERS in src/deploy/template.ts), RUN for real with bash in a
 * sandbox: the template is built, its cloud-init parsed back, its write_files
 * written under a temp root (absolute paths of the script rewritten to that
 * root), and setup.sh run with stubs first on PATH for what an Azure instance
 * has and a test machine must not touch: curl (IMDS, storage, Key Vault),
 * systemctl, useradd, id, chown, hostname and sleep (returns at once, so the
 * 15 s retry waits take no time). python3, sha256sum, base64 and install are
 * the real ones. Each case checks the exit code, the files written, and
 * CMGSetup.log read back with the log parser.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse as parseYaml } from 'yaml';
import {
  type ArmResource,
  buildTemplate,
  resourceNames,
  SETUP_HELPERS,
  type TemplateInput,
} from '../../src/deploy/template.js';
import { LogParser, type ParsedEntry } from '../../src/logs/parse.js';
import { templateInput } from '../helpers/deploy-fixtures.js';

const input = templateInput;

const NAMES = resourceNames(input());
const BLOB = `https://${NAMES.storageAccount}.blob.core.windows.net`;
const VAULT = `https://${NAMES.keyVault}.vault.azure.net`;
const ARTIFACT_URL = `${BLOB}/artifacts/cmg-0.1.0`;
const UPLOAD_URL = `${BLOB}/logs/inst-0/CMGSetup.log`;

/** The cmg "binary": a tiny script whose --version answers as cmg does. */
const GOOD_BINARY =
  '#!/bin/sh\nif [ "$1" = --version ]; then echo "cmg/0.1.0 linux-x64"; exit 0; fi\nexit 0\n';
/** One that does not run here (as a binary for another system would fail). */
const BAD_BINARY = '#!/bin/sh\necho "cannot execute binary file: Exec format error" >&2\nexit 1\n';
const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

/** Bytes of the web certificate (binary, as a PFX is) and its passphrase: a quote, a backslash, a space and a dollar. */
const PFX = Buffer.concat([Buffer.from([0x30, 0x82, 0x00, 0x00, 0xff, 0x0a, 0x0d]), randomBytes(1200)]);
const PASSPHRASE = 'p"a\\ss $HOME';

/** Paths of the instance the script writes or runs, rewritten to the sandbox root. */
const INSTANCE_PATHS = /\/(?:etc\/cmg|var\/log\/cmg|usr\/local\/bin|usr\/local\/lib\/cmg)(?=\/|\b)/g;

/**
 * The real python3, by its interpreter's path: the system's, as on an Ubuntu
 * instance, when there is one. A version manager's (pyenv: a shim, and site
 * packages loaded at start) costs 70-150 ms a call, and the Key Vault case
 * makes 120 calls.
 */
const python = spawnSync(
  existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3',
  ['-c', 'import sys; print(sys.executable)'],
  { encoding: 'utf8' },
);
const pythonPath = python.stdout?.trim() ?? '';
const havePython = python.status === 0 && pythonPath !== '';
if (!havePython)
  console.warn(
    'setup-script.test.ts: SKIPPED the runs of setup.sh: no python3 on this machine (every Ubuntu image has one)',
  );
const run = havePython ? test : test.skip;

/** The stub curl: answers IMDS, storage and Key Vault by URL, records every call; STUB_FAIL_URL fails STUB_FAIL_TIMES times. */
const CURL_STUB = String.raw`#!/bin/bash
set -u
out= data= method=GET url= auth=none
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out=$2; shift 2 ;;
    -X) method=$2; shift 2 ;;
    -H) case "$2" in Authorization:*) auth=$(printf %s "$2" | cut -d' ' -f2-) ;; Metadata:true) auth=metadata ;; esac; shift 2 ;;
    --data-binary) data=$2; shift 2 ;;
    --retry) shift 2 ;;
    -*) shift ;;
    *) url=$1; shift ;;
  esac
done
echo "curl $method $url auth=$auth" >> "$STUB_STATE/calls"
if [ -n "$STUB_FAIL_URL" ] && [[ "$url" == *"$STUB_FAIL_URL"* ]]; then
  n=$(cat "$STUB_STATE/failures" 2>/dev/null || echo 0)
  if [ "$n" -lt "$STUB_FAIL_TIMES" ]; then
    echo $((n + 1)) > "$STUB_STATE/failures"
    echo "curl: (22) The requested URL returned error: 403" >&2
    exit 22
  fi
fi
case "$url" in
  http://169.254.169.254/metadata/identity/oauth2/token\?*)
    printf '%s' '{"access_token":"tok","expires_in":"3599"}' ;;
  "$STUB_ARTIFACT_URL")
    [ "$auth" = "$STUB_ARTIFACT_AUTH" ] || { echo "curl: (22) The requested URL returned error: 401" >&2; exit 22; }
    cat "$STUB_ARTIFACT" > "$out" ;;
  "$STUB_VAULT/secrets/web-certificate?api-version=7.4")
    [ "$auth" = "Bearer tok" ] || exit 22
    printf '{"value":"%s"}' "$(base64 -w0 "$STUB_PFX")" ;;
  "$STUB_VAULT/secrets/web-certificate-passphrase?api-version=7.4")
    [ "$auth" = "Bearer tok" ] || exit 22
    cat "$STUB_PASSPHRASE_JSON" ;;
  "$STUB_UPLOAD_URL")
    [ "$method" = PUT ] && [ "$auth" = "Bearer tok" ] && [[ "$data" == @* ]] || exit 22
    cat "$(printf %s "$data" | cut -c2-)" > "$STUB_STATE/uploaded.log" ;;
  *)
    echo "curl: (6) Could not resolve host: $url" >&2
    exit 6 ;;
esac
`;

/** Stubs that record their call and do nothing else (id: the user cmg does not exist yet). */
const RECORDING_STUBS: Record<string, string> = {
  systemctl: 'exit 0',
  useradd: 'exit 0',
  chown: 'exit 0',
  id: 'exit 1',
  sleep: 'exit 0',
  hostname: 'echo inst-0',
};

interface Run {
  status: number | null;
  stderr: string;
  root: string;
  /** Every stub call, one line each: `name args...`. */
  calls: string[];
  log: string;
  entries: ParsedEntry[];
  /** What the stub storage received for logs/inst-0/CMGSetup.log, if anything. */
  uploaded: string | undefined;
  setup: string;
}

const sandboxes: string[] = [];

/** cloud-init's user data of the template built from `over`: its write_files. */
function writeFiles(over: Partial<TemplateInput>) {
  const t = buildTemplate(input(over));
  const vmss = t.resources.find((r) => r.type === 'Microsoft.Compute/virtualMachineScaleSets') as ArmResource;
  const userData = Buffer.from(
    (vmss.properties as { virtualMachineProfile: { osProfile: { customData: string } } })
      .virtualMachineProfile.osProfile.customData,
    'base64',
  ).toString('utf8');
  assert.ok(userData.startsWith('#cloud-config\n'));
  const doc = parseYaml(userData) as {
    write_files: { path: string; content: string; encoding?: string; permissions: string }[];
    runcmd: string[][];
  };
  assert.equal(doc.runcmd, [['/usr/local/lib/cmg/setup.sh']]);
  return doc.write_files;
}

/**
 * Materializes the instance under a temp root and runs setup.sh as runcmd
 * would. `binary`: what storage serves; `sha`: the SHA-256 the template
 * expects (by default that of `binary`).
 */
function runSetup(
  opts: {
    binary?: string;
    sha?: string;
    failUrl?: string;
    failTimes?: number;
    /** Served from this public URL (artifact kind 'url') rather than from the deployment's storage. */
    publicUrl?: string;
    /** Stub bodies replacing those of RECORDING_STUBS. */
    stubs?: Record<string, string>;
  } = {},
): Run {
  const binary = opts.binary ?? GOOD_BINARY;
  const root = mkdtempSync(join(tmpdir(), 'cmg-setup-'));
  sandboxes.push(root);
  const bin = join(root, 'stub-bin');
  const state = join(root, 'stub-state');
  mkdirSync(bin);
  mkdirSync(state);

  const sha = opts.sha ?? sha256(binary);
  const files = writeFiles({
    artifact: opts.publicUrl
      ? { kind: 'url', url: opts.publicUrl, sha256: sha }
      : { kind: 'storage', container: 'artifacts', blob: 'cmg-0.1.0', sha256: sha },
  });
  const toRoot = (text: string) => text.replace(INSTANCE_PATHS, (p) => `${root}${p}`);
  let setup = '';
  for (const f of files) {
    let content: string | Buffer = f.encoding === 'b64' ? Buffer.from(f.content, 'base64') : f.content;
    if (f.path === '/usr/local/lib/cmg/setup.sh' || f.path in SETUP_HELPERS) {
      const rewritten = toRoot(content as string);
      if (f.path === '/usr/local/lib/cmg/setup.sh') {
        assert.is.not(rewritten, content, 'setup.sh has instance paths to rewrite');
        // Every instance path now under the root, none left behind.
        const left = rewritten
          .replaceAll(root, '<ROOT>')
          .match(/(?<!<ROOT>)\/(?:etc\/cmg|var\/log\/cmg|usr\/local\/(?:bin|lib\/cmg))/g);
        assert.is(left, null, `instance paths left in setup.sh: ${left}`);
        assert.ok(rewritten.includes(`${root}/usr/local/lib/cmg/jsonfield.py`));
        assert.ok(rewritten.includes(`LOG=${root}/var/log/cmg/CMGSetup.log`));
        setup = rewritten;
      }
      content = rewritten;
    }
    const at = join(root, f.path);
    mkdirSync(dirname(at), { recursive: true });
    writeFileSync(at, content);
    chmodSync(at, Number.parseInt(f.permissions, 8));
  }
  assert.ok(setup, 'setup.sh is among write_files');
  for (const helper of Object.keys(SETUP_HELPERS)) assert.ok(existsSync(join(root, helper)), helper);
  mkdirSync(join(root, 'usr/local/bin'), { recursive: true });

  symlinkSync(pythonPath, join(bin, 'python3'));
  writeFileSync(join(bin, 'curl'), CURL_STUB, { mode: 0o755 });
  for (const [name, body] of Object.entries({ ...RECORDING_STUBS, ...opts.stubs }))
    writeFileSync(join(bin, name), `#!/bin/bash\necho "${name} $*" >> "$STUB_STATE/calls"\n${body}\n`, {
      mode: 0o755,
    });
  writeFileSync(join(state, 'artifact'), binary);
  writeFileSync(join(state, 'web.pfx'), PFX);
  writeFileSync(join(state, 'passphrase.json'), JSON.stringify({ value: PASSPHRASE }));

  const r = spawnSync('bash', [join(root, 'usr/local/lib/cmg/setup.sh')], {
    cwd: root,
    encoding: 'utf8',
    timeout: 20_000,
    env: {
      PATH: `${bin}:${process.env.PATH}`,
      HOME: '/home/should-not-expand',
      LANG: 'C.UTF-8',
      STUB_STATE: state,
      STUB_ARTIFACT: join(state, 'artifact'),
      STUB_ARTIFACT_URL: opts.publicUrl ?? ARTIFACT_URL,
      STUB_ARTIFACT_AUTH: opts.publicUrl ? 'none' : 'Bearer tok',
      STUB_PFX: join(state, 'web.pfx'),
      STUB_PASSPHRASE_JSON: join(state, 'passphrase.json'),
      STUB_VAULT: VAULT,
      STUB_UPLOAD_URL: UPLOAD_URL,
      STUB_FAIL_URL: opts.failUrl ?? '',
      STUB_FAIL_TIMES: String(opts.failTimes ?? 0),
    },
  });
  const read = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : undefined);
  const log = read(join(root, 'var/log/cmg/CMGSetup.log')) ?? '';
  const parser = new LogParser('CMGSetup.log');
  const entries = [...parser.push(log), ...parser.end()];
  return {
    status: r.status,
    stderr: `${r.stderr}${r.error ? String(r.error) : ''}`,
    root,
    calls: (read(join(state, 'calls')) ?? '').split('\n').filter(Boolean),
    log,
    entries,
    uploaded: read(join(state, 'uploaded.log')),
    setup,
  };
}

const texts = (r: Run, type?: ParsedEntry['type']) =>
  r.entries.filter((e) => type === undefined || e.type === type).map((e) => e.text);

/** What every run's log has: CMTrace lines of CMGSetup/setup.sh, each read as such, none with a token. */
function checkLog(r: Run) {
  assert.ok(r.entries.length > 0, 'CMGSetup.log has entries');
  const lines = r.log.split('\n').filter(Boolean);
  assert.is(r.entries.length, lines.length, 'one entry per line');
  for (const e of r.entries) {
    assert.is(e.component, 'CMGSetup');
    assert.is(e.file, 'setup.sh');
    assert.ok(
      e.time instanceof Date && Math.abs(e.time.getTime() - Date.now()) < 5 * 60_000,
      'a time of now',
    );
  }
  assert.not.match(r.log, /tok|Bearer/, 'no token in the log');
  assert.is(texts(r)[0], `setup of cmg.contoso.com (scale set ${NAMES.scaleSet}) started`);
}

/** The log was uploaded to logs/<host>/CMGSetup.log, complete (the upload is the script's last step). */
function checkUploaded(r: Run) {
  assert.ok(r.calls.includes(`curl PUT ${UPLOAD_URL} auth=Bearer tok`), r.calls.join('\n'));
  assert.is(r.uploaded, r.log, 'the uploaded log is CMGSetup.log as it ends');
}

const mode = (p: string) => statSync(p).mode & 0o777;
const calledWith = (r: Run, prefix: string) => r.calls.filter((c) => c.startsWith(prefix));

run('happy path: cmg installed, certificate and passphrase in place, service started, log uploaded', () => {
  const r = runSetup();
  assert.is(r.status, 0, r.stderr);
  const etc = join(r.root, 'etc/cmg');
  assert.ok(readFileSync(join(etc, 'web.pfx')).equals(PFX), 'web.pfx is the PFX bytes');
  assert.is(
    readFileSync(join(etc, 'cmg-gateway.env'), 'utf8'),
    'CMG_WEB_PFX_PASSPHRASE="p\\"a\\\\ss $HOME"\n',
    'escaped for systemd EnvironmentFile, nothing expanded',
  );
  assert.is(mode(join(etc, 'web.pfx')), 0o600, 'the PFX readable by its owner only');
  assert.is(mode(join(etc, 'cmg-gateway.env')), 0o600, 'the passphrase readable by its owner only');
  const cmg = join(r.root, 'usr/local/bin/cmg');
  assert.is(readFileSync(cmg, 'utf8'), GOOD_BINARY);
  assert.is(mode(cmg), 0o755);
  assert.not.ok(existsSync(join(r.root, 'usr/local/bin/cmg.download')), 'the download is removed');

  assert.equal(calledWith(r, 'systemctl'), ['systemctl daemon-reload', 'systemctl enable --now cmg-gateway']);
  assert.equal(calledWith(r, 'useradd'), ['useradd --system --no-create-home --shell /usr/sbin/nologin cmg']);
  assert.equal(calledWith(r, 'chown'), [`chown -R cmg:cmg ${r.root}/etc/cmg ${r.root}/var/log/cmg`]);
  assert.equal(calledWith(r, 'sleep'), [], 'no retry');
  // The tokens: storage's resource for the artifact and the log, Key Vault's for the secrets.
  const imds = calledWith(r, 'curl GET http://169.254.169.254/');
  assert.ok(imds.every((c) => c.endsWith('auth=metadata')));
  assert.equal(
    imds.map((c) => /resource=(\S+) /.exec(c)?.[1]),
    ['https://storage.azure.com/', 'https://vault.azure.net', 'https://storage.azure.com/'],
  );
  assert.ok(r.calls.includes(`curl GET ${ARTIFACT_URL} auth=Bearer tok`));
  assert.ok(r.calls.includes(`curl GET ${VAULT}/secrets/web-certificate?api-version=7.4 auth=Bearer tok`));

  checkLog(r);
  assert.equal(texts(r, 'warning'), []);
  assert.equal(texts(r, 'error'), []);
  assert.equal(texts(r), [
    `setup of cmg.contoso.com (scale set ${NAMES.scaleSet}) started`,
    'downloading cmg',
    'cmg/0.1.0 linux-x64 installed',
    `reading the web certificate from Key Vault ${NAMES.keyVault}`,
    'starting cmg serve',
    'setup done',
  ]);
  checkUploaded(r);
});

run('storage answers 403 three times (role assignment not there yet), then the download works', () => {
  const r = runSetup({ failUrl: ARTIFACT_URL, failTimes: 3 });
  assert.is(r.status, 0, r.stderr);
  checkLog(r);
  assert.equal(texts(r, 'warning'), [
    'download failed (attempt 1 of 60): retrying in 15 s',
    'download failed (attempt 2 of 60): retrying in 15 s',
    'download failed (attempt 3 of 60): retrying in 15 s',
  ]);
  assert.equal(calledWith(r, 'sleep'), ['sleep 15', 'sleep 15', 'sleep 15']);
  assert.is(calledWith(r, `curl GET ${ARTIFACT_URL}`).length, 4);
  assert.equal(texts(r, 'error'), []);
  assert.ok(texts(r).includes('cmg/0.1.0 linux-x64 installed'));
  assert.is(texts(r).at(-1), 'setup done');
  assert.equal(calledWith(r, 'systemctl enable'), ['systemctl enable --now cmg-gateway']);
  checkUploaded(r);
});

run('Key Vault fails for good: exit 1 after 60 attempts, the error logged, the log still uploaded', () => {
  const r = runSetup({ failUrl: `${VAULT}/secrets/web-certificate?`, failTimes: 1000 });
  assert.is(r.status, 1, r.stderr);
  checkLog(r);
  const warnings = texts(r, 'warning');
  // A retry is announced before each wait: 59 of them; the 60th failure is the error.
  assert.is(warnings.length, 59);
  for (const [i, w] of warnings.entries())
    assert.match(w, new RegExp(`^secrets failed \\(attempt ${i + 1} of 60\\)`));
  assert.is(calledWith(r, `curl GET ${VAULT}/secrets/web-certificate?`).length, 60);
  assert.equal(texts(r, 'error'), [`could not read the web certificate from Key Vault ${NAMES.keyVault}`]);
  assert.is(r.entries.at(-1)?.type, 'error', 'the error is the last line');
  assert.equal(calledWith(r, 'systemctl'), [], 'nothing started');
  assert.not.ok(existsSync(join(r.root, 'etc/cmg/cmg-gateway.env')), 'no passphrase file');
  checkUploaded(r);
});

run('a wrong SHA-256 (the blob replaced): exit 1, the error logged and uploaded, nothing installed', () => {
  const r = runSetup({ binary: `${GOOD_BINARY}# replaced\n`, sha: sha256(GOOD_BINARY) });
  assert.is(r.status, 1, r.stderr);
  checkLog(r);
  assert.equal(texts(r, 'error'), [`the downloaded cmg does not have SHA-256 ${sha256(GOOD_BINARY)}`]);
  assert.is(r.entries.at(-1)?.type, 'error');
  assert.not.ok(existsSync(join(r.root, 'usr/local/bin/cmg')), 'cmg not installed');
  assert.not.ok(existsSync(join(r.root, 'etc/cmg/web.pfx')), 'Key Vault not read');
  assert.equal(calledWith(r, 'systemctl'), []);
  assert.equal(calledWith(r, `curl GET ${VAULT}`), []);
  checkUploaded(r);
});

run(
  'a binary that does not run here: exit 1, "cmg does not run on this instance", systemctl never called',
  () => {
    const r = runSetup({ binary: BAD_BINARY });
    assert.is(r.status, 1, r.stderr);
    checkLog(r);
    assert.equal(texts(r, 'error'), ['cmg does not run on this instance (a binary for another system?)']);
    assert.is(r.entries.at(-1)?.type, 'error');
    assert.equal(calledWith(r, 'systemctl'), []);
    assert.equal(calledWith(r, `curl GET ${VAULT}`), [], 'Key Vault not read');
    checkUploaded(r);
  },
);

run('an unexpected failure (chown fails): the ERR trap logs the line and exit code, uploads, exits', () => {
  const r = runSetup({ stubs: { chown: 'echo "chown: invalid user: cmg:cmg" >&2; exit 1' } });
  assert.is(r.status, 1, r.stderr);
  checkLog(r);
  const line = r.setup.split('\n').findIndex((l) => l.startsWith('chown -R cmg:cmg ')) + 1;
  assert.ok(line > 0);
  assert.equal(texts(r, 'error'), [`setup failed at line ${line} (exit 1); see journalctl -u cloud-final`]);
  assert.is(r.entries.at(-1)?.type, 'error');
  assert.not.ok(texts(r).includes('starting cmg serve'));
  assert.equal(calledWith(r, 'systemctl'), []);
  checkUploaded(r);
});

run(
  "artifact kind 'url': downloaded from its URL (quotes and & kept) without a token, then the same setup",
  () => {
    const url = "https://downloads.contoso.com/cmg?v=1&x=it's";
    const r = runSetup({ publicUrl: url });
    assert.is(r.status, 0, r.stderr);
    assert.ok(r.calls.includes(`curl GET ${url} auth=none`), r.calls.join('\n'));
    assert.equal(
      calledWith(r, 'curl GET http://169.254.169.254/').map((c) => /resource=(\S+) /.exec(c)?.[1]),
      ['https://vault.azure.net', 'https://storage.azure.com/'],
      'no storage token for the download',
    );
    assert.is(readFileSync(join(r.root, 'usr/local/bin/cmg'), 'utf8'), GOOD_BINARY);
    checkLog(r);
    assert.equal(texts(r, 'error'), []);
    assert.is(texts(r).at(-1), 'setup done');
    assert.equal(calledWith(r, 'systemctl enable'), ['systemctl enable --now cmg-gateway']);
    checkUploaded(r);
  },
);

test('setup.sh: bash -n, and shellcheck finds no errors (when shellcheck is installed)', () => {
  for (const artifact of [
    input().artifact,
    { kind: 'url' as const, url: "https://downloads.contoso.com/cmg?v=1&x=it's", sha256: 'b'.repeat(64) },
  ]) {
    const setup = writeFiles({ artifact }).find((f) => f.path === '/usr/local/lib/cmg/setup.sh')
      ?.content as string;
    const n = spawnSync('bash', ['-n'], { input: setup, encoding: 'utf8' });
    assert.is(n.status, 0, n.stderr);
    const sc = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });
    if (sc.error || sc.status !== 0) {
      if (artifact.kind === 'storage')
        console.warn('setup-script.test.ts: shellcheck not installed, SKIPPED');
      continue;
    }
    const r = spawnSync('shellcheck', ['--shell=bash', '--severity=error', '-'], {
      input: setup,
      encoding: 'utf8',
    });
    assert.is(r.status, 0, `shellcheck (${artifact.kind} artifact):\n${r.stdout}${r.stderr}`);
  }
});

test.after(() => {
  for (const root of sandboxes) rmSync(root, { recursive: true, force: true });
});

test.run();
