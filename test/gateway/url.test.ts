import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Refused } from '../../src/gateway/refusals.js';
import { isRefused, type ValidTarget, validateTarget } from '../../src/gateway/url.js';

const LIMIT = 4096;

function ok(target: string): ValidTarget {
  const r = validateTarget(target, LIMIT);
  if (isRefused(r)) throw new Error(`refused ${JSON.stringify(target)}: ${r.reason}`);
  return r;
}

function refused(target: string, limit = LIMIT): Refused {
  const r = validateTarget(target, limit);
  if (!isRefused(r)) throw new Error(`accepted ${JSON.stringify(target)} as ${r.path}`);
  return r;
}

test('ConfigMgr client URLs pass, decoded once for routing and forwarded raw', () => {
  const t = ok('/CCM_Proxy_MutualAuth/72057594037927939/CCM_System/request');
  assert.is(t.path, '/CCM_Proxy_MutualAuth/72057594037927939/CCM_System/request');
  const q = ok('/CCM_Proxy_MutualAuth/72057594037927939/SMS_MP/.sms_aut?MPLIST&x=%20y');
  assert.is(q.path, '/CCM_Proxy_MutualAuth/72057594037927939/SMS_MP/.sms_aut');
  assert.is(q.query, 'MPLIST&x=%20y');
  assert.is(q.raw, '/CCM_Proxy_MutualAuth/72057594037927939/SMS_MP/.sms_aut?MPLIST&x=%20y');
  const enc = ok('/CCM_Proxy_MutualAuth/1/Content/a%20b%C3%A9.cab');
  assert.is(enc.path, '/CCM_Proxy_MutualAuth/1/Content/a bé.cab');
  assert.is(enc.raw, '/CCM_Proxy_MutualAuth/1/Content/a%20b%C3%A9.cab');
  assert.is(ok('/CCM_Proxy_MutualAuth/1/CCM_System/').path, '/CCM_Proxy_MutualAuth/1/CCM_System/');
});

// Each is refused as an invalid URL (400) before anything routes on it.
const INVALID: [string, string][] = [
  ['dot segment', '/CCM_Proxy_MutualAuth/1/CCM_System/../../secret'],
  ['single dot segment', '/CCM_Proxy_MutualAuth/./1/CCM_System'],
  ['encoded dot segment', '/CCM_Proxy_MutualAuth/1/%2e%2e/x'],
  ['mixed-case encoded dots', '/CCM_Proxy_MutualAuth/1/%2E./x'],
  ['encoded slash', '/CCM_Proxy_MutualAuth%2f1/CCM_System'],
  ['encoded backslash', '/CCM_Proxy_MutualAuth/1%5C..%5Cx'],
  ['raw backslash', '/CCM_Proxy_MutualAuth\\1'],
  ['encoded NUL', '/CCM_Proxy_MutualAuth/1/a%00.txt'],
  ['encoded control character', '/CCM_Proxy_MutualAuth/1/a%0d%0aX-Injected:1'],
  ['encoded DEL', '/a%7f'],
  ['raw space', '/a b'],
  ['raw non-ASCII', '/caf\u00e9'],
  ['bad percent-escape', '/a%zz'],
  ['truncated percent-escape', '/a%4'],
  ['bad escape in the query', '/a?x=%g1'],
  ['double encoding of a dot', '/CCM_Proxy_MutualAuth/1/%252e%252e/x'],
  ['double encoding of a slash', '/CCM_Proxy_MutualAuth%252f1'],
  ['invalid UTF-8', '/a%C3%28'],
  ['empty segment', '/CCM_Proxy_MutualAuth//1/CCM_System'],
  ['absolute-form target', 'http://cmg.contoso.com/CCM_Proxy_MutualAuth/1'],
  ['asterisk-form target', '*'],
  ['fragment', '/a#b'],
  ['empty', ''],
];

for (const [name, target] of INVALID) {
  test(`invalid URL refused with 400: ${name}`, () => {
    const r = refused(target);
    assert.is(r.refused, 'invalidUrl', r.reason);
    assert.ok(r.reason.length > 0);
  });
}

test('URL over the limit: 414, checked before anything else', () => {
  const long = `/CCM_Proxy_MutualAuth/1/${'a'.repeat(300)}`;
  assert.is(refused(long, 256).refused, 'urlTooLong');
  assert.is(refused(`${long}/../x`, 256).refused, 'urlTooLong');
  assert.is(ok(long).path, long);
});

test('C1 control characters and segments Windows would trim to a dot segment are refused', () => {
  assert.is(refused('/a/%C2%85/b').reason, 'encoded control character U+0085');
  assert.is(refused('/a/x%c2%9fy').reason, 'encoded control character U+009F');
  for (const seg of ['...', '..%20', '.%20%20', '%20..', '.%20.'])
    assert.match(refused(`/a/${seg}/b`).reason, /^dot segment/, seg);
  // A no-break space (U+00A0) is not a control character; dots inside a name are fine.
  assert.is(ok('/a/x%C2%A0y/b').path, '/a/x\u00a0y/b');
  assert.is(ok('/a/..x/b.cab').path, '/a/..x/b.cab');
  assert.is(ok('/a/%20/b').path, '/a/ /b');
});

test.run();
