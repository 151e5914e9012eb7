import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type GatewayConfig, loadGatewayConfig } from '../../src/config/gateway.js';
import { loadDaemonConfig } from '../../src/config/kind.js';
import { formatKeyPath } from '../../src/config/load.js';
import { type ConfigError, exitCodeFor } from '../../src/errors.js';
import {
  assertAt,
  type ConfigKind,
  configError,
  invalidFile,
  invalidJson,
  issueAt,
  type Json,
  loadDaemon,
  loadUnreadable,
  type Position,
  positionAt,
  readerUid,
  syntaxErrorIn,
  testOneIssue,
  useTempDir,
  valid,
  where,
  withoutSource,
} from '../helpers/config-files.js';

const tmp = useTempDir(test);

const GATEWAY: ConfigKind = {
  module: fileURLToPath(new URL('../../src/config/gateway.ts', import.meta.url)),
  name: 'loadGatewayConfig',
  load: loadGatewayConfig,
  jsonName: 'gateway.json',
  minimal: minimalGateway,
};

// ---------------------------------------------------------------- helpers

/** The smallest valid gateway config; its referenced files are created. */
function minimalGateway(): Json {
  tmp.touch('channel-ca.pem', 'web.pem', 'web.key', 'root.pem');
  return {
    serviceName: 'cmg.contoso.com',
    channel: { caFiles: ['channel-ca.pem'], sites: ['ps1'] },
    tls: { certFile: 'web.pem', keyFile: 'web.key' },
    clientAuth: { trustedRootFiles: ['root.pem'] },
  };
}

/** loadGatewayConfig for a file the test expects to be valid. */
function load(file: string, env: NodeJS.ProcessEnv): GatewayConfig {
  return valid(() => loadGatewayConfig(file, env));
}

/** Writes `config` to gateway.json and loads it: it must be refused with exactly `count` issues. */
function invalid(config: Json, count: number, env: NodeJS.ProcessEnv = {}) {
  return invalidJson(tmp, GATEWAY, config, count, env);
}

/** Writes `text` to gateway.yaml beside the minimal config's files; must be refused with `count` issues. */
function invalidYaml(text: string, count: number): ConfigError {
  tmp.touch('channel-ca.pem', 'web.pem', 'web.key', 'root.pem');
  return invalidFile(loadGatewayConfig, tmp.write('gateway.yaml', text), count);
}

// ---------------------------------------------------------------- valid files

test('minimal JSON file: defaults filled, paths absolute, site codes upper-cased', () => {
  const { file } = tmp.writeJson('gateway.json', minimalGateway());
  const config = load(file, {});
  assert.equal(config, {
    serviceName: 'cmg.contoso.com',
    listen: { host: '0.0.0.0', port: 443 },
    channel: { host: '0.0.0.0', caFiles: [tmp.path('channel-ca.pem')], sites: ['PS1'] },
    tls: { kind: 'pem', certFile: tmp.path('web.pem'), keyFile: tmp.path('web.key') },
    clientAuth: {
      trustedRootFiles: [tmp.path('root.pem')],
      intermediateFiles: [],
      crlFiles: [],
      checkCrl: false,
    },
    limits: {
      maxUrlLength: 4096,
      maxHeaderBytes: 16384,
      defaultMaxContentLength: 10485760,
      requestTimeoutMs: 120000,
      headersTimeoutMs: 30000,
      idleTimeoutMs: 120000,
    },
    admin: { host: '127.0.0.1', port: 9443 },
    logDir: tmp.path('logs'),
    drainSeconds: 30,
    trafficReportSeconds: 300,
    source: file,
  });
  assert.is(config.channel.port, undefined);
});

/** The limits of the full config, none of them a default; the loader keeps them as they are. */
const FULL_LIMITS: GatewayConfig['limits'] = {
  maxUrlLength: 8192,
  maxHeaderBytes: 32768,
  defaultMaxContentLength: 0,
  requestTimeoutMs: 60000,
  headersTimeoutMs: 5000,
  idleTimeoutMs: 90000,
};

/**
 * A full config in the temp dir's conf folder, referencing files beside it, in a sibling folder,
 * and by absolute path.
 */
function fullGateway(): Json {
  tmp.touch(
    'conf/certs/channel-ca.pem',
    'conf/certs/web.pem',
    'conf/certs/web.key',
    'pki/root.pem',
    'abs/intermediate.pem',
    'conf/crl/root.crl',
  );
  return {
    serviceName: 'CMG.contoso.com',
    listen: { host: '::', port: 8443 },
    channel: { host: '10.0.0.5', port: 10140, caFiles: ['certs/channel-ca.pem'], sites: ['ps1', 'Ps2'] },
    tls: { certFile: 'certs/web.pem', keyFile: './certs/web.key' },
    clientAuth: {
      trustedRootFiles: ['../pki/root.pem'],
      intermediateFiles: [tmp.path('abs/intermediate.pem')],
      crlFiles: ['crl/root.crl'],
      checkCrl: true,
    },
    limits: FULL_LIMITS,
    admin: { host: 'localhost', port: 0 },
    logDir: 'var/logs',
    drainSeconds: 5,
    trafficReportSeconds: 60,
  };
}

/** What loading the full config gives: relative paths resolved, site codes upper-cased. */
function expectedFull(source: string): GatewayConfig {
  return {
    serviceName: 'CMG.contoso.com',
    listen: { host: '::', port: 8443 },
    channel: {
      host: '10.0.0.5',
      port: 10140,
      caFiles: [tmp.path('conf/certs/channel-ca.pem')],
      sites: ['PS1', 'PS2'],
    },
    tls: { kind: 'pem', certFile: tmp.path('conf/certs/web.pem'), keyFile: tmp.path('conf/certs/web.key') },
    clientAuth: {
      trustedRootFiles: [tmp.path('pki/root.pem')],
      intermediateFiles: [tmp.path('abs/intermediate.pem')],
      crlFiles: [tmp.path('conf/crl/root.crl')],
      checkCrl: true,
    },
    limits: FULL_LIMITS,
    admin: { host: 'localhost', port: 0 },
    logDir: tmp.path('conf/var/logs'),
    drainSeconds: 5,
    trafficReportSeconds: 60,
    source,
  };
}

test('full JSON file: every value kept, relative paths resolved against the config folder', () => {
  const { file } = tmp.writeJson('conf/gateway.json', fullGateway());
  assert.equal(load(file, {}), expectedFull(file));
});

const FULL_YAML = (absIntermediate: string) => `# the lab gateway
serviceName: CMG.contoso.com
listen:
  host: "::"
  port: 8443
channel:
  host: 10.0.0.5
  port: 10140
  caFiles:
    - certs/channel-ca.pem
  sites: [ps1, Ps2]
tls:
  certFile: certs/web.pem
  keyFile: ./certs/web.key
clientAuth:
  trustedRootFiles:
    - ../pki/root.pem
  intermediateFiles: ['${absIntermediate}']
  crlFiles: [crl/root.crl]
  checkCrl: true
limits:
  maxUrlLength: 8192
  maxHeaderBytes: 32768
  defaultMaxContentLength: 0
  requestTimeoutMs: 60000
  headersTimeoutMs: 5000
  idleTimeoutMs: 90000
admin:
  host: localhost
  port: 0
logDir: var/logs
drainSeconds: 5
trafficReportSeconds: 60
`;

for (const ext of ['yaml', 'yml']) {
  test(`full .${ext} file gives the same object as the equivalent JSON`, () => {
    const { file: jsonFile } = tmp.writeJson('conf/gateway.json', fullGateway());
    const yamlFile = tmp.write(`conf/gateway.${ext}`, FULL_YAML(tmp.path('abs/intermediate.pem')));
    const fromYaml = load(yamlFile, {});
    assert.equal(fromYaml, expectedFull(yamlFile));
    assert.equal(withoutSource(fromYaml), withoutSource(load(jsonFile, {})));
  });
}

