/** `cmg demo`: the whole system on loopback, checked, in one command (what `npm start` runs). */
import { execFile, spawn } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RUN_JS, runCli } from '../helpers/cli.js';
import { tempLabDir, waitUntil } from '../helpers/cluster.js';

test('cmg demo --json: every check passes, both connection points serve, exit 0', async () => {
  const tmp = tempLabDir('cmg-e2e-demo-');
  try {
    const r = await runCli(['demo', '--json', '--rounds', '12', '--dir', tmp.dir], { timeoutMs: 60_000 });
    assert.is(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as {
      ok: boolean;
      checks: { name: string; ok: boolean }[];
      servedBy: Record<string, number>;
      requests: { method: string; status: number; count: number }[];
    };
    assert.is(result.ok, true);
    assert.is(result.checks.length, 7);
    assert.ok(result.checks.every((c) => c.ok));
    assert.equal(Object.keys(result.servedBy).sort(), ['PS1/cp01', 'PS1/cp02']);
    assert.is(result.requests.find((q) => q.method === 'CCM_POST')?.count, 12);
    assert.match(r.stderr, /stand-in management point on https:\/\/127\.0\.0\.1:\d+/);
  } finally {
    tmp.remove();
  }
});

test('cmg demo --keep: stays up, the printed curl command reaches the management point, Ctrl-C stops it with 0', async () => {
  const tmp = tempLabDir('cmg-e2e-demo-keep-');
  const child = spawn(process.execPath, [RUN_JS, 'demo', '--keep', '--rounds', '4', '--dir', tmp.dir], {
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    const curl = await waitUntil('the curl command', () => /^\s+(curl .+)$/m.exec(err)?.[1], 60_000);
    const out = await new Promise<string>((resolve, reject) =>
      execFile('sh', ['-c', `${curl} -sS`], (e, stdout, stderr) =>
        e ? reject(new Error(`${e.message} ${stderr}`)) : resolve(stdout),
      ),
    );
    assert.match(out, /^<MPList><MP Name=/);
    child.kill('SIGINT');
    assert.is(await exited, 0);
  } finally {
    child.kill('SIGKILL');
    tmp.remove();
  }
});

test.run();
