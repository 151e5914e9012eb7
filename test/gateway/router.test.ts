import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { needsClientCertificate, PrefixRouter } from '../../src/gateway/router.js';

const MP = '/CCM_Proxy_MutualAuth/72057594037927939';

function router(): PrefixRouter<string> {
  const r = new PrefixRouter<string>();
  r.set(`${MP}/CCM_System`, 'system');
  r.set(`${MP}/CCM_System_TokenAuth`, 'token');
  r.set(`${MP}/SMS_MP`, 'smsmp');
  r.set('/CCM_Proxy_MutualAuth/72057594037927940/Content', 'sup-content');
  r.set(`${MP}/CCM_System/special`, 'special');
  return r;
}

test('longest published prefix wins, on whole segments', () => {
  const r = router();
  assert.equal(r.match(`${MP}/CCM_System/request`), {
    prefix: `${MP}/CCM_System`,
    value: 'system',
    rest: '/request',
  });
  assert.is(r.match(`${MP}/CCM_System/special/x`)?.value, 'special');
  assert.is(r.match(`${MP}/CCM_System_TokenAuth/x`)?.value, 'token');
  assert.is(r.match(`${MP}/CCM_System`)?.rest, '');
  assert.is(r.match(`${MP}/CCM_SystemX/request`), undefined, 'a prefix matches whole segments only');
  assert.is(r.match(`${MP}`), undefined);
  assert.is(r.match('/'), undefined);
  assert.is(r.match('/CCM_Proxy_MutualAuth/99/CCM_System/request'), undefined);
});

test('case-insensitive, as IIS matches paths; the published spelling is reported', () => {
  const hit = router().match('/ccm_proxy_mutualauth/72057594037927939/ccm_system/request');
  assert.equal(hit, { prefix: `${MP}/CCM_System`, value: 'system', rest: '/request' });
});

test('set replaces, delete removes', () => {
  const r = router();
  r.set(`${MP}/ccm_system/`, 'replaced');
  assert.is(r.size, 5);
  assert.is(r.match(`${MP}/CCM_System/request`)?.value, 'replaced');
  assert.is(r.delete(`${MP}/CCM_SYSTEM`), true);
  assert.is(r.match(`${MP}/CCM_System/request`), undefined);
  assert.is(r.match(`${MP}/CCM_System/special`)?.value, 'special');
});

test('the mutual-auth namespace needs a client certificate, case-insensitively', () => {
  assert.is(needsClientCertificate(`${MP}/CCM_System/request`), true);
  assert.is(needsClientCertificate('/ccm_proxy_mutualauth/1/x'), true);
  assert.is(needsClientCertificate('/CCM_Proxy_MutualAuth'), true);
  assert.is(needsClientCertificate('/CCM_Proxy_MutualAuthX/1'), false);
  assert.is(needsClientCertificate('/CCM_Proxy_ServerAuth/1/x'), false);
});

test('the rest is cut by segments, even where lower-casing changes the length (İ)', () => {
  const r = new PrefixRouter<string>();
  r.set('/İ/a', 'x');
  assert.is(r.match('/İ/a/rest')?.rest, '/rest');
  assert.is(r.match('/İ/a/')?.rest, '/');
});

test.run();
