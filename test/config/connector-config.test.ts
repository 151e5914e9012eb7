import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type ConnectorConfig, loadConnectorConfig } from '../../src/config/connector.js';
import { loadDaemonConfig } from '../../src/config/kind.js';
import { exitCodeFor } from '../../src/errors.js';
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
  positionAt,
  readerUid,
  syntaxErrorIn,
  testOneIssue,
  useTempDir,
  valid,
  where,
  withoutSource,
} from '../helpers/config-files.js';

const ROLE_ID = '72057594037927939';

const tmp = useTempDir(test);

const CONNECTOR: ConfigKind = {
  module: fileURLToPath(new URL('../../src/config/connector.ts', import.meta.url)),
  name: 'loadConnectorConfig',
  load: loadConnectorConfig,
  jsonName: 'connector.json',
  minimal: minimalConnector,
};

// ---------------------------------------------------------------- helpers

/** The smallest valid connection point config; its referenced files are created. */
function minimalConnector(): Json {
  tmp.touch('cp01.pem', 'cp01.key');
  return {
    siteCode: 'ps1',
    gateway: { host: 'cmg.contoso.com', ports: [443] },
    tls: { certFile: 'cp01.pem', keyFile: 'cp01.key' },
    roles: [{ type: 'managementPoint', roleId: ROLE_ID, url: 'https://mp01.corp.contoso.com' }],
  };
}

/** loadConnectorConfig for a file the test expects to be valid. */
function load(file: string, env: NodeJS.ProcessEnv): ConnectorConfig {
  return valid(() => loadConnectorConfig(file, env));
}

/** Writes `config` to connector.json and loads it: it must be refused with exactly `count` issues. */
function invalid(config: Json, count: number, env: NodeJS.ProcessEnv = {}) {
  return invalidJson(tmp, CONNECTOR, config, count, env);
}

/** Writes `text` to connector.yaml beside the certificate files: it must be refused with `count` issues. */
function invalidYaml(text: string, count: number) {
  tmp.touch('cp01.pem', 'cp01.key');
  return invalidFile(loadConnectorConfig, tmp.write('connector.yaml', text), count);
}

/** Writes `text` to `name` beside the certificate files; it must be refused as a syntax error. */
function syntaxError(name: string, text: string) {
  tmp.touch('cp01.pem', 'cp01.key');
  return syntaxErrorIn(loadConnectorConfig, tmp.write(name, text));
}

// ---------------------------------------------------------------- valid files

test('minimal JSON file: defaults filled, serverName from gateway.host, site code upper-cased', () => {
  const { file } = tmp.writeJson('connector.json', minimalConnector());
  const config = load(file, {});
  assert.equal(config, {
    siteCode: 'PS1',
    gateway: { host: 'cmg.contoso.com', ports: [443], serverName: 'cmg.contoso.com' },
    tls: { kind: 'pem', certFile: tmp.path('cp01.pem'), keyFile: tmp.path('cp01.key') },
    connectionsPerInstance: 2,
    heartbeatSeconds: 20,
    endpoints: [],
    roles: [{ type: 'managementPoint', roleId: ROLE_ID, url: 'https://mp01.corp.contoso.com' }],
    internalCaFiles: [],
    admin: { host: '127.0.0.1', port: 9444 },
    logDir: tmp.path('logs'),
    drainSeconds: 30,
    trafficReportSeconds: 300,
    source: file,
  });
  assert.is(config.gateway.caFiles, undefined);
  assert.is(config.gateway.proxy, undefined);
});

/** The endpoints and roles of the full config; the loader keeps them as they are. */
const FULL_ENDPOINTS: ConnectorConfig['endpoints'] = [
  {
    external: '/CCM_Proxy_MutualAuth/72057594037927939/CCM_System',
    internal: 'https://mp01.corp.contoso.com/CCM_System',
    maxContentLength: 10485760,
  },
  { external: '/CCM_Proxy_ServerAuth/72057594037927939/sms_mp', internal: 'http://mp01:8080/sms_mp' },
];
const FULL_ROLES: ConnectorConfig['roles'] = [
  { type: 'managementPoint', roleId: ROLE_ID, url: 'https://mp01.corp.contoso.com' },
  { type: 'softwareUpdatePoint', roleId: '72057594037927941', url: 'https://sup01.corp.contoso.com:8531' },
];

/**
 * A full config in the temp dir's conf folder, referencing files beside it, in a sibling folder,
 * and by absolute path.
 */
function fullConnector(): Json {
  tmp.touch(
    'conf/certs/cp01.pem',
    'conf/certs/cp01.key',
    'pki/web-root.pem',
    'abs/corp-root.pem',
    'conf/corp-issuing.pem',
  );
  return {
    siteCode: 'Ps1',
    gateway: {
      host: '10.1.2.3',
      ports: [10140, 10141],
      serverName: 'cmg.contoso.com',
      caFiles: ['../pki/web-root.pem'],
      proxy: 'http://proxy.corp.contoso.com:8080',
    },
    tls: { certFile: 'certs/cp01.pem', keyFile: './certs/cp01.key' },
    connectionsPerInstance: 4,
    heartbeatSeconds: 30,
    endpoints: FULL_ENDPOINTS,
    roles: FULL_ROLES,
    internalCaFiles: [tmp.path('abs/corp-root.pem'), 'corp-issuing.pem'],
    admin: { host: '0.0.0.0', port: 0 },
    logDir: '../var/log/cmg',
    drainSeconds: 5,
    trafficReportSeconds: 60,
  };
}

/** What loading the full config gives: relative paths resolved, site code upper-cased. */
function expectedFull(source: string): ConnectorConfig {
  return {
    siteCode: 'PS1',
    gateway: {
      host: '10.1.2.3',
      ports: [10140, 10141],
      serverName: 'cmg.contoso.com',
      caFiles: [tmp.path('pki/web-root.pem')],
      proxy: 'http://proxy.corp.contoso.com:8080',
    },
    tls: {
      kind: 'pem',
      certFile: tmp.path('conf/certs/cp01.pem'),
      keyFile: tmp.path('conf/certs/cp01.key'),
    },
    connectionsPerInstance: 4,
    heartbeatSeconds: 30,
    endpoints: FULL_ENDPOINTS,
    roles: FULL_ROLES,
    internalCaFiles: [tmp.path('abs/corp-root.pem'), tmp.path('conf/corp-issuing.pem')],
    admin: { host: '0.0.0.0', port: 0 },
    logDir: tmp.path('var/log/cmg'),
    drainSeconds: 5,
    trafficReportSeconds: 60,
    source,
  };
}