test('minimal .yaml file: defaults filled like JSON', () => {
  const { file: jsonFile } = tmp.writeJson('gateway.json', minimalGateway());
  const yamlFile = tmp.write(
    'gateway.yaml',
    [
      'serviceName: cmg.contoso.com',
      'channel:',
      '  caFiles: [channel-ca.pem]',
      '  sites: [ps1]',
      'tls: { certFile: web.pem, keyFile: web.key }',
      'clientAuth:',
      '  trustedRootFiles: [root.pem]',
      '',
    ].join('\n'),
  );
  const fromYaml = load(yamlFile, {});
  assert.is(fromYaml.source, yamlFile);
  assert.is(fromYaml.logDir, tmp.path('logs'));
  assert.equal(withoutSource(fromYaml), withoutSource(load(jsonFile, {})));
});

test('paths resolve against the config folder whatever the cwd; relative config path made absolute', () => {
  const { file } = tmp.writeJson('conf/gateway.json', fullGateway());
  const elsewhere = tmp.path('elsewhere');
  mkdirSync(elsewhere);
  const cwd = process.cwd();
  try {
    process.chdir(elsewhere);
    const viaRelative = load(relative(process.cwd(), file), {});
    assert.is(relative(process.cwd(), file), join('..', 'conf', 'gateway.json'));
    assert.equal(viaRelative, expectedFull(file));
    process.chdir(tmp.path('conf'));
    assert.equal(load('gateway.json', {}), expectedFull(file));
    process.chdir(tmpdir());
    assert.equal(load(file, {}), expectedFull(file));
  } finally {
    process.chdir(cwd);
  }
});

test('YAML reads unquoted addresses as strings', () => {
  tmp.touch('channel-ca.pem', 'web.pem', 'web.key', 'root.pem');
  const file = tmp.write(
    'gateway.yml',
    [
      'serviceName: cmg.contoso.com',
      'listen: { host: 0.0.0.0, port: 443 }',
      'channel: { host: 192.168.1.10, caFiles: [channel-ca.pem], sites: [PS1] }',
      'tls: { certFile: web.pem, keyFile: web.key }',
      'clientAuth: { trustedRootFiles: [root.pem] }',
      'admin: { host: 127.0.0.1 }',
      '',
    ].join('\n'),
  );
  const config = load(file, {});
  assert.is(config.listen.host, '0.0.0.0');
  assert.is(config.channel.host, '192.168.1.10');
  assert.equal(config.admin, { host: '127.0.0.1', port: 9443 });
});

// ---------------------------------------------------------------- syntax errors

const VALID_LINES = [
  '{',
  '  "serviceName": "cmg.contoso.com",',
  '  "channel": { "caFiles": ["channel-ca.pem"], "sites": ["PS1"] },',
  '  "tls": { "certFile": "web.pem", "keyFile": "web.key" },',
  '  "clientAuth": { "trustedRootFiles": ["root.pem"] }',
  '}',
  '',
];

/** Writes `text` to `name` beside the files VALID_LINES references; it must be refused as a syntax error. */
function syntaxError(name: string, text: string): ConfigError {
  tmp.touch('channel-ca.pem', 'web.pem', 'web.key', 'root.pem');
  return syntaxErrorIn(loadGatewayConfig, tmp.write(name, text));
}

/** VALID_LINES as text, with line `index` replaced by `line` (or, with `insert`, `line` put before it). */
function editedJson(index: number, line: string, insert = false): string {
  const lines = [...VALID_LINES];
  lines.splice(index, insert ? 0 : 1, line);
  return lines.join('\n');
}

test('the JSON text used for syntax errors is itself valid', () => {
  tmp.touch('channel-ca.pem', 'web.pem', 'web.key', 'root.pem');
  const file = tmp.write('gateway.json', VALID_LINES.join('\n'));
  assert.is(load(file, {}).serviceName, 'cmg.contoso.com');
});

test('JSON trailing comma: syntax error located at the comma', () => {
  const text = editedJson(4, '  "clientAuth": { "trustedRootFiles": ["root.pem"] },');
  const err = syntaxError('gateway.json', text);
  const issue = err.issues[0]!;
  assert.is(issue.path, '');
  assert.match(issue.message, /JSON syntax error/);
  assert.match(issue.message, /trailing comma/);
  // The comma ends line 5; the admin must be sent to it, not to the "}" on the next line.
  assertAt(issue, positionAt(text, text.lastIndexOf(',')));
  assert.equal(positionAt(text, text.lastIndexOf(',')), { line: 5, column: 53 });
});

test('JSON trailing comma inside an array on one line', () => {
  const text = editedJson(2, '  "channel": { "caFiles": ["channel-ca.pem",], "sites": ["PS1"] },');
  const err = syntaxError('gateway.json', text);
  const issue = err.issues[0]!;
  assert.match(issue.message, /trailing comma/);
  assert.is(issue.line, 3);
  // At the comma (column 44) or, at worst, at the "]" right after it.
  const comma = where(text, '",]').column + 1;
  assert.ok(
    issue.column === comma || issue.column === comma + 1,
    `column ${issue.column}, comma at ${comma}`,
  );
});

/** Syntax errors whose first issue must sit at the first occurrence of `at`, which is at `pos`. */
const JSON_SYNTAX_CASES: {
  title: string;
  text: string;
  count?: number;
  messages: RegExp[];
  at: string;
  pos: Position;
}[] = [
  {
    title: 'JSON missing comma: syntax error located at the entry that follows',
    text: editedJson(1, '  "serviceName": "cmg.contoso.com"'),
    messages: [/JSON syntax error/, /expected ','/],
    at: '"channel"',
    pos: { line: 3, column: 3 },
  },
  {
    title: 'JSON comment: refused, located at the comment, message suggests YAML',
    text: editedJson(1, '  // the lab gateway', true),
    count: 1,
    messages: [/comments are not allowed/, /YAML/],
    at: '//',
    pos: { line: 2, column: 3 },
  },
  {
    title: 'JSON unterminated string: located at its opening quote',
    text: editedJson(1, '  "serviceName": "cmg.contoso.com,'),
    messages: [/unterminated string/],
    at: '"cmg.contoso.com',
    pos: { line: 2, column: 18 },
  },
];

for (const c of JSON_SYNTAX_CASES) {
  test(c.title, () => {
    const err = syntaxError('gateway.json', c.text);
    if (c.count !== undefined) assert.is(err.issues.length, c.count);
    const issue = err.issues[0]!;
    for (const pattern of c.messages) assert.match(issue.message, pattern);
    assertAt(issue, where(c.text, c.at));
    assert.equal(where(c.text, c.at), c.pos);
  });
}

test('JSON duplicate key: reported with its path and the position of the second occurrence', () => {
  const text = [
    '{',
    '  "serviceName": "cmg.contoso.com",',
    '  "listen": { "port": 443, "port": 8443 },',
    '  "channel": { "caFiles": ["channel-ca.pem"], "sites": ["PS1"] },',
    '  "tls": { "certFile": "web.pem", "keyFile": "web.key" },',
    '  "clientAuth": { "trustedRootFiles": ["root.pem"] },',
    '  "serviceName": "cmg2.contoso.com"',
    '}',
    '',
  ].join('\n');
  const err = syntaxError('gateway.json', text);
  assert.is(err.issues.length, 2);
  const port = issueAt(err, 'listen.port');
  assert.match(port.message, /duplicate key/);
  assertAt(port, where(text, '"port"', 2));
  const name = issueAt(err, 'serviceName');
  assert.match(name.message, /duplicate key/);
  assertAt(name, where(text, '"serviceName"', 2));
});

