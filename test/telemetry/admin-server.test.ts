import { Counter, Registry } from 'prom-client';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startAdminServer } from '../../src/telemetry/admin-server.js';

test('healthz, readyz (200/503 with reasons), metrics, status, 404, 405 on a real socket', async () => {
  const metrics = new Registry();
  const c = new Counter({ name: 'cmg_test_total', help: 'a test counter', registers: [metrics] });
  c.inc(3);
  let ready = true;
  const admin = await startAdminServer('127.0.0.1', 0, {
    ready: () => ({ ready, reasons: ready ? [] : ['no healthy channel for site PS1'] }),
    status: () => ({ role: 'gateway', n: 1 }),
    metrics,
  });
  try {
    const get = (p: string, method = 'GET') => fetch(`${admin.url}${p}`, { method });
    const h = await get('/healthz');
    assert.is(h.status, 200);
    assert.is(await h.text(), 'ok\n');
    assert.is((await get('/readyz')).status, 200);
    ready = false;
    const r = await get('/readyz');
    assert.is(r.status, 503);
    assert.equal(await r.json(), { ready: false, reasons: ['no healthy channel for site PS1'] });
    const m = await get('/metrics');
    assert.match(m.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(await m.text(), /^cmg_test_total 3$/m);
    assert.equal(await (await get('/status')).json(), { role: 'gateway', n: 1 });
    assert.is((await get('/nope')).status, 404);
    assert.is((await get('/status', 'POST')).status, 405);
    assert.match(admin.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  } finally {
    await admin.close();
  }
});

test.run();