test('full JSON file: every value kept, relative paths resolved against the config folder', () => {
  const { file } = tmp.writeJson('conf/connector.json', fullConnector());
  assert.equal(load(file, {}), expectedFull(file));
});

const FULL_YAML = (absCorpRoot: string) => `# connection point cp01
siteCode: Ps1
gateway:
  host: 10.1.2.3
  ports: [10140, 10141]
  serverName: cmg.contoso.com
  caFiles:
    - ../pki/web-root.pem
  proxy: http://proxy.corp.contoso.com:8080
tls:
  certFile: certs/cp01.pem
  keyFile: ./certs/cp01.key
connectionsPerInstance: 4
heartbeatSeconds: 30
endpoints:
  - external: /CCM_Proxy_MutualAuth/72057594037927939/CCM_System
    internal: https://mp01.corp.contoso.com/CCM_System
    maxContentLength: 10485760
  - external: /CCM_Proxy_ServerAuth/72057594037927939/sms_mp
    internal: http://mp01:8080/sms_mp
roles:
  - type: managementPoint
    roleId: "72057594037927939"
    url: https://mp01.corp.contoso.com
  - { type: softwareUpdatePoint, roleId: '72057594037927941', url: 'https://sup01.corp.contoso.com:8531' }
internalCaFiles:
  - ${absCorpRoot}
  - corp-issuing.pem
admin:
  host: 0.0.0.0
  port: 0
logDir: ../var/log/cmg
drainSeconds: 5
trafficReportSeconds: 60
`;

for (const ext of ['yaml', 'yml']) {
  test(`full .${ext} file gives the same object as the equivalent JSON`, () => {
    const { file: jsonFile } = tmp.writeJson('conf/connector.json', fullConnector());
    const yamlFile = tmp.write(`conf/connector.${ext}`, FULL_YAML(tmp.path('abs/corp-root.pem')));
    const fromYaml = load(yamlFile, {});
    assert.equal(fromYaml, expectedFull(yamlFile));
    assert.equal(withoutSource(fromYaml), withoutSource(load(jsonFile, {})));
  });
}

test('minimal .yml file: same defaults as JSON', () => {
  const { file: jsonFile } = tmp.writeJson('connector.json', minimalConnector());
  const yamlFile = tmp.write(
    'connector.yml',
    [
      'siteCode: ps1',
      'gateway: { host: cmg.contoso.com, ports: [443] }',
      'tls: { certFile: cp01.pem, keyFile: cp01.key }',
      'roles:',
      `  - { type: managementPoint, roleId: "${ROLE_ID}", url: "https://mp01.corp.contoso.com" }`,
      '',
    ].join('\n'),
  );
  const fromYaml = load(yamlFile, {});
  assert.is(fromYaml.source, yamlFile);
  assert.equal(withoutSource(fromYaml), withoutSource(load(jsonFile, {})));
});

test('paths resolve against the config folder whatever the cwd; relative config path made absolute', () => {
  const { file } = tmp.writeJson('conf/connector.json', fullConnector());
  const elsewhere = tmp.path('elsewhere', 'deeper');
  mkdirSync(elsewhere, { recursive: true });
  const cwd = process.cwd();
  try {
    process.chdir(elsewhere);
    const rel = relative(process.cwd(), file);
    assert.is(rel, join('..', '..', 'conf', 'connector.json'));
    assert.equal(load(rel, {}), expectedFull(file));
    process.chdir(tmp.path('conf'));
    assert.equal(load('./connector.json', {}), expectedFull(file));
  } finally {
    process.chdir(cwd);
  }
});

test('endpoints alone (no roles) are enough; roles alone are enough', () => {
  const config = minimalConnector();
  delete config['roles'];
  config['endpoints'] = [{ external: '/CCM_System', internal: 'https://mp01/CCM_System' }];
  const { file } = tmp.writeJson('connector.json', config);
  const loaded = load(file, {});
  assert.equal(loaded.roles, []);
  assert.equal(loaded.endpoints, [{ external: '/CCM_System', internal: 'https://mp01/CCM_System' }]);
});

test('serverName defaults to gateway.host, an explicit one is kept', () => {
  const config = minimalConnector();
  config['gateway'] = { host: '192.0.2.10', ports: [10140] };
  const { file } = tmp.writeJson('connector.json', config);
  assert.equal(load(file, {}).gateway, {
    host: '192.0.2.10',
    ports: [10140],
    serverName: '192.0.2.10',
  });
  config['gateway'] = { host: '192.0.2.10', ports: [10140], serverName: 'cmg.contoso.com' };
  tmp.writeJson('connector.json', config);
  assert.is(load(file, {}).gateway.serverName, 'cmg.contoso.com');
});

// ---------------------------------------------------------------- syntax errors

/** The first lines of a valid connector.json, up to an "endpoints" list that each test fills and closes. */
const ENDPOINTS_OPEN = [
  '{',
  '  "siteCode": "PS1",',
  '  "gateway": { "host": "cmg.contoso.com", "ports": [443] },',
  '  "tls": { "certFile": "cp01.pem", "keyFile": "cp01.key" },',
  '  "endpoints": [',
];

test('JSON syntax: missing comma between endpoints, located at the second entry', () => {
  const text = [
    ...ENDPOINTS_OPEN,
    '    { "external": "/a", "internal": "https://mp01/a" }',
    '    { "external": "/b", "internal": "https://mp01/b" }',
    '  ]',
    '}',
    '',
  ].join('\n');
  const err = syntaxError('connector.json', text);
  const issue = err.issues[0]!;
  assert.match(issue.message, /expected ','/);
  assertAt(issue, where(text, '{ "external": "/b"'));
  assert.equal(where(text, '{ "external": "/b"'), { line: 7, column: 5 });
});

