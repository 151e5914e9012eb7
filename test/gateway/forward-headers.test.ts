import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { forwardHeaders, xfccValue } from '../../src/gateway/forward-headers.js';
import { makeChain } from '../helpers/pki.js';

const RAW = [
  'Host',
  'cmg.contoso.com',
  'CCMClientID',
  'GUID:6E5AD1A2-2B7C-4E4E-9A59-3B4C2A1F0D11',
  'CCMClientIDSignature',
  'ABCDEF0123',
  'CCMClientTimestamp',
  '2026-11-29T01:00:00Z',
  'CCMClientTimestampsSignature',
  '0123ABCDEF',
  'Range',
  'bytes=0-1023',
  'Connection',
  'keep-alive, X-Hop',
  'X-Hop',
  'dropped because Connection names it',
  'Keep-Alive',
  'timeout=5',
  'Transfer-Encoding',
  'chunked',
  'Expect',
  '100-continue',
  'X-Forwarded-For',
  '6.6.6.6',
  'x-forwarded-client-cert',
  'Hash=forged;Subject="CN=admin"',
  'X-Forwarded-Proto',
  'http',
  'Forwarded',
  'for=6.6.6.6',
  'Content-Type',
  'application/octet-stream',
  'cmg-endpoint',
  '/CCM_Proxy_MutualAuth/forged',
  'X-CMG-Error',
  'forged',
];

test('ConfigMgr headers and Range pass untouched, in order and spelling; hop-by-hop, Host (the channel carries it as :authority), channel and forged forwarding headers go', async () => {
  const out = forwardHeaders(RAW, { clientIp: '203.0.113.7' });
  assert.equal(out, [
    ['CCMClientID', 'GUID:6E5AD1A2-2B7C-4E4E-9A59-3B4C2A1F0D11'],
    ['CCMClientIDSignature', 'ABCDEF0123'],
    ['CCMClientTimestamp', '2026-11-29T01:00:00Z'],
    ['CCMClientTimestampsSignature', '0123ABCDEF'],
    ['Range', 'bytes=0-1023'],
    ['Content-Type', 'application/octet-stream'],
    ['X-Forwarded-For', '203.0.113.7'],
    ['X-Forwarded-Proto', 'https'],
  ]);
});

test('a verified client certificate is sent as XFCC: Hash, Subject, Cert; a forged one is replaced', async () => {
  const chain = await makeChain();
  const cert = chain.leaf.cert;
  const out = forwardHeaders(RAW, { clientIp: '203.0.113.7', clientCertificate: cert });
  const xfcc = out.filter(([n]) => n.toLowerCase() === 'x-forwarded-client-cert');
  assert.equal(xfcc, [['X-Forwarded-Client-Cert', xfccValue(cert)]]);
  const value = xfccValue(cert);
  const m = /^Hash=([0-9a-f]{64});Subject="(.*)";Cert="(.*)"$/.exec(value);
  assert.ok(m, value);
  assert.is(m[1], cert.sha256Fingerprint.toLowerCase());
  assert.is(m[2], cert.subject);
  assert.is(decodeURIComponent(m[3] ?? ''), cert.toPem());
});

test.run();
