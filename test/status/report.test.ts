import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { GatewayStatus } from '../../src/gateway/observe.js';
import { answered, problems, reportExitCode, type SourceReport } from '../../src/status/report.js';

function answer(url: string, reasons: string[] = []): SourceReport {
  return {
    url,
    kind: 'gateway',
    ready: reasons.length === 0,
    readiness: { ready: reasons.length === 0, reasons },
    status: { role: 'gateway' } as GatewayStatus,
  };
}
const failed = (url: string): SourceReport => ({
  url,
  kind: 'connector',
  error: `cannot reach the connection point at ${url}: x`,
});

test('every source answered and ready: exit 0, no problem', () => {
  const report = { defaults: false, sources: [answer('http://a'), answer('http://b')] };
  assert.equal(problems(report), []);
  assert.is(reportExitCode(report), 0);
  assert.is(answered(report).length, 2);
});

test('a source not ready: exit 1, the problem names it and its reasons', () => {
  const report = {
    defaults: false,
    sources: [answer('http://a'), answer('http://b', ['draining', 'no healthy channel for site PS1'])],
  };
  assert.equal(problems(report), [
    'the gateway at http://b is not ready: draining; no healthy channel for site PS1',
  ]);
  assert.is(reportExitCode(report), 1);
});

test('a source that did not answer: exit 1, its error is the problem', () => {
  const report = { defaults: false, sources: [answer('http://a'), failed('http://c')] };
  assert.equal(problems(report), ['cannot reach the connection point at http://c: x']);
  assert.is(reportExitCode(report), 1);
});

test('defaults: a default address that does not answer is no failure while another answers', () => {
  assert.is(reportExitCode({ defaults: true, sources: [answer('http://a'), failed('http://c')] }), 0);
  assert.is(reportExitCode({ defaults: true, sources: [answer('http://a', ['r']), failed('http://c')] }), 1);
  const none = { defaults: true, sources: [failed('http://a'), failed('http://c')] };
  assert.is(problems(none).length, 2);
  assert.is(reportExitCode(none), 1);
});

test.run();