test('JSON syntax: comment and trailing comma in one file, both reported', () => {
  const text = [
    '{',
    '  "siteCode": "PS1", /* the primary site */',
    '  "gateway": { "host": "cmg.contoso.com", "ports": [443,] }',
    '}',
    '',
  ].join('\n');
  const err = syntaxError('connector.json', text);
  assert.is(err.issues.length, 2, JSON.stringify(err.issues));
  assert.match(err.issues[0]!.message, /comments are not allowed/);
  assertAt(err.issues[0]!, where(text, '/*'));
  assert.match(err.issues[1]!.message, /trailing comma/);
  assert.is(err.issues[1]!.line, 3);
  // At the comma, or at worst at the "]" right after it.
  const comma = where(text, '443,').column + 3;
  const column = err.issues[1]!.column;
  assert.ok(column === comma || column === comma + 1, `column ${column}, comma at ${comma}`);
});

test('JSON syntax: unterminated string', () => {
  const text = ['{', '  "siteCode": "PS1",', '  "gateway": { "host": "cmg.contoso.com }', '}', ''].join('\n');
  const err = syntaxError('connector.json', text);
  assert.match(err.issues[0]!.message, /unterminated string/);
  assertAt(err.issues[0]!, where(text, '"cmg.contoso.com'));
});

test('JSON duplicate key inside an array element', () => {
  const text = [
    ...ENDPOINTS_OPEN,
    '    { "external": "/a", "internal": "https://mp01/a", "internal": "https://mp02/a" }',
    '  ]',
    '}',
    '',
  ].join('\n');
  const err = syntaxError('connector.json', text);
  assert.is(err.issues.length, 1);
  assert.match(err.issues[0]!.message, /duplicate key/);
  assert.match(err.issues[0]!.path, /internal$/);
  assertAt(err.issues[0]!, where(text, '"internal"', 2));
});

test('YAML syntax: duplicate key and bad indentation carry a line', () => {
  const cases = [
    {
      name: 'connector.yaml',
      text: ['siteCode: PS1', 'gateway:', '  host: cmg.contoso.com', '  host: cmg2.contoso.com', ''].join(
        '\n',
      ),
      line: 4,
      message: /unique|duplicate/i,
    },
    {
      name: 'connector.yml',
      text: ['siteCode: PS1', 'gateway:', '    host: cmg.contoso.com', '  ports: [443]', ''].join('\n'),
      line: 4,
      message: /YAML syntax error/,
    },
  ];
  for (const c of cases) {
    const err = syntaxError(c.name, c.text);
    assert.match(err.issues[0]!.message, c.message);
    assert.is(err.issues[0]!.line, c.line, `${c.name}: ${JSON.stringify(err.issues)}`);
  }
});

test('empty files: JSON and YAML', () => {
  for (const [name, text] of [
    ['connector.json', ''],
    ['connector.yaml', ''],
    ['connector.yml', '\n\n'],
  ] as const) {
    const err = syntaxError(name, text);
    assert.is(err.issues.length, 1);
    assert.match(err.issues[0]!.message, /empty|expected a value/);
  }
});

// ---------------------------------------------------------------- unknown keys

test('unknown top-level key with suggestion', () => {
  const { err, text } = invalid({ ...minimalConnector(), heartbeatSecond: 30 }, 1);
  const issue = issueAt(err, 'heartbeatSecond');
  assert.match(issue.message, /unknown key \(did you mean "heartbeatSeconds"\?\)/);
  assert.match(issue.message, /expected one of: siteCode, gateway, tls, connectionsPerInstance/);
  assert.match(issue.message, /, logDir, drainSeconds, trafficReportSeconds$/);
  assertAt(issue, where(text, '"heartbeatSecond"'));
});

test('unknown nested keys: gateway.caFile and endpoints[0].maxContentLenght', () => {
  tmp.touch('web-root.pem');
  const config = minimalConnector();
  config['gateway'] = { host: 'cmg.contoso.com', ports: [443], caFile: ['web-root.pem'] };
  config['endpoints'] = [{ external: '/a', internal: 'https://mp01/a', maxContentLenght: 5 }];
  const { err, text } = invalid(config, 2);
  const ca = issueAt(err, 'gateway.caFile');
  assert.match(ca.message, /did you mean "caFiles"\?/);
  assert.match(ca.message, /host, ports, serverName, caFiles, proxy/);
  assertAt(ca, where(text, '"caFile"'));
  const max = issueAt(err, 'endpoints[0].maxContentLenght');
  assert.match(max.message, /did you mean "maxContentLength"\?/);
  assert.match(max.message, /external, internal, maxContentLength/);
  assertAt(max, where(text, '"maxContentLenght"'));
});

test('unknown nested key in YAML: located at the key', () => {
  const text = [
    'siteCode: PS1',
    'gateway: { host: cmg.contoso.com, ports: [443] }',
    'tls:',
    '  certFile: cp01.pem',
    '  keyFile: cp01.key',
    'roles:',
    '  - type: managementPoint',
    `    roleID: "${ROLE_ID}"`,
    '    url: https://mp01.corp.contoso.com',
    '',
  ].join('\n');
  const err = invalidYaml(text, 2);
  const unknown = issueAt(err, 'roles[0].roleID');
  assert.match(unknown.message, /did you mean "roleId"\?/);
  assertAt(unknown, { line: 8, column: 5 });
  const missing = issueAt(err, 'roles[0].roleId');
  assert.match(missing.message, /is required/);
  assert.is(missing.line, 7);
});

// ---------------------------------------------------------------- roles and endpoints

test('roleId given as a number: must be a quoted string (JSON)', () => {
  const config = minimalConnector();
  const text = `${JSON.stringify(config, null, 2).replace(`"${ROLE_ID}"`, ROLE_ID)}\n`;
  assert.ok(text.includes(`"roleId": ${ROLE_ID}`), 'test bug: roleId not unquoted');
  const err = invalidFile(loadConnectorConfig, tmp.write('connector.json', text), 1);
  const issue = issueAt(err, 'roles[0].roleId');
  assert.match(issue.message, /string of digits/);
  assert.match(issue.message, /in quotes/);
  assert.match(issue.message, /too large/);
  assert.type(issue.value, 'number');
  assertAt(issue, where(text, '"roleId"'));
});