test('YAML bad indentation: syntax error with its line', () => {
  const text = [
    'serviceName: cmg.contoso.com',
    'channel:',
    '  caFiles: [channel-ca.pem]',
    ' sites: [PS1]',
    'tls: { certFile: web.pem, keyFile: web.key }',
    'clientAuth: { trustedRootFiles: [root.pem] }',
    '',
  ].join('\n');
  const err = syntaxError('gateway.yaml', text);
  const issue = err.issues[0]!;
  assert.is(issue.path, '');
  assert.match(issue.message, /YAML syntax error/);
  assert.match(issue.message, /same column/);
  assert.is(issue.line, 4, `issues: ${JSON.stringify(err.issues)}`);
  assert.type(issue.column, 'number');
});

test('YAML unclosed flow sequence (.yml): syntax error with its line', () => {
  const text = [
    'serviceName: cmg.contoso.com',
    'channel:',
    '  caFiles: [channel-ca.pem]',
    '  sites: [PS1, PS2',
    'tls: { certFile: web.pem, keyFile: web.key }',
    'clientAuth: { trustedRootFiles: [root.pem] }',
    '',
  ].join('\n');
  const err = syntaxError('gateway.yml', text);
  const issue = err.issues[0]!;
  assert.match(issue.message, /YAML syntax error/);
  assert.match(issue.message, /\]/);
  // Where the parser notices: on the line of the "[" or the next one.
  assert.type(issue.line, 'number', `issues: ${JSON.stringify(err.issues)}`);
  assert.ok(issue.line === 4 || issue.line === 5, `line ${issue.line}`);
});

test('YAML duplicate key: refused as a syntax error, with its line', () => {
  const text = [
    'serviceName: cmg.contoso.com',
    'listen:',
    '  port: 443',
    '  port: 8443',
    'channel: { caFiles: [channel-ca.pem], sites: [PS1] }',
    'tls: { certFile: web.pem, keyFile: web.key }',
    'clientAuth: { trustedRootFiles: [root.pem] }',
    '',
  ].join('\n');
  const err = syntaxError('gateway.yaml', text);
  assert.is(err.issues.length, 1);
  const issue = err.issues[0]!;
  assert.match(issue.message, /unique|duplicate/i);
  assert.is(issue.line, 4, `issues: ${JSON.stringify(err.issues)}`);
});

test('empty JSON file: syntax error at line 1', () => {
  const err = syntaxError('gateway.json', '');
  assert.is(err.issues.length, 1);
  assert.match(err.issues[0]!.message, /empty|expected a value/);
  assert.is(err.issues[0]!.line, 1);
  assert.is(err.issues[0]!.column, 1);
});

test('empty YAML file, and one with only a comment: the file is empty', () => {
  for (const [name, text] of [
    ['gateway.yaml', ''],
    ['gateway.yml', '# nothing here yet\n'],
  ] as const) {
    const err = syntaxError(name, text);
    assert.is(err.issues.length, 1);
    assert.match(err.issues[0]!.message, /the file is empty/);
  }
});

test('a JSON array instead of an object: expected an object', () => {
  const err = invalidFile(loadGatewayConfig, tmp.write('gateway.json', '[]\n'), 1);
  assert.is(err.issues[0]!.path, '');
  assert.match(err.issues[0]!.message, /expected an object/);
});

// ---------------------------------------------------------------- unknown keys

testOneIssue(test, tmp, GATEWAY, [
  {
    title: 'unknown top-level key: located at the key, with a suggestion and the keys allowed',
    set: { logdir: 'logs' },
    path: 'logdir',
    messages: [
      /unknown key/,
      /did you mean "logDir"\?/,
      /expected one of: serviceName, listen, channel, tls, clientAuth, limits, admin, logDir, drainSeconds, trafficReportSeconds$/,
    ],
    value: undefined,
    at: '"logdir"',
  },
  {
    title: 'unknown key far from any known one: no suggestion',
    set: { listen: { colour: 'blue' } },
    path: 'listen.colour',
    messages: [/unknown key; expected one of: host, port/],
    notMessages: [/did you mean/],
    at: '"colour"',
  },
]);

test('unknown nested key: clientAuth.trustedRootFile, did you mean trustedRootFiles', () => {
  const config = minimalGateway();
  config['clientAuth'] = { trustedRootFile: ['root.pem'] };
  const { err, text } = invalid(config, 2);
  const unknown = issueAt(err, 'clientAuth.trustedRootFile');
  assert.match(unknown.message, /unknown key/);
  assert.match(unknown.message, /did you mean "trustedRootFiles"\?/);
  assert.match(unknown.message, /trustedRootFiles, intermediateFiles, crlFiles, checkCrl/);
  assertAt(unknown, where(text, '"trustedRootFile"'));
  const missing = issueAt(err, 'clientAuth.trustedRootFiles');
  assert.match(missing.message, /is required/);
  // A missing key is shown where its parent object is.
  assertAt(missing, where(text, '"clientAuth"'));
});

test('unknown nested key in YAML: located at the key', () => {
  const text = [
    'serviceName: cmg.contoso.com',
    'channel:',
    '  caFiles: [channel-ca.pem]',
    '  sites: [PS1]',
    '  site: [PS2]',
    'tls: { certFile: web.pem, keyFile: web.key }',
    'clientAuth:',
    '  trustedRootFiles: [root.pem]',
    '    ',
    '  trustedRootFile: root.pem',
    '',
  ].join('\n');
  const err = invalidYaml(text, 2);
  const site = issueAt(err, 'channel.site');
  assert.match(site.message, /did you mean "sites"\?/);
  assertAt(site, { line: 5, column: 3 });
  const root = issueAt(err, 'clientAuth.trustedRootFile');
  assert.match(root.message, /did you mean "trustedRootFiles"\?/);
  assertAt(root, { line: 10, column: 3 });
});

// ---------------------------------------------------------------- wrong types and ranges

testOneIssue(test, tmp, GATEWAY, [
  {
    title: 'port given as a string: expected an integer, value and position reported',
    set: { listen: { port: '443' } },
    path: 'listen.port',
    messages: [/expected an integer from 0 to 65535/, /got "443"/],
    value: '443',
    at: '"port"',
  },
  {
    title: 'number where a file path is expected: path clientAuth.trustedRootFiles[1]',
    set: { clientAuth: { trustedRootFiles: ['root.pem', 42] } },
    path: 'clientAuth.trustedRootFiles[1]',
    messages: [/expected a file path/, /got 42/],
    value: 42,
    // An array element is located at the element itself.
    at: '42',
  },
  {
    title: 'boolean given as a string',
    set: { clientAuth: { trustedRootFiles: ['root.pem'], checkCrl: 'true' } },
    path: 'clientAuth.checkCrl',
    messages: [/expected true or false/],
    value: 'true',
    at: '"checkCrl"',
  },
]);

test('port given as a quoted string in YAML', () => {
  const text = [
    'serviceName: cmg.contoso.com',
    'channel: { caFiles: [channel-ca.pem], sites: [PS1] }',
    'tls: { certFile: web.pem, keyFile: web.key }',
    'clientAuth: { trustedRootFiles: [root.pem], checkCrl: yes }',
    'admin:',
    '  port: "9443"',
    '',
  ].join('\n');
  const err = invalidYaml(text, 2);
  const port = issueAt(err, 'admin.port');
  assert.match(port.message, /expected an integer from 0 to 65535/);
  assert.is(port.value, '9443');
  assertAt(port, { line: 6, column: 3 });
  // YAML 1.2: "yes" is a string, not a boolean.
  const crl = issueAt(err, 'clientAuth.checkCrl');
  assert.match(crl.message, /expected true or false/);
  assert.is(crl.value, 'yes');
  assertAt(crl, where(text, 'checkCrl'));
});

