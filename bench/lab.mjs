// Time to create a complete lab PKI: median wall time of `cmg certs lab` (the
// single binary, from an empty folder) over repeated runs, per key type.
// Usage: npm run bench:lab [-- --runs 10]   (run `npm run build:binary` first)
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { binaryAlone, machine, median, runsFromArgv, saveResult } from './lib.mjs';

const runs = runsFromArgv(10);
const { dir: work, cmg } = binaryAlone('cmg-lab-bench-');

const keyTypes = ['rsa2048', 'p256', 'rsa4096'];
const times = Object.fromEntries(keyTypes.map((k) => [k, []]));
for (let i = 0; i < runs; i++) {
  for (const keyType of keyTypes) {
    const out = join(work, `lab-${keyType}-${i}`);
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmg, ['certs', 'lab', '--out', out, '--key-type', keyType], {
      cwd: work,
      encoding: 'utf8',
    });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`cmg certs lab --key-type ${keyType} failed: ${r.stderr}`);
    times[keyType].push(ms);
    rmSync(out, { recursive: true, force: true });
  }
}
rmSync(work, { recursive: true, force: true });

const result = {
  date: new Date().toISOString(),
  machine: machine(),
  runs,
  what: 'cmg certs lab: 5 CAs, 6 leaf certificates (2 connection points), 11 key pairs, 5 CRLs, 3 configs',
  results: keyTypes.map((k) => ({
    keyType: k,
    medianMs: +median(times[k]).toFixed(0),
    minMs: +Math.min(...times[k]).toFixed(0),
    maxMs: +Math.max(...times[k]).toFixed(0),
  })),
};
console.log('| key type | median | min | max |\n|---|---|---|---|');
for (const r of result.results)
  console.log(`| ${r.keyType} | ${r.medianMs} ms | ${r.minMs} ms | ${r.maxMs} ms |`);
console.log(`\n${runs} interleaved runs each, ${result.machine}`);
saveResult('lab', result);