test('roleId given as a number: must be a quoted string (YAML)', () => {
  const text = [
    'siteCode: PS1',
    'gateway: { host: cmg.contoso.com, ports: [443] }',
    'tls: { certFile: cp01.pem, keyFile: cp01.key }',
    'roles:',
    '  - type: managementPoint',
    `    roleId: ${ROLE_ID}`,
    '    url: https://mp01.corp.contoso.com',
    '',
  ].join('\n');
  const err = invalidYaml(text, 1);
  const issue = issueAt(err, 'roles[0].roleId');
  assert.match(issue.message, /in quotes/);
  assert.type(issue.value, 'number');
  assertAt(issue, { line: 6, column: 5 });
});

test('roleId not made of digits, role type unknown, role url not http(s)', () => {
  const config = minimalConnector();
  config['roles'] = [
    { type: 'distributionPoint', roleId: 'MP-1', url: 'ftp://mp01.corp.contoso.com' },
    { type: 'managementPoint', roleId: '123456789012345678901', url: 'https://mp01/?x=1' },
  ];
  const { err, text } = invalid(config, 5);
  const type = issueAt(err, 'roles[0].type');
  assert.match(type.message, /expected one of managementPoint, softwareUpdatePoint/);
  assert.is(type.value, 'distributionPoint');
  assertAt(type, where(text, '"type"'));
  assert.match(issueAt(err, 'roles[0].roleId').message, /string of 1 to 20 digits/);
  assert.is(issueAt(err, 'roles[0].roleId').value, 'MP-1');
  assert.match(issueAt(err, 'roles[1].roleId').message, /string of 1 to 20 digits/);
  const url = issueAt(err, 'roles[0].url');
  assert.match(url.message, /internal base URL/);
  assert.is(url.value, 'ftp://mp01.corp.contoso.com');
  assert.match(issueAt(err, 'roles[1].url').message, /without query or fragment/);
});

test('roles and endpoints both empty (or both absent): nothing to publish', () => {
  const config = minimalConnector();
  config['roles'] = [];
  config['endpoints'] = [];
  const { err } = invalid(config, 1);
  const issue = err.issues[0]!;
  assert.is(issue.path, '');
  assert.match(issue.message, /nothing to publish/);
  assert.match(issue.message, /endpoints or roles/);
  assert.is(issue.line, 1);

  delete config['roles'];
  delete config['endpoints'];
  const again = invalid(config, 1).err;
  assert.match(again.issues[0]!.message, /nothing to publish/);
});

test('endpoint external with ".." segment, trailing slash and other unclean paths', () => {
  const bad = [
    '/CCM_Proxy_MutualAuth/../CCM_System',
    '/CCM_System/',
    'CCM_System',
    '/CCM_Proxy//CCM_System',
    '/CCM_System/./x',
    '/CCM%2FSystem',
    '/CCM System',
    '/CCM_System?x=1',
    '/CCM\\System',
    '/',
    '/CCM\u0001System',
  ];
  const config = minimalConnector();
  config['endpoints'] = bad.map((external) => ({ external, internal: 'https://mp01/CCM_System' }));
  const { err, text } = invalid(config, bad.length);
  for (const [i, external] of bad.entries()) {
    const issue = issueAt(err, `endpoints[${i}].external`);
    assert.match(issue.message, /expected an absolute URL path without a trailing slash/);
    assert.is(issue.value, external);
    assertAt(issue, where(text, '"external"', i + 1));
  }
  assert.match(issueAt(err, 'endpoints[0].external').message, /"\.\." segments/);
});

test('endpoint external over 1024 characters: refused, as the gateway would refuse to route it', () => {
  const config = minimalConnector();
  config['endpoints'] = [{ external: `/${'a'.repeat(1024)}`, internal: 'https://mp01/CCM_System' }];
  const { err } = invalid(config, 1);
  assert.match(issueAt(err, 'endpoints[0].external').message, /at most 1024 characters/);
});