test('a list where a string is expected, and a string where a list is expected', () => {
  const config = minimalGateway();
  config['serviceName'] = ['cmg.contoso.com'];
  config['channel'] = { caFiles: 'channel-ca.pem', sites: ['PS1'] };
  const { err, text } = invalid(config, 2);
  const name = issueAt(err, 'serviceName');
  assert.match(name.message, /expected a DNS name/);
  assert.is(name.value, undefined, 'objects and arrays are not copied into value');
  assertAt(name, where(text, '"serviceName"'));
  const ca = issueAt(err, 'channel.caFiles');
  assert.match(ca.message, /expected a list of file paths/);
  assert.is(ca.value, 'channel-ca.pem');
});

test('integers out of range', () => {
  const config = minimalGateway();
  config['admin'] = { port: 70000 };
  config['channel'] = { port: 0, caFiles: ['channel-ca.pem'], sites: ['PS1'] };
  config['limits'] = { maxHeaderBytes: 512, requestTimeoutMs: 3600001, defaultMaxContentLength: -1 };
  const { err, text } = invalid(config, 5);
  const cases = [
    ['admin.port', /expected an integer from 0 to 65535/, 70000, '"port": 70000'],
    ['channel.port', /expected an integer from 1 to 65535/, 0, '"port": 0'],
    ['limits.maxHeaderBytes', /expected an integer from 1024 to 1048576/, 512, '"maxHeaderBytes"'],
    ['limits.requestTimeoutMs', /expected an integer from 1000 to 3600000/, 3600001, '"requestTimeoutMs"'],
    ['limits.defaultMaxContentLength', /expected an integer from 0 to 9007199254740991/, -1, '"defaultMax'],
  ] as const;
  for (const [path, message, value, needle] of cases) {
    const issue = issueAt(err, path);
    assert.match(issue.message, message);
    assert.match(issue.message, new RegExp(`got ${value}$`));
    assert.is(issue.value, value);
    assertAt(issue, where(text, needle));
  }
});

test('non-integer numbers refused', () => {
  const config = minimalGateway();
  config['listen'] = { port: 443.5 };
  config['limits'] = { maxUrlLength: 4096.25 };
  const { err } = invalid(config, 2);
  assert.match(issueAt(err, 'listen.port').message, /expected an integer from 0 to 65535, got 443\.5/);
  assert.is(issueAt(err, 'listen.port').value, 443.5);
  assert.match(issueAt(err, 'limits.maxUrlLength').message, /expected an integer from 256 to 65536/);
  assert.is(issueAt(err, 'limits.maxUrlLength').value, 4096.25);
});

/** The two daemon timings, their ranges, and values each must refuse: out of range both ways, a fraction, a string. */
const TIMINGS = [
  { key: 'drainSeconds', min: 0, max: 3600, bad: [-1, 3601, 1.5, '30'] },
  { key: 'trafficReportSeconds', min: 1, max: 86400, bad: [0, 86401, 1.5, '300'] },
] as const;

