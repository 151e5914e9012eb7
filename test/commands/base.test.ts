import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const FIXTURE = fileURLToPath(new URL('../fixtures/logging-command.ts', import.meta.url));

for (const [signal, code] of [
  ['SIGTERM', 143],
  ['SIGINT', 130],
] as const) {
  test(`${signal} to a command with an open log: exit ${code}, every queued line written once`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cmg-base-'));
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      const exit = new Promise<number | null>((resolve, reject) => {
        const deadline = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`fixture did not stop within 20 s: ${stderr}`));
        }, 20_000);
        child.on('exit', (c) => {
          clearTimeout(deadline);
          resolve(c);
        });
      });
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
        if (stdout.includes('ready\n') && !child.killed) child.kill(signal);
      });
      assert.is(await exit, code, stderr);
      const wrote = /wrote (\d+)/.exec(stdout);
      assert.ok(wrote, `no count printed: ${stdout}`);
      const n = Number(wrote[1]);
      assert.ok(n >= 2000);
      const texts = readFileSync(join(dir, 'Fixture.log'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => /^<!\[LOG\[(.*)\]LOG\]!>/.exec(l)?.[1]);
      assert.equal(
        texts,
        Array.from({ length: n }, (_, i) => `line ${i + 1}`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