test('endpoint internal URL must be http(s), without query or fragment', () => {
  const bad = [
    'ftp://mp01.corp.contoso.com/CCM_System',
    'mp01.corp.contoso.com/CCM_System',
    'https://mp01/CCM_System?x=1',
    'https://mp01/CCM_System#top',
    'file:///etc/passwd',
  ];
  const config = minimalConnector();
  config['endpoints'] = bad.map((internal, i) => ({ external: `/e${i}`, internal }));
  const { err } = invalid(config, bad.length);
  for (const [i, internal] of bad.entries()) {
    const issue = issueAt(err, `endpoints[${i}].internal`);
    assert.match(issue.message, /expected an internal URL such as https:\/\//);
    assert.match(issue.message, /without query or fragment/);
    assert.is(issue.value, internal);
  }
});

test('endpoint maxContentLength must be a non-negative integer', () => {
  const config = minimalConnector();
  config['endpoints'] = [
    { external: '/a', internal: 'https://mp01/a', maxContentLength: -1 },
    { external: '/b', internal: 'https://mp01/b', maxContentLength: 1.5 },
    { external: '/c', internal: 'https://mp01/c', maxContentLength: '100' },
  ];
  const { err } = invalid(config, 3);
  for (const i of [0, 1, 2]) {
    assert.match(issueAt(err, `endpoints[${i}].maxContentLength`).message, /expected an integer from 0 to/);
  }
  assert.is(issueAt(err, 'endpoints[2].maxContentLength').value, '100');
});

test('endpoints: the same external prefix twice (ignoring case) is refused at the second', () => {
  const config = minimalConnector();
  config['endpoints'] = [
    { external: '/CCM_System', internal: 'https://mp01/CCM_System' },
    { external: '/CCM_System/x', internal: 'https://mp01/x' },
    { external: '/ccm_system', internal: 'https://mp02/CCM_System' },
  ];
  const { err, text } = invalid(config, 1);
  const issue = issueAt(err, 'endpoints[2].external');
  assert.match(issue.message, /duplicate external prefix/);
  assert.match(issue.message, /endpoints\[0\]/);
  assert.match(issue.message, /ignoring case/);
  assert.is(issue.value, '/ccm_system');
  assertAt(issue, where(text, '"external"', 3));
});

test('roles: the same type and roleId twice is refused at the second; another type is fine', () => {
  const config = minimalConnector();
  const mp = { type: 'managementPoint', roleId: ROLE_ID, url: 'https://mp01.corp.contoso.com' };
  config['roles'] = [
    mp,
    { ...mp, type: 'softwareUpdatePoint', url: 'https://sup01' },
    { ...mp, url: 'https://mp02.corp.contoso.com' },
  ];
  const { err, text } = invalid(config, 1);
  const issue = issueAt(err, 'roles[2]');
  assert.match(issue.message, /duplicate role/);
  assert.match(issue.message, /roles\[0\]/);
  // At the element itself, the "{" that opens the third role.
  assertAt(issue, positionAt(text, text.lastIndexOf('{', text.indexOf('https://mp02'))));
  config['roles'] = [mp, { ...mp, roleId: '72057594037927940' }];
  const { file } = tmp.writeJson('connector.json', config);
  assert.is(load(file, {}).roles.length, 2);
});

// ---------------------------------------------------------------- gateway section

test('gateway.ports: duplicates refused', () => {
  const config = minimalConnector();
  config['gateway'] = { host: 'cmg.contoso.com', ports: [10140, 10141, 10140] };
  const { err, text } = invalid(config, 1);
  const issue = issueAt(err, 'gateway.ports');
  assert.match(issue.message, /each port may appear once/);
  assert.is(issue.value, undefined);
  assertAt(issue, where(text, '"ports"'));
});

test('gateway.ports: more than 16 refused, 16 accepted', () => {
  const config = minimalConnector();
  const ports = Array.from({ length: 17 }, (_, i) => 10140 + i);
  config['gateway'] = { host: 'cmg.contoso.com', ports };
  const { err } = invalid(config, 1);
  assert.match(issueAt(err, 'gateway.ports').message, /at most 16 ports/);
  config['gateway'] = { host: 'cmg.contoso.com', ports: ports.slice(0, 16) };
  const { file } = tmp.writeJson('connector.json', config);
  assert.is(load(file, {}).gateway.ports.length, 16);
});

test('gateway.ports: empty, port 0, string port, not a list', () => {
  const config = minimalConnector();
  config['gateway'] = { host: 'cmg.contoso.com', ports: [] };
  assert.match(issueAt(invalid(config, 1).err, 'gateway.ports').message, /at least one port/);

  config['gateway'] = { host: 'cmg.contoso.com', ports: [443, 0, '10140', 65536] };
  const { err, text } = invalid(config, 3);
  const zero = issueAt(err, 'gateway.ports[1]');
  assert.match(zero.message, /expected an integer from 1 to 65535/);
  assert.is(zero.value, 0);
  assertAt(zero, positionAt(text, text.indexOf('      0,') + 6));
  assert.is(issueAt(err, 'gateway.ports[2]').value, '10140');
  assert.is(issueAt(err, 'gateway.ports[3]').value, 65536);

  config['gateway'] = { host: 'cmg.contoso.com', ports: 443 };
  const single = issueAt(invalid(config, 1).err, 'gateway.ports');
  assert.match(single.message, /expected a list of ports/);
  assert.is(single.value, 443);
});

test('gateway.proxy must be http://host:port', () => {
  const bad = [
    'https://proxy.contoso.com:8080',
    'http://proxy.contoso.com',
    'proxy.contoso.com:8080',
    'http://proxy.contoso.com:8080/path',
    'socks5://proxy:1080',
    'not a url',
  ];
  for (const proxy of bad) {
    const config = minimalConnector();
    config['gateway'] = { host: 'cmg.contoso.com', ports: [443], proxy };
    const { err, text } = invalid(config, 1);
    const issue = issueAt(err, 'gateway.proxy');
    assert.match(issue.message, /expected a proxy URL of the form http:\/\/host:port/, proxy);
    assert.is(issue.value, proxy);
    assertAt(issue, where(text, '"proxy"'));
  }
  const config = minimalConnector();
  config['gateway'] = { host: 'cmg.contoso.com', ports: [443], proxy: 'http://10.0.0.8:3128' };
  const { file } = tmp.writeJson('connector.json', config);
  assert.is(load(file, {}).gateway.proxy, 'http://10.0.0.8:3128');
});

test('a URL with a user name or password is refused, and the password is never echoed', () => {
  const cases: { set: (c: Json) => void; path: string; shown: string }[] = [
    {
      set: (c) => {
        c['gateway'] = {
          host: 'cmg.contoso.com',
          ports: [443],
          proxy: 'http://svc:S3cret@proxy.contoso.com:8080',
        };
      },
      path: 'gateway.proxy',
      shown: 'http://***@proxy.contoso.com:8080',
    },
    {
      set: (c) => {
        c['roles'] = [
          { type: 'managementPoint', roleId: ROLE_ID, url: 'https://admin:S3cret@mp01.corp.contoso.com' },
        ];
      },
      path: 'roles[0].url',
      shown: 'https://***@mp01.corp.contoso.com',
    },
    {
      set: (c) => {
        c['endpoints'] = [{ external: '/CCM_System', internal: 'https://admin:S3cret@mp01/CCM_System' }];
      },
      path: 'endpoints[0].internal',
      shown: 'https://***@mp01/CCM_System',
    },
    {
      // A user name alone is refused too: it is half of a credential.
      set: (c) => {
        c['roles'] = [{ type: 'managementPoint', roleId: ROLE_ID, url: 'https://S3cret@mp01' }];
      },
      path: 'roles[0].url',
      shown: 'https://***@mp01',
    },
    {
      // Also wrong in itself (https): the secret is still the one problem reported.
      set: (c) => {
        c['gateway'] = { host: 'cmg.contoso.com', ports: [443], proxy: 'https://svc:S3cret@proxy:8080' };
      },
      path: 'gateway.proxy',
      shown: 'https://***@proxy:8080',
    },
  ];
  for (const c of cases) {
    const config = minimalConnector();
    c.set(config);
    const { err, text } = invalid(config, 1);
    const issue = issueAt(err, c.path);
    assert.match(issue.message, /must not contain a user name or password/);
    assert.match(issue.message, /secrets do not belong in config files/);
    assert.is(issue.value, c.shown);
    assertAt(issue, where(text, `"${c.path.split('.').at(-1)}"`));
    // Nowhere: not in the issue, not in the printed message, not in the JSON of `cmg config check --json`.
    assert.not.ok(JSON.stringify(issue).includes('S3cret'), JSON.stringify(issue));
    assert.not.ok(err.message.includes('S3cret'), err.message);
    assert.not.ok(JSON.stringify(err.toJSON()).includes('S3cret'));
  }
});

test('a URL that does not parse is not echoed with its password either', () => {
  const config = minimalConnector();
  // The "/" in the password ends the host part, so this does not parse as a URL at all.
  config['gateway'] = { host: 'cmg.contoso.com', ports: [443], proxy: 'http://svc:Pa55/w0rd@proxy:8080' };
  const { err } = invalid(config, 1);
  const issue = issueAt(err, 'gateway.proxy');
  assert.match(issue.message, /expected a proxy URL of the form http:\/\/host:port/);
  assert.is(issue.value, 'http://***@proxy:8080');
  const json = JSON.stringify(err.toJSON());
  assert.not.ok(json.includes('Pa55') || json.includes('w0rd'), json);
});

test('gateway.host: a name whose labels are all digits must be a valid IPv4 address', () => {
  for (const bad of ['300.1.1.1', '1.2.3', '1.2.3.4.5']) {
    const config = minimalConnector();
    config['gateway'] = { host: bad, ports: [443] };
    const issue = issueAt(invalid(config, 1).err, 'gateway.host');
    assert.match(issue.message, /expected an IP address .* or a DNS name/);
    assert.is(issue.value, bad);
  }
});

test('gateway.serverName must be a DNS name or an IP address', () => {
  for (const bad of ['not a host!', '300.1.1.1', 'cmg_contoso', '', 42]) {
    const config = minimalConnector();
    config['gateway'] = { host: '10.1.2.3', ports: [443], serverName: bad };
    const { err, text } = invalid(config, 1);
    const issue = issueAt(err, 'gateway.serverName');
    assert.match(issue.message, /expected .*DNS name.* such as cmg\.contoso\.com/);
    assert.is(issue.value, bad);
    assertAt(issue, where(text, '"serverName"'));
  }
  for (const good of ['cmg.contoso.com', '10.1.2.3', '2001:db8::1']) {
    const config = minimalConnector();
    config['gateway'] = { host: '10.1.2.3', ports: [443], serverName: good };
    const { file } = tmp.writeJson('connector.json', config);
    assert.is(load(file, {}).gateway.serverName, good);
  }
});

test('gateway.host must be an address or DNS name; gateway.host missing is required', () => {
  const config = minimalConnector();
  config['gateway'] = { host: 'cmg contoso com', ports: [443] };
  const host = issueAt(invalid(config, 1).err, 'gateway.host');
  assert.match(host.message, /expected an IP address .* or a DNS name/);
  assert.is(host.value, 'cmg contoso com');
  config['gateway'] = { ports: [443] };
  const { err, text } = invalid(config, 1);
  const missing = issueAt(err, 'gateway.host');
  assert.match(missing.message, /is required/);
  assertAt(missing, where(text, '"gateway"'));
});

test('gateway.caFiles: empty list and missing file', () => {
  const config = minimalConnector();
  config['gateway'] = { host: 'cmg.contoso.com', ports: [443], caFiles: [] };
  assert.match(issueAt(invalid(config, 1).err, 'gateway.caFiles').message, /at least 1 file path/);
  config['gateway'] = { host: 'cmg.contoso.com', ports: [443], caFiles: ['web-root.pem'] };
  const { err, text } = invalid(config, 1);
  const issue = issueAt(err, 'gateway.caFiles[0]');
  assert.match(issue.message, /file not found/);
  assert.ok(issue.message.includes(tmp.path('web-root.pem')), issue.message);
  assert.is(issue.value, 'web-root.pem');
  assertAt(issue, where(text, '"web-root.pem"'));
});

// ---------------------------------------------------------------- scalars

test('siteCode: missing, reserved, malformed, wrong type', () => {
  const config = minimalConnector();
  delete config['siteCode'];
  const missing = issueAt(invalid(config, 1).err, 'siteCode');
  assert.match(missing.message, /is required/);
  assert.is(missing.line, 1);
  for (const [code, message] of [
    ['prn', /reserved/],
    ['CON', /reserved/],
    ['PS', /three letters or digits/],
    ['PS-1', /three letters or digits/],
    [301, /expected a site code such as PS1/],
  ] as const) {
    const { err, text } = invalid({ ...config, siteCode: code }, 1);
    const issue = issueAt(err, 'siteCode');
    assert.match(issue.message, message);
    assert.is(issue.value, code);
    assertAt(issue, where(text, '"siteCode"'));
  }
});

test('connectionsPerInstance and heartbeatSeconds: ranges, integers, types', () => {
  const config = minimalConnector();
  const cases = [
    ['connectionsPerInstance', 0, /expected an integer from 1 to 16/],
    ['connectionsPerInstance', 17, /expected an integer from 1 to 16/],
    ['connectionsPerInstance', 1.5, /expected an integer from 1 to 16/],
    ['connectionsPerInstance', '2', /expected an integer from 1 to 16/],
    ['heartbeatSeconds', 0, /expected an integer from 1 to 60/],
    ['heartbeatSeconds', 61, /expected an integer from 1 to 60/],
    ['heartbeatSeconds', 20.5, /expected an integer from 1 to 60/],
    ['heartbeatSeconds', true, /expected an integer from 1 to 60/],
  ] as const;
  for (const [key, value, message] of cases) {
    const { err, text } = invalid({ ...config, [key]: value }, 1);
    const issue = issueAt(err, key);
    assert.match(issue.message, message);
    assert.match(issue.message, new RegExp(`got ${JSON.stringify(value)}$`));
    assert.is(issue.value, value);
    assertAt(issue, where(text, `"${key}"`));
  }
  const { file } = tmp.writeJson('connector.json', {
    ...config,
    connectionsPerInstance: 16,
    heartbeatSeconds: 1,
  });
  const ok = load(file, {});
  assert.is(ok.connectionsPerInstance, 16);
  assert.is(ok.heartbeatSeconds, 1);
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
  CONNECTOR,
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
      const { file } = tmp.writeJson('connector.json', { ...minimalConnector(), [key]: value });
      assert.is(load(file, {})[key], value);
    }
  }
});