/** `text` as a pattern that matches it literally. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

testOneIssue(
  test,
  tmp,
  GATEWAY,
  TIMINGS.flatMap(({ key, min, max, bad }) =>
    bad.map((value) => ({
      title: `${key} ${JSON.stringify(value)}: expected an integer from ${min} to ${max}, at the key`,
      set: { [key]: value },
      path: key,
      messages: [
        new RegExp(`^expected an integer from ${min} to ${max}, got ${literal(JSON.stringify(value))}$`),
      ],
      value,
      at: `"${key}"`,
    })),
  ),
);

test('drainSeconds and trafficReportSeconds: the ends of their ranges are accepted', () => {
  for (const { key, min, max } of TIMINGS) {
    for (const value of [min, max]) {
      const { file } = tmp.writeJson('gateway.json', { ...minimalGateway(), [key]: value });
      assert.is(load(file, {})[key], value);
    }
  }
});

test('drainSeconds and trafficReportSeconds in YAML: a quoted number and a fraction, located at their lines', () => {
  const text = [
    'serviceName: cmg.contoso.com',
    'channel: { caFiles: [channel-ca.pem], sites: [PS1] }',
    'tls: { certFile: web.pem, keyFile: web.key }',
    'clientAuth: { trustedRootFiles: [root.pem] }',
    'drainSeconds: "30"',
    'trafficReportSeconds: 0.5',
    '',
  ].join('\n');
  const err = invalidYaml(text, 2);
  const drain = issueAt(err, 'drainSeconds');
  assert.match(drain.message, /^expected an integer from 0 to 3600, got "30"$/);
  assert.is(drain.value, '30');
  assertAt(drain, { line: 5, column: 1 });
  const report = issueAt(err, 'trafficReportSeconds');
  assert.match(report.message, /^expected an integer from 1 to 86400, got 0\.5$/);
  assert.is(report.value, 0.5);
  assertAt(report, { line: 6, column: 1 });
});

test('missing required keys: "is required", located at the parent object', () => {
  const config = minimalGateway();
  delete config['serviceName'];
  delete config['tls'];
  config['channel'] = { sites: ['PS1'] };
  const { err, text } = invalid(config, 3);
  const name = issueAt(err, 'serviceName');
  assert.match(name.message, /is required/);
  assert.is(name.value, undefined);
  assertAt(name, { line: 1, column: 1 });
  assert.match(issueAt(err, 'tls').message, /is required/);
  const ca = issueAt(err, 'channel.caFiles');
  assert.match(ca.message, /is required/);
  assertAt(ca, where(text, '"channel"'));
});

// ---------------------------------------------------------------- referenced files

testOneIssue(test, tmp, GATEWAY, [
  {
    title: 'missing referenced file: path, value and resolved location reported',
    set: { channel: { caFiles: ['missing-ca.pem'], sites: ['PS1'] } },
    path: 'channel.caFiles[0]',
    messages: [/file not found/],
    mentions: 'missing-ca.pem',
    value: 'missing-ca.pem',
    at: '"missing-ca.pem"',
  },
  {
    title: 'referenced path is a folder',
    setup: () => mkdirSync(tmp.path('certs')),
    set: { tls: { certFile: 'certs', keyFile: 'web.key' } },
    path: 'tls.certFile',
    messages: [/expected a file, got a folder/],
    value: 'certs',
    at: '"certFile"',
  },
  {
    title: 'empty string where a file path is expected',
    set: { tls: { certFile: '', keyFile: 'web.key' } },
    path: 'tls.certFile',
    messages: [/empty string/],
  },
]);

test('missing referenced file in YAML, in a subfolder, and by absolute path', () => {
  const absent = tmp.path('nowhere', 'inter.pem');
  const text = [
    'serviceName: cmg.contoso.com',
    'channel: { caFiles: [channel-ca.pem], sites: [PS1] }',
    'tls: { certFile: web.pem, keyFile: web.key }',
    'clientAuth:',
    '  trustedRootFiles:',
    '    - root.pem',
    '    - pki/other-root.pem',
    `  intermediateFiles: ['${absent}']`,
    '',
  ].join('\n');
  const err = invalidYaml(text, 2);
  const other = issueAt(err, 'clientAuth.trustedRootFiles[1]');
  assert.match(other.message, /file not found/);
  assert.ok(other.message.includes(tmp.path('pki', 'other-root.pem')), other.message);
  assert.is(other.value, 'pki/other-root.pem');
  assertAt(other, { line: 7, column: 7 });
  const inter = issueAt(err, 'clientAuth.intermediateFiles[0]');
  assert.match(inter.message, /file not found/);
  assert.is(inter.value, absent);
  assert.is(inter.line, 8);
});

test('logDir that is a file is refused; a missing logDir folder is fine', () => {
  const config = minimalGateway();
  tmp.touch('not-a-folder');
  config['logDir'] = 'not-a-folder';
  const { err, file } = invalid(config, 1);
  const issue = issueAt(err, 'logDir');
  assert.match(issue.message, /is not a folder/);
  assert.is(issue.value, 'not-a-folder');
  config['logDir'] = 'logs/gateway';
  tmp.writeJson('gateway.json', config);
  assert.is(load(file, {}).logDir, tmp.path('logs', 'gateway'));
});

test('logDir under a regular file is refused, naming the file in the way', () => {
  for (const logDir of ['gateway.json/logs', 'gateway.json/logs/deeper', tmp.path('gateway.json', 'logs')]) {
    const { err } = invalid({ ...minimalGateway(), logDir }, 1);
    const issue = issueAt(err, 'logDir');
    assert.match(issue.message, /cannot create folder/);
    assert.match(issue.message, /is a file, not a folder/);
    assert.ok(issue.message.includes(`${tmp.path('gateway.json')} is a file`), issue.message);
    assert.is(issue.value, logDir);
  }
});

test('unreadable referenced file: "not readable" (run as another user when root)', () => {
  const config = minimalGateway();
  const { file } = tmp.writeJson('gateway.json', config);
  const result = loadUnreadable(tmp, GATEWAY, file, tmp.path('web.key'));
  assert.is(result.name, 'ConfigError');
  assert.is(result.code, 'CMG_CONFIG_INVALID');
  assert.is(result.issues?.length, 1);
  const issue = result.issues![0]!;
  assert.is(issue.path, 'tls.keyFile');
  assert.match(issue.message, /not readable/);
  assert.match(issue.message, new RegExp(`uid ${readerUid()}`));
  assert.is(issue.value, 'web.key');
  assert.type(issue.line, 'number');
});

test('unreadable config file itself: CMG_CONFIG_UNREADABLE (run as another user when root)', () => {
  const { file } = tmp.writeJson('gateway.json', minimalGateway());
  const result = loadUnreadable(tmp, GATEWAY, file, file);
  assert.is(result.name, 'ConfigError');
  assert.is(result.code, 'CMG_CONFIG_UNREADABLE');
  assert.match(result.issues?.[0]?.message ?? '', /not readable/);
});

// ---------------------------------------------------------------- the config file itself

test('config file missing: CMG_CONFIG_NOT_FOUND with the absolute path', () => {
  const cwd = process.cwd();
  try {
    process.chdir(tmp.dir);
    const err = configError(() => loadGatewayConfig('no-such-gateway.json', {}));
    assert.is(err.code, 'CMG_CONFIG_NOT_FOUND');
    assert.is(err.file, tmp.path('no-such-gateway.json'));
    assert.is(err.issues.length, 1);
    assert.match(err.issues[0]!.message, /config file not found/);
    assert.ok(err.message.includes(tmp.path('no-such-gateway.json')));
    assert.is(exitCodeFor(err), 2);
  } finally {
    process.chdir(cwd);
  }
});

test('config path is a folder: CMG_CONFIG_UNREADABLE', () => {
  mkdirSync(tmp.path('gateway.json'));
  const err = configError(() => loadGatewayConfig(tmp.path('gateway.json'), {}));
  assert.is(err.code, 'CMG_CONFIG_UNREADABLE');
  assert.match(err.issues[0]!.message, /got a folder/);
  assert.is(exitCodeFor(err), 2);
});

// ---------------------------------------------------------------- TLS material

testOneIssue(test, tmp, GATEWAY, [
  {
    title: 'tls: certFile without keyFile',
    set: { tls: { certFile: 'web.pem' } },
    path: 'tls.keyFile',
    messages: [/is required/],
    at: '"tls"',
  },
  {
    title: 'tls: both PEM and PFX given',
    setup: () => tmp.touch('web.pfx'),
    set: {
      tls: { certFile: 'web.pem', keyFile: 'web.key', pfxFile: 'web.pfx', passphraseEnv: 'CMG_PFX_PASS' },
    },
    env: { CMG_PFX_PASS: 'secret' },
    path: 'tls',
    messages: [/either certFile and keyFile, or pfxFile/, /not both/],
    at: '"tls"',
  },
]);

test('tls: empty object needs certFile and keyFile', () => {
  const config = minimalGateway();
  config['tls'] = {};
  const { err } = invalid(config, 2);
  assert.equal(err.issues.map((i) => i.path).sort(), ['tls.certFile', 'tls.keyFile']);
  for (const issue of err.issues) assert.match(issue.message, /is required/);
});

test('tls: pfxFile with passphraseEnv naming an unset variable, then set', () => {
  const config = minimalGateway();
  tmp.touch('certs/web.pfx');
  config['tls'] = { pfxFile: 'certs/web.pfx', passphraseEnv: 'CMG_TEST_PFX_PASSPHRASE' };
  const { err, file, text } = invalid(config, 1, { OTHER: 'x' });
  const issue = issueAt(err, 'tls.passphraseEnv');
  assert.match(issue.message, /environment variable CMG_TEST_PFX_PASSPHRASE is not set/);
  assert.is(issue.value, 'CMG_TEST_PFX_PASSPHRASE');
  assertAt(issue, where(text, '"passphraseEnv"'));

  const config2 = load(file, { CMG_TEST_PFX_PASSPHRASE: 'secret' });
  assert.equal(config2.tls, {
    kind: 'pfx',
    pfxFile: tmp.path('certs', 'web.pfx'),
    passphraseEnv: 'CMG_TEST_PFX_PASSPHRASE',
  });
  // An empty passphrase is still a set variable.
  assert.is(load(file, { CMG_TEST_PFX_PASSPHRASE: '' }).tls.kind, 'pfx');
});

test('tls: pfxFile alone is accepted; passphraseEnv alone needs pfxFile; bad variable name', () => {
  const config = minimalGateway();
  tmp.touch('web.pfx');
  config['tls'] = { pfxFile: 'web.pfx' };
  const { file } = tmp.writeJson('gateway.json', config);
  assert.equal(load(file, {}).tls, {
    kind: 'pfx',
    pfxFile: tmp.path('web.pfx'),
    passphraseEnv: undefined,
  });
  config['tls'] = { passphraseEnv: 'CMG_PFX_PASS' };
  const { err } = invalid(config, 1, { CMG_PFX_PASS: 'x' });
  assert.match(issueAt(err, 'tls.pfxFile').message, /is required with passphraseEnv/);
  config['tls'] = { pfxFile: 'web.pfx', passphraseEnv: 'not a name' };
  tmp.writeJson('gateway.json', config);
  const badErr = configError(() => loadGatewayConfig(file, {}));
  // Only the malformed name is reported, not also "is not set" for it.
  assert.is(badErr.issues.length, 1, JSON.stringify(badErr.issues));
  const bad = issueAt(badErr, 'tls.passphraseEnv');
  assert.match(bad.message, /expected the name of an environment variable/);
  assert.is(bad.value, 'not a name');
});

test('tls in YAML: pfx with passphraseEnv from the env argument, not process.env', () => {
  tmp.touch('channel-ca.pem', 'web.pfx', 'root.pem');
  const file = tmp.write(
    'gateway.yml',
    [
      'serviceName: cmg.contoso.com',
      'channel: { caFiles: [channel-ca.pem], sites: [PS1] }',
      'tls:',
      '  pfxFile: web.pfx',
      '  passphraseEnv: PATH',
      'clientAuth: { trustedRootFiles: [root.pem] }',
      '',
    ].join('\n'),
  );
  const err = configError(() => loadGatewayConfig(file, {}));
  const issue = issueAt(err, 'tls.passphraseEnv');
  assert.match(issue.message, /PATH is not set/);
  assertAt(issue, { line: 5, column: 3 });
  assert.is(load(file, { PATH: '/bin' }).tls.kind, 'pfx');
});

// ---------------------------------------------------------------- gateway rules

test('checkCrl true needs at least one CRL file', () => {
  const config = minimalGateway();
  config['clientAuth'] = { trustedRootFiles: ['root.pem'], checkCrl: true };
  const { err, file, text } = invalid(config, 1);
  const issue = issueAt(err, 'clientAuth.crlFiles');
  assert.match(issue.message, /checkCrl is true, so at least one CRL file is needed/);
  assertAt(issue, where(text, '"clientAuth"'));

  config['clientAuth'] = { trustedRootFiles: ['root.pem'], crlFiles: [], checkCrl: true };
  const second = invalid(config, 1);
  assert.match(issueAt(second.err, 'clientAuth.crlFiles').message, /at least one CRL file/);
  assertAt(issueAt(second.err, 'clientAuth.crlFiles'), where(second.text, '"crlFiles"'));

  tmp.touch('root.crl');
  config['clientAuth'] = { trustedRootFiles: ['root.pem'], crlFiles: ['root.crl'], checkCrl: true };
  tmp.writeJson('gateway.json', config);
  assert.equal(load(file, {}).clientAuth.crlFiles, [tmp.path('root.crl')]);
});

test('channel.port equal to listen.port is refused (default and explicit listen port)', () => {
  const config = minimalGateway();
  config['channel'] = { port: 443, caFiles: ['channel-ca.pem'], sites: ['PS1'] };
  const { err, file, text } = invalid(config, 1);
  const issue = issueAt(err, 'channel.port');
  assert.match(issue.message, /must differ from listen\.port/);
  assert.match(issue.message, /leave channel\.port out/);
  assert.is(issue.value, 443);
  assertAt(issue, where(text, '"port"'));

  config['listen'] = { port: 8443 };
  config['channel'] = { port: 8443, caFiles: ['channel-ca.pem'], sites: ['PS1'] };
  assert.match(issueAt(invalid(config, 1).err, 'channel.port').message, /must differ/);

  config['channel'] = { port: 10140, caFiles: ['channel-ca.pem'], sites: ['PS1'] };
  tmp.writeJson('gateway.json', config);
  const ok = load(file, {});
  assert.is(ok.channel.port, 10140);
  assert.is(ok.listen.port, 8443);
});

test('admin.port equal to listen.port or channel.port is refused, naming both keys', () => {
  const channel = { port: 10140, caFiles: ['channel-ca.pem'], sites: ['PS1'] };
  const cases: { set: Json; other: RegExp }[] = [
    // listen.port is 443 by default.
    { set: { admin: { port: 443 } }, other: /listen\.port/ },
    { set: { listen: { port: 8443 }, admin: { port: 8443 } }, other: /listen\.port/ },
    { set: { channel, admin: { port: 10140 } }, other: /channel\.port/ },
  ];
  for (const c of cases) {
    const { err, text } = invalid({ ...minimalGateway(), ...c.set }, 1);
    const issue = issueAt(err, 'admin.port');
    assert.match(issue.message, /must differ from/);
    assert.match(issue.message, c.other);
    assert.match(err.message, /admin\.port: must differ/);
    assertAt(issue, positionAt(text, text.indexOf('"port"', text.indexOf('"admin"'))));
  }
  // admin.port left at its default (9443) is still a port of the admin endpoint.
  const byDefault = issueAt(invalid({ ...minimalGateway(), listen: { port: 9443 } }, 1).err, 'admin.port');
  assert.match(byDefault.message, /listen\.port/);
  assert.match(byDefault.message, /default/);
});

test('admin.port 0 (any free port) never collides; distinct ports are fine', () => {
  const channel = { port: 10140, caFiles: ['channel-ca.pem'], sites: ['PS1'] };
  for (const set of [
    { listen: { port: 0 }, admin: { port: 0 } },
    { listen: { port: 8443 }, channel, admin: { port: 0 } },
    { listen: { port: 8443 }, channel, admin: { port: 9443 } },
  ]) {
    const { file } = tmp.writeJson('gateway.json', { ...minimalGateway(), ...set });
    assert.is(load(file, {}).admin.port, set.admin.port);
  }
});

test('serviceName must be a DNS name', () => {
  for (const bad of [
    'cmg_contoso com',
    '10.0.0.1',
    '-cmg.contoso.com',
    'cmg..contoso.com',
    '',
    // All-numeric labels are read as an IPv4 address, and these are not valid ones.
    '300.1.1.1',
    '1.2.3',
    '10.0.0.1.',
  ]) {
    const { err, text } = invalid({ ...minimalGateway(), serviceName: bad }, 1);
    const issue = issueAt(err, 'serviceName');
    assert.match(issue.message, /expected a DNS name such as cmg\.contoso\.com/);
    assert.is(issue.value, bad);
    assertAt(issue, where(text, '"serviceName"'));
  }
  const { file } = tmp.writeJson('gateway.json', { ...minimalGateway(), serviceName: 'cmg-01.contoso.com.' });
  assert.is(load(file, {}).serviceName, 'cmg-01.contoso.com.');
});

testOneIssue(test, tmp, GATEWAY, [
  {
    title: 'channel.sites: empty list refused',
    set: { channel: { caFiles: ['channel-ca.pem'], sites: [] } },
    path: 'channel.sites',
    messages: [/at least one site code/],
    at: '"sites"',
  },
  {
    title: 'channel.caFiles: empty list refused',
    set: { channel: { caFiles: [], sites: ['PS1'] } },
    path: 'channel.caFiles',
    messages: [/at least 1 file path/],
  },
  {
    title: 'listen.host must be an address or DNS name',
    set: { listen: { host: 'not a host!' } },
    path: 'listen.host',
    messages: [/expected an IP address/],
    value: 'not a host!',
  },
]);

test('a host whose labels are all digits must be a valid IPv4 address', () => {
  for (const bad of ['300.1.1.1', '1.2.3', '10.0.0.256', '1.2.3.4.5', '12345']) {
    const { err, text } = invalid({ ...minimalGateway(), listen: { host: bad } }, 1);
    const issue = issueAt(err, 'listen.host');
    assert.match(issue.message, /expected an IP address/);
    assert.is(issue.value, bad);
    assertAt(issue, where(text, '"host"'));
  }
  for (const good of ['10.0.0.5', '255.255.255.255', 'cmg01.contoso.com', 'host-1', '::1']) {
    const { file } = tmp.writeJson('gateway.json', { ...minimalGateway(), listen: { host: good } });
    assert.is(load(file, {}).listen.host, good);
  }
});

test('channel.sites: the same site twice is refused at the index of the second', () => {
  const config = minimalGateway();
  config['channel'] = { caFiles: ['channel-ca.pem'], sites: ['PS1', 'PS2', 'ps1'] };
  const { err, text } = invalid(config, 1);
  const issue = issueAt(err, 'channel.sites[2]');
  assert.match(issue.message, /duplicate site code/);
  assert.match(issue.message, /channel\.sites\[0\]/);
  assert.is(issue.value, 'ps1');
  assertAt(issue, where(text, '"ps1"'));
  // A reserved code given twice is reported as reserved, each time, and not also as a duplicate.
  config['channel'] = { caFiles: ['channel-ca.pem'], sites: ['CON', 'con'] };
  const reserved = invalid(config, 2).err;
  for (const i of reserved.issues) assert.match(i.message, /reserved/);
});

test('channel.sites: reserved code CON and malformed codes refused', () => {
  const config = minimalGateway();
  config['channel'] = { caFiles: ['channel-ca.pem'], sites: ['PS1', 'con', 'PS12', 'P-1'] };
  const { err, text } = invalid(config, 3);
  assert.equal(
    err.issues.map((i) => i.path),
    ['channel.sites[1]', 'channel.sites[2]', 'channel.sites[3]'],
  );
  const con = issueAt(err, 'channel.sites[1]');
  assert.match(con.message, /reserved/);
  assert.match(con.message, /CON/);
  assert.is(con.value, 'con');
  assertAt(con, where(text, '"con"'));
  assert.match(issueAt(err, 'channel.sites[2]').message, /three letters or digits/);
  assert.is(issueAt(err, 'channel.sites[2]').value, 'PS12');
  assert.match(issueAt(err, 'channel.sites[3]').message, /three letters or digits/);
});

// ---------------------------------------------------------------- hostile and odd files

test('a "__proto__" key in JSON is an unknown key, and its contents are not config', () => {
  const config = minimalGateway();
  const { serviceName, ...rest } = config;
  // Written as text: in a JavaScript object literal, __proto__ would set the prototype instead.
  const body = JSON.stringify(rest, null, 2).slice(1);
  const text = `{\n  "__proto__": { "serviceName": ${JSON.stringify(serviceName)}, "logDir": "/" },${body}\n`;
  const err = invalidFile(loadGatewayConfig, tmp.write('gateway.json', text), 2);
  const proto = issueAt(err, '__proto__');
  assert.match(proto.message, /unknown key/);
  assertAt(proto, where(text, '"__proto__"'));
  // serviceName inside "__proto__" does not count as the file's serviceName.
  assert.match(issueAt(err, 'serviceName').message, /is required/);

  const nested = `{\n  "listen": { "__proto__": { "port": 8443 } },${JSON.stringify(config, null, 2).slice(1)}\n`;
  const nestedErr = invalidFile(loadGatewayConfig, tmp.write('gateway.json', nested), 1);
  const issue = issueAt(nestedErr, 'listen.__proto__');
  assert.match(issue.message, /unknown key; expected one of: host, port/);
  assertAt(issue, where(nested, '"__proto__"'));
});

test('a "__proto__" key in YAML is an unknown key, located at its line', () => {
  const text = [
    '__proto__:',
    '  serviceName: cmg.contoso.com',
    'channel: { caFiles: [channel-ca.pem], sites: [PS1] }',
    'tls: { certFile: web.pem, keyFile: web.key }',
    'clientAuth: { trustedRootFiles: [root.pem] }',
    'listen:',
    '  __proto__: { port: 8443 }',
    '',
  ].join('\n');
  const err = invalidYaml(text, 3);
  assertAt(issueAt(err, '__proto__'), { line: 1, column: 1 });
  assert.match(issueAt(err, 'serviceName').message, /is required/);
  const nested = issueAt(err, 'listen.__proto__');
  assert.match(nested.message, /unknown key/);
  assertAt(nested, { line: 7, column: 3 });
});

test('a UTF-8 byte order mark (Notepad) is skipped, in JSON and YAML', () => {
  const { file: plain } = tmp.writeJson('plain.json', minimalGateway());
  const expected = withoutSource(load(plain, {}));
  const json = tmp.write('gateway.json', `\uFEFF${JSON.stringify(minimalGateway(), null, 2)}\n`);
  assert.equal(withoutSource(load(json, {})), expected);
  const yaml = tmp.write(
    'gateway.yaml',
    '\uFEFFserviceName: cmg.contoso.com\nchannel: { caFiles: [channel-ca.pem], sites: [ps1] }\n' +
      'tls: { certFile: web.pem, keyFile: web.key }\nclientAuth: { trustedRootFiles: [root.pem] }\n',
  );
  assert.equal(withoutSource(load(yaml, {})), expected);
  // Positions are counted from the first character after the mark, as editors show them.
  const bad = `\uFEFF{ "serviceName": "cmg.contoso.com", }\n`;
  const err = syntaxError('gateway.json', bad);
  assert.match(err.issues[0]!.message, /trailing comma/);
  assertAt(err.issues[0]!, where(bad.slice(1), ','));
});

test('a UTF-16 file is one clear error, with or without a byte order mark', () => {
  tmp.touch('channel-ca.pem', 'web.pem', 'web.key', 'root.pem');
  const text = `${JSON.stringify(minimalGateway(), null, 2)}\n`;
  const le = Buffer.from(`\uFEFF${text}`, 'utf16le');
  const be = Buffer.from(le).swap16();
  const noBom = Buffer.from(text, 'utf16le');
  for (const [name, bytes] of [
    ['gateway.json', le],
    ['gateway.json', be],
    ['gateway.yaml', le],
    ['gateway.json', noBom],
  ] as const) {
    const err = syntaxErrorIn(loadGatewayConfig, tmp.write(name, bytes));
    assert.is(err.issues.length, 1, JSON.stringify(err.issues));
    assert.match(err.issues[0]!.message, /the file is UTF-16; save it as UTF-8/);
    assert.is(err.issues[0]!.line, 1);
  }
});

test('JSON nested very deeply: one "nested too deeply" error, not a stack overflow', () => {
  const texts = [
    '['.repeat(50_000),
    `${'['.repeat(50_000)}${']'.repeat(50_000)}`,
    `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`,
    // Stray closers that the parser skips must not hide depth from the check.
    `[${'},['.repeat(50_000)}`,
    `{"a":${'[}{"a":'.repeat(50_000)}`,
  ];
  for (const text of texts) {
    const err = syntaxError('gateway.json', text);
    assert.is(err.issues.length, 1, JSON.stringify(err.issues));
    assert.match(err.issues[0]!.message, /nested too deeply/);
    assert.is(err.issues[0]!.line, 1);
  }
  // Brackets inside strings and comments are not nesting.
  const quoted = `${JSON.stringify({ ...minimalGateway(), serviceName: '['.repeat(100) })}`;
  assert.match(
    issueAt(invalidFile(loadGatewayConfig, tmp.write('gateway.json', quoted), 1), 'serviceName').message,
    /DNS name/,
  );
  const commented = `/* ${'['.repeat(100)} */ {}`;
  assert.match(syntaxError('gateway.json', commented).issues[0]!.message, /comments are not allowed/);
});

test('nesting limit: 64 levels are read (an unknown key), 65 are too deep', () => {
  // The file's object is level 1; "deep" holds 63 more levels, or 64.
  const at = (levels: number) =>
    `${JSON.stringify(minimalGateway()).slice(0, -1)}, "deep": ${'['.repeat(levels)}${']'.repeat(levels)}}`;
  const ok = invalidFile(loadGatewayConfig, tmp.write('gateway.json', at(63)), 1);
  assert.match(issueAt(ok, 'deep').message, /unknown key/);
  const deep = syntaxError('gateway.json', at(64));
  assert.match(deep.issues[0]!.message, /nested too deeply/);
  // At the 65th "[", the first one too deep.
  assertAt(deep.issues[0]!, positionAt(at(64), at(64).indexOf('"deep": ') + '"deep": '.length + 63));
});

test('YAML nested very deeply, by text or through aliases: "nested too deeply"', () => {
  const block = Array.from({ length: 100 }, (_, i) => `${'  '.repeat(i)}a:`).join('\n');
  const blockErr = syntaxError('gateway.yaml', `${block} 1\n`);
  assert.match(blockErr.issues[0]!.message, /nested too deeply/);
  assert.is(blockErr.issues[0]!.line, 65);
  for (const text of [`a: ${'['.repeat(50_000)}`, `a: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`]) {
    const err = syntaxError('gateway.yaml', text);
    assert.is(err.issues.length, 1, JSON.stringify(err.issues));
    assert.match(err.issues[0]!.message, /nested too deeply/);
  }
  // Each anchor holds the previous one 60 levels down: the text is shallow, the value is not.
  const lines = ['a0: &a0 [1]'];
  for (let i = 1; i < 4; i++) lines.push(`a${i}: &a${i} ${'['.repeat(60)}*a${i - 1}${']'.repeat(60)}`);
  const aliasErr = syntaxError('gateway.yaml', `${lines.join('\n')}\n`);
  assert.match(aliasErr.issues[0]!.message, /nested too deeply/);
});

test('YAML aliases that multiply the data ("billion laughs") are a syntax error, not a crash', () => {
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (const [prev, name] of ['ab', 'bc', 'cd', 'de', 'ef', 'fg', 'gh', 'hi']) {
    lines.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(', ')}]`);
  }
  const err = syntaxError('gateway.yaml', `${lines.join('\n')}\n`);
  assert.is(err.issues.length, 1);
  assert.match(err.issues[0]!.message, /aliases/);
});

