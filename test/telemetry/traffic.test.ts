import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Recent, TrafficReporter, TrafficStats, trafficLines } from '../../src/telemetry/traffic.js';

test('counts per endpoint: requests, failures, bytes, most at once; a period resets, the lifetime does not', () => {
  const t = new TrafficStats();
  t.begin('/a');
  t.begin('/a');
  t.begin('/b');
  t.end('/a', { failed: false, bytesIn: 10, bytesOut: 100 });
  t.end('/b', { failed: true, bytesIn: 0, bytesOut: 5 });
  const period = t.takePeriod();
  assert.equal(period, [
    { endpoint: '/a', requests: 1, failed: 0, bytesIn: 10, bytesOut: 100, maxConcurrent: 2 },
    { endpoint: '/b', requests: 1, failed: 1, bytesIn: 0, bytesOut: 5, maxConcurrent: 1 },
  ]);
  // The request still in flight on /a carries into the next period.
  t.end('/a', { failed: false, bytesIn: 1, bytesOut: 2 });
  assert.equal(t.takePeriod(), [
    { endpoint: '/a', requests: 1, failed: 0, bytesIn: 1, bytesOut: 2, maxConcurrent: 1 },
  ]);
  assert.equal(t.takePeriod(), []);
  assert.equal(
    t
      .lifetime()
      .map((x) => [x.endpoint, x.requests, x.failed, x.bytesIn, x.bytesOut, x.maxConcurrent, x.inFlight]),
    [
      ['/a', 2, 0, 11, 102, 2, 0],
      ['/b', 1, 1, 0, 5, 1, 0],
    ],
  );
});

test('report lines name the period and every figure; an idle period says so', () => {
  assert.equal(trafficLines(300, []), ['traffic report (300 s): no requests']);
  assert.equal(
    trafficLines(60, [{ endpoint: '/x', requests: 3, failed: 1, bytesIn: 7, bytesOut: 9, maxConcurrent: 2 }]),
    ['traffic report (60 s): /x: 3 requests, 1 failed, 7 bytes in, 9 bytes out, at most 2 at once'],
  );
});

test('Recent keeps the last n', () => {
  const r = new Recent<number>(3);
  for (let i = 1; i <= 5; i++) r.push(i);
  assert.equal(r.list(), [3, 4, 5]);
});

test('the reporter writes the period in progress when it ends, and nothing after', () => {
  const t = new TrafficStats();
  const lines: string[] = [];
  const r = new TrafficReporter(3600, t, (l) => lines.push(l));
  r.start();
  t.begin('/a');
  t.end('/a', { failed: false, bytesIn: 1, bytesOut: 2 });
  r.final();
  assert.equal(lines, [
    'traffic report (3600 s): /a: 1 requests, 0 failed, 1 bytes in, 2 bytes out, at most 1 at once',
  ]);
  assert.equal(t.takePeriod(), []);
});

test.run();