test('drainSeconds and trafficReportSeconds in YAML: a quoted number and a fraction, located at their lines', () => {
  const text = [
    'siteCode: ps1',
    'gateway: { host: cmg.contoso.com, ports: [443] }',
    'tls: { certFile: cp01.pem, keyFile: cp01.key }',
    'roles:',
    `  - { type: managementPoint, roleId: "${ROLE_ID}", url: "https://mp01.corp.contoso.com" }`,
    'drainSeconds: "30"',
    'trafficReportSeconds: 0.5',
    '',
  ].join('\n');
  const err = invalidYaml(text, 2);
  const drain = issueAt(err, 'drainSeconds');
  assert.match(drain.message, /^expected an integer from 0 to 3600, got "30"$/);
  assert.is(drain.value, '30');
  assertAt(drain, { line: 6, column: 1 });
  const report = issueAt(err, 'trafficReportSeconds');
  assert.match(report.message, /^expected an integer from 1 to 86400, got 0\.5$/);
  assert.is(report.value, 0.5);
  assertAt(report, { line: 7, column: 1 });
});

test('admin: port out of range, host wrong type, unknown key', () => {
  const config = minimalConnector();
  config['admin'] = { host: 127001, port: 99999, bind: 'x' };
  const { err } = invalid(config, 3);
  assert.match(issueAt(err, 'admin.host').message, /expected a host/);
  assert.is(issueAt(err, 'admin.host').value, 127001);
  assert.match(issueAt(err, 'admin.port').message, /expected an integer from 0 to 65535/);
  assert.match(issueAt(err, 'admin.bind').message, /unknown key/);
});