// ---------------------------------------------------------------- several problems together

test('several problems in one JSON file: all reported, sorted by line then column', () => {
  tmp.touch('channel-ca.pem', 'web.pem', 'web.key', 'root.pem');
  const text = [
    '{',
    '  "logDir": 42,',
    '  "admin": { "port": -1 },',
    '  "limits": { "maxUrlLength": 1, "maxHeaderBytes": 1 },',
    '  "clientAuth": { "trustedRootFiles": ["root.pem"], "checkCrl": "no" },',
    '  "tls": { "certFile": "web.pem", "keyFile": "web.key" },',
    '  "channel": { "caFiles": ["channel-ca.pem"], "sites": ["CON"] },',
    '  "listen": { "port": "443" },',
    '  "serviceName": "not a name",',
    '  "extra": true',
    '}',
    '',
  ].join('\n');
  const file = tmp.write('gateway.json', text);
  const err = invalidFile(loadGatewayConfig, file, 9);
  assert.equal(
    err.issues.map((i) => [i.path, i.line, i.column]),
    [
      ['logDir', 2, 3],
      ['admin.port', 3, 14],
      ['limits.maxUrlLength', 4, 15],
      ['limits.maxHeaderBytes', 4, 34],
      ['clientAuth.checkCrl', 5, 53],
      ['channel.sites[0]', 7, 57],
      ['listen.port', 8, 15],
      ['serviceName', 9, 3],
      ['extra', 10, 3],
    ],
  );
  assert.equal(where(text, '"checkCrl"'), { line: 5, column: 53 });
  assert.equal(where(text, '"CON"'), { line: 7, column: 57 });
  assert.match(err.message, /\(9 problems\)/);
  assert.ok(err.message.includes(file));
});

