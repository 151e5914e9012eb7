import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { restAfterPrefix } from '../../src/channel/paths.js';

const MP = '/CCM_Proxy_MutualAuth/72057594037927939';
const SYSTEM = `${MP}/CCM_System`;

test('the rest after the prefix and the query are kept exactly as the client sent them', () => {
  assert.is(restAfterPrefix(`${SYSTEM}/request`, SYSTEM), '/request');
  assert.is(restAfterPrefix(`${SYSTEM}/a%20b/c%41?x=%2F&y`, SYSTEM), '/a%20b/c%41?x=%2F&y');
  assert.is(restAfterPrefix(`${SYSTEM}/request?`, SYSTEM), '/request?');
  assert.is(restAfterPrefix(`${SYSTEM}/a/`, SYSTEM), '/a/', 'a trailing slash stays');
  assert.is(restAfterPrefix(`${SYSTEM}/`, SYSTEM), '/');
  assert.is(restAfterPrefix(`${SYSTEM}/x?a?b`, SYSTEM), '/x?a?b', 'the query starts at the first ?');
  assert.is(restAfterPrefix(`${SYSTEM}?q=/a/b`, SYSTEM), '?q=/a/b', 'slashes in the query are not segments');
});

test('the prefix matches case-insensitively, including percent-encoded prefix segments', () => {
  assert.is(
    restAfterPrefix('/ccm_proxy_mutualauth/72057594037927939/ccm_system/Request?A=B', SYSTEM),
    '/Request?A=B',
  );
  assert.is(restAfterPrefix('/CCM_Proxy_MutualAuth/7205%37594037927939/CCM_System/x', SYSTEM), '/x');
  assert.is(restAfterPrefix('/%43CM_Proxy_MutualAuth/72057594037927939/ccm%5fsystem/x', SYSTEM), '/x');
  assert.is(restAfterPrefix('/caf%C3%A9/x%C3%A9', '/CAF\u00c9'), '/x%C3%A9', 'non-ASCII, decoded as UTF-8');
});

test('exactly the prefix: an empty rest, or the query alone', () => {
  assert.is(restAfterPrefix(SYSTEM, SYSTEM), '');
  assert.is(restAfterPrefix(SYSTEM.toUpperCase(), SYSTEM), '');
  assert.is(restAfterPrefix(`${SYSTEM}?q`, SYSTEM), '?q');
  assert.is(restAfterPrefix(`${SYSTEM}?`, SYSTEM), '?');
});

test('a path that does not start with the prefix: undefined', () => {
  assert.is(restAfterPrefix(`${MP}/CCM_SystemX/request`, SYSTEM), undefined, 'whole segments only');
  assert.is(restAfterPrefix(`${MP}/CCM_Syste/request`, SYSTEM), undefined);
  assert.is(restAfterPrefix('/CCM_Proxy_MutualAuth/72057594037927940/CCM_System/x', SYSTEM), undefined);
  assert.is(restAfterPrefix(`/x${SYSTEM}/request`, SYSTEM), undefined);
  assert.is(restAfterPrefix(`x${SYSTEM}/request`, SYSTEM), undefined, 'not origin-form');
  assert.is(restAfterPrefix(`/${SYSTEM}`, SYSTEM), undefined);
});

test('bad percent-encoding in a prefix segment: undefined', () => {
  assert.is(restAfterPrefix('/CCM_Proxy_MutualAuth/7205%3/CCM_System/x', SYSTEM), undefined);
  assert.is(restAfterPrefix('/CCM_Proxy_MutualAuth/%zz/CCM_System/x', SYSTEM), undefined);
  assert.is(restAfterPrefix('/caf%C3/x', '/caf\u00c3'), undefined, 'invalid UTF-8');
});

test('a path shorter than the prefix: undefined', () => {
  assert.is(restAfterPrefix(MP, SYSTEM), undefined);
  assert.is(restAfterPrefix(`${MP}?CCM_System`, SYSTEM), undefined);
  assert.is(restAfterPrefix(`${MP}/`, SYSTEM), undefined);
  assert.is(restAfterPrefix('/', SYSTEM), undefined);
  assert.is(restAfterPrefix('', SYSTEM), undefined);
  // Missing segments are not compared as the text "undefined".
  assert.is(restAfterPrefix('/a', '/a/undefined'), undefined);
  assert.is(restAfterPrefix('/a?x', '/a/undefined'), undefined);
});

test.run();