// ---------------------------------------------------------------- files

testOneIssue(test, tmp, CONNECTOR, [
  {
    title: 'missing internal CA file: path, value and resolved location',
    setup: () => tmp.touch('corp-root.pem'),
    set: { internalCaFiles: ['corp-root.pem', 'ca/corp-issuing.pem'] },
    path: 'internalCaFiles[1]',
    messages: [/file not found/],
    mentions: 'ca/corp-issuing.pem',
    value: 'ca/corp-issuing.pem',
    at: '"ca/corp-issuing.pem"',
  },
  {
    title: 'referenced path is a folder',
    setup: () => mkdirSync(tmp.path('keys')),
    set: { tls: { certFile: 'cp01.pem', keyFile: 'keys' } },
    path: 'tls.keyFile',
    messages: [/expected a file, got a folder/],
    value: 'keys',
  },
]);

test('unreadable referenced file: "not readable" (run as another user when root)', () => {
  tmp.touch('corp-root.pem');
  const { file } = tmp.writeJson('connector.json', {
    ...minimalConnector(),
    internalCaFiles: ['corp-root.pem'],
  });
  const result = loadUnreadable(tmp, CONNECTOR, file, tmp.path('corp-root.pem'));
  assert.is(result.name, 'ConfigError');
  assert.is(result.code, 'CMG_CONFIG_INVALID');
  assert.is(result.issues?.length, 1);
  const issue = result.issues![0]!;
  assert.is(issue.path, 'internalCaFiles[0]');
  assert.match(issue.message, /not readable/);
  assert.match(issue.message, new RegExp(`uid ${readerUid()}`));
  assert.is(issue.value, 'corp-root.pem');
});

test('config file missing, and config path a folder', () => {
  const missing = configError(() => loadConnectorConfig(tmp.path('connector.yaml'), {}));
  assert.is(missing.code, 'CMG_CONFIG_NOT_FOUND');
  assert.is(missing.file, tmp.path('connector.yaml'));
  assert.match(missing.issues[0]!.message, /config file not found/);
  assert.match(missing.hint ?? '', /--config/);
  mkdirSync(tmp.path('connector.yaml'));
  const folder = configError(() => loadConnectorConfig(tmp.path('connector.yaml'), {}));
  assert.is(folder.code, 'CMG_CONFIG_UNREADABLE');
  assert.match(folder.issues[0]!.message, /expected a config file, got a folder/);
  assert.is(exitCodeFor(missing), 2);
  assert.is(exitCodeFor(folder), 2);
});

// ---------------------------------------------------------------- TLS

test('tls: certFile without keyFile, keyFile without certFile', () => {
  const config = minimalConnector();
  config['tls'] = { certFile: 'cp01.pem' };
  const { err, text } = invalid(config, 1);
  const issue = issueAt(err, 'tls.keyFile');
  assert.match(issue.message, /is required/);
  assertAt(issue, where(text, '"tls"'));
  config['tls'] = { keyFile: 'cp01.key' };
  assert.match(issueAt(invalid(config, 1).err, 'tls.certFile').message, /is required/);
});

test('tls: PEM and PFX together refused', () => {
  tmp.touch('cp01.pfx');
  const config = minimalConnector();
  config['tls'] = { certFile: 'cp01.pem', keyFile: 'cp01.key', pfxFile: 'cp01.pfx' };
  const { err, text } = invalid(config, 1);
  const issue = issueAt(err, 'tls');
  assert.match(issue.message, /either certFile and keyFile, or pfxFile .*not both/);
  assertAt(issue, where(text, '"tls"'));
});