test('several problems in one YAML file: all reported, sorted by line', () => {
  tmp.touch('web.pem', 'root.pem');
  const text = [
    'logDir: [a, b]',
    'admin:',
    '  port: 65536',
    'clientAuth:',
    '  trustedRootFiles: [root.pem, missing.pem]',
    'tls:',
    '  certFile: web.pem',
    'channel:',
    '  caFiles: [absent-ca.pem]',
    '  sites: [nul]',
    'serviceName: cmg.contoso.com',
    'listen: { port: 443.5 }',
    '',
  ].join('\n');
  const err = invalidFile(loadGatewayConfig, tmp.write('gateway.yaml', text), 7);
  assert.equal(
    err.issues.map((i) => [i.path, i.line]),
    [
      ['logDir', 1],
      ['admin.port', 3],
      ['clientAuth.trustedRootFiles[1]', 5],
      ['tls.keyFile', 6],
      ['channel.caFiles[0]', 9],
      ['channel.sites[0]', 10],
      ['listen.port', 12],
    ],
  );
  assert.match(err.message, /\(7 problems\)/);
});

// ---------------------------------------------------------------- error plumbing

test('a ConfigError exits 2 and names file, position, key and problem', () => {
  const { err, file, text } = invalid({ ...minimalGateway(), listen: { port: 'https' } }, 1);
  assert.is(exitCodeFor(err), 2);
  assert.is(err.family, 'usage');
  assert.is(err.file, file);
  const { line, column } = where(text, '"port"');
  assert.ok(
    err.message.includes(`line ${line}, column ${column}: listen.port: expected an integer`),
    err.message,
  );
  const json = err.toJSON();
  assert.is(json['code'], 'CMG_CONFIG_INVALID');
  assert.is(json['file'], file);
  assert.equal(json['issues'], err.issues);
});

test('formatKeyPath writes key paths the way an admin does', () => {
  assert.is(formatKeyPath(['clientAuth', 'trustedRootFiles', 1]), 'clientAuth.trustedRootFiles[1]');
  assert.is(formatKeyPath([]), '');
  assert.is(formatKeyPath(['listen', 'port']), 'listen.port');
  assert.is(formatKeyPath([0, 'a']), '[0].a');
});

// ---------------------------------------------------------------- loadDaemonConfig

test('loadDaemonConfig detects a gateway config by serviceName (JSON and YAML)', () => {
  const { file } = tmp.writeJson('daemon.json', minimalGateway());
  const result = loadDaemon(file, undefined, {});
  assert.is(result.kind, 'gateway');
  assert.equal(result.config, load(file, {}));
  fullGateway();
  const yamlFile = tmp.write('conf/daemon.yaml', FULL_YAML(tmp.path('abs/intermediate.pem')));
  const fromYaml = loadDaemon(yamlFile, undefined, {});
  assert.is(fromYaml.kind, 'gateway');
  assert.equal(fromYaml.config, expectedFull(yamlFile));
});

test('loadDaemonConfig reports gateway problems when serviceName is present', () => {
  const { file } = tmp.writeJson('daemon.json', { serviceName: 'cmg.contoso.com' });
  const err = configError(() => loadDaemonConfig(file, undefined, {}));
  assert.is(err.code, 'CMG_CONFIG_INVALID');
  assert.match(issueAt(err, 'channel').message, /is required/);
  assert.match(issueAt(err, 'tls').message, /is required/);
});

test('loadDaemonConfig errors when it cannot tell gateway from connector', () => {
  for (const [name, text] of [
    ['daemon.json', '{ "listen": { "port": 443 } }\n'],
    ['daemon.json', '[]\n'],
    ['daemon.yaml', 'just a string\n'],
  ] as const) {
    const file = tmp.write(name, text);
    const err = configError(() => loadDaemonConfig(file, undefined, {}));
    assert.is(err.code, 'CMG_CONFIG_INVALID');
    assert.is(err.issues.length, 1);
    assert.match(err.issues[0]!.message, /cannot tell which daemon/);
    assert.match(err.issues[0]!.message, /serviceName/);
    assert.match(err.issues[0]!.message, /siteCode/);
    assert.match(err.hint ?? '', /--kind/);
    assert.is(exitCodeFor(err), 2);
  }
});

test('loadDaemonConfig with an explicit kind validates as that kind', () => {
  const { file } = tmp.writeJson('daemon.json', { listen: { port: 443 } });
  const err = configError(() => loadDaemonConfig(file, 'gateway', {}));
  assert.match(issueAt(err, 'serviceName').message, /is required/);
  const { file: gw } = tmp.writeJson('gw.json', minimalGateway());
  const asConnector = configError(() => loadDaemonConfig(gw, 'connector', {}));
  assert.match(issueAt(asConnector, 'serviceName').message, /unknown key/);
  assert.match(issueAt(asConnector, 'siteCode').message, /is required/);
});

test('loadDaemonConfig passes syntax and file errors through', () => {
  const file = tmp.write('daemon.json', '{ "serviceName": "cmg.contoso.com", }');
  assert.is(configError(() => loadDaemonConfig(file, undefined, {})).code, 'CMG_CONFIG_SYNTAX');
  assert.is(
    configError(() => loadDaemonConfig(tmp.path('none.json'), undefined, {})).code,
    'CMG_CONFIG_NOT_FOUND',
  );
});

test.run();