test('tls: pfxFile with passphraseEnv unset, then set (explicit env object)', () => {
  tmp.touch('cp01.pfx');
  const config = minimalConnector();
  config['tls'] = { pfxFile: 'cp01.pfx', passphraseEnv: 'CMG_CP_PFX_PASS' };
  const { err, file, text } = invalid(config, 1, { CMG_OTHER: 'x' });
  const issue = issueAt(err, 'tls.passphraseEnv');
  assert.match(issue.message, /environment variable CMG_CP_PFX_PASS is not set/);
  assert.is(issue.value, 'CMG_CP_PFX_PASS');
  assertAt(issue, where(text, '"passphraseEnv"'));
  const ok = load(file, { CMG_CP_PFX_PASS: 'secret' });
  assert.equal(ok.tls, { kind: 'pfx', pfxFile: tmp.path('cp01.pfx'), passphraseEnv: 'CMG_CP_PFX_PASS' });
});

// ---------------------------------------------------------------- several problems

test('several problems in one JSON file: all reported together, sorted by line', () => {
  const text = [
    '{',
    '  "logDir": false,',
    '  "roles": [',
    `    { "type": "managementPoint", "roleId": ${ROLE_ID}, "url": "https://mp01" }`,
    '  ],',
    '  "endpoints": [ { "external": "/a/", "internal": "https://mp01/a" } ],',
    '  "heartbeatSeconds": 0,',
    '  "tls": { "certFile": "missing.pem", "keyFile": "missing.key" },',
    '  "gateway": { "host": "cmg.contoso.com", "ports": [443, 443], "proxy": "http://p" },',
    '  "siteCode": "AUX"',
    '}',
    '',
  ].join('\n');
  const err = invalidFile(loadConnectorConfig, tmp.write('connector.json', text), 9);
  const expected: [string, { line: number; column: number }][] = [
    ['logDir', where(text, '"logDir"')],
    ['roles[0].roleId', where(text, '"roleId"')],
    ['endpoints[0].external', where(text, '"external"')],
    ['heartbeatSeconds', where(text, '"heartbeatSeconds"')],
    ['tls.certFile', where(text, '"certFile"')],
    ['tls.keyFile', where(text, '"keyFile"')],
    ['gateway.ports', where(text, '"ports"')],
    ['gateway.proxy', where(text, '"proxy"')],
    ['siteCode', where(text, '"siteCode"')],
  ];
  assert.equal(
    err.issues.map((i) => [i.path, { line: i.line, column: i.column }]),
    expected,
  );
  assert.match(err.message, /\(9 problems\)/);
});

test('several problems in one YAML file: all reported together, sorted by line', () => {
  tmp.touch('cp01.pem');
  const text = [
    'heartbeatSeconds: 90',
    'roles:',
    '  - type: managementPoint',
    `    roleId: ${ROLE_ID}`,
    '    url: ftp://mp01',
    'gateway:',
    '  ports: [443, 443]',
    'tls:',
    '  certFile: cp01.pem',
    'siteCode: PS12',
    'extra: 1',
    '',
  ].join('\n');
  const err = invalidFile(loadConnectorConfig, tmp.write('connector.yaml', text), 8);
  assert.equal(
    err.issues.map((i) => [i.path, i.line]),
    [
      ['heartbeatSeconds', 1],
      ['roles[0].roleId', 4],
      ['roles[0].url', 5],
      ['gateway.host', 6],
      ['gateway.ports', 7],
      ['tls.keyFile', 8],
      ['siteCode', 10],
      ['extra', 11],
    ].sort((a, b) => (a[1] as number) - (b[1] as number)),
  );
  const lines = err.issues.map((i) => i.line ?? 0);
  assert.equal(
    lines,
    [...lines].sort((a, b) => a - b),
  );
});

test('a ConfigError exits 2', () => {
  const { err } = invalid({ ...minimalConnector(), heartbeatSeconds: 'often' }, 1);
  assert.is(exitCodeFor(err), 2);
  assert.is(err.family, 'usage');
  assert.match(err.message, /heartbeatSeconds: expected an integer from 1 to 60, got "often"/);
});

// ---------------------------------------------------------------- loadDaemonConfig

test('loadDaemonConfig detects a connection point config by siteCode (JSON and YAML)', () => {
  const { file } = tmp.writeJson('daemon.json', minimalConnector());
  const result = loadDaemon(file, undefined, {});
  assert.is(result.kind, 'connector');
  assert.equal(result.config, load(file, {}));
  fullConnector();
  const yamlFile = tmp.write('conf/daemon.yml', FULL_YAML(tmp.path('abs/corp-root.pem')));
  const fromYaml = loadDaemon(yamlFile, undefined, {});
  assert.is(fromYaml.kind, 'connector');
  assert.equal(fromYaml.config, expectedFull(yamlFile));
});

test('loadDaemonConfig reports connector problems when siteCode is present', () => {
  const { file } = tmp.writeJson('daemon.json', { siteCode: 'PS1' });
  const err = configError(() => loadDaemonConfig(file, undefined, {}));
  assert.is(err.code, 'CMG_CONFIG_INVALID');
  assert.match(issueAt(err, 'gateway').message, /is required/);
  assert.match(issueAt(err, 'tls').message, /is required/);
});

test('loadDaemonConfig: serviceName wins over siteCode; neither is an error', () => {
  const { file } = tmp.writeJson('daemon.json', { ...minimalConnector(), serviceName: 'cmg.contoso.com' });
  const err = configError(() => loadDaemonConfig(file, undefined, {}));
  assert.match(issueAt(err, 'siteCode').message, /unknown key/);
  const { file: neither } = tmp.writeJson('neither.json', { gateway: { host: 'cmg.contoso.com' } });
  const err2 = configError(() => loadDaemonConfig(neither, undefined, {}));
  assert.match(err2.issues[0]!.message, /cannot tell which daemon/);
  assert.is(exitCodeFor(err2), 2);
  const asConnector = loadDaemon(tmp.writeJson('c.json', minimalConnector()).file, 'connector', {});
  assert.is(asConnector.kind, 'connector');
});

test.run();
