// Startup time: median wall time of `dist/cmg --version` (single binary) and
// `node bin/run.js --version` over repeated, interleaved runs.
// Usage: npm run bench:startup [-- --runs 30]   (builds nothing: run `npm run build:binary` first)
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { binaryAlone, machine, median, percentile, root, runsFromArgv, saveResult } from './lib.mjs';

const runs = runsFromArgv(30);
const { dir: alone, cmg } = binaryAlone('cmg-startup-');

const contenders = {
  'dist/cmg --version (single binary)': { cmd: cmg, args: ['--version'], cwd: alone },
  'node bin/run.js --version': {
    cmd: process.execPath,
    args: [join(root, 'bin', 'run.js'), '--version'],
    cwd: root,
  },
  // The floor: starting Node itself, in the same interleaved runs, so the differences hold on a noisy machine.
  'node -e (bare Node, for reference)': {
    cmd: process.execPath,
    args: ['-e', "process.stdout.write('cmg/')"],
    cwd: root,
  },
};
const times = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
for (const c of Object.values(contenders)) spawnSync(c.cmd, c.args, { cwd: c.cwd }); // warm the page cache
for (let i = 0; i < runs; i++) {
  for (const [name, c] of Object.entries(contenders)) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(c.cmd, c.args, { cwd: c.cwd, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0 || !r.stdout.startsWith('cmg/')) throw new Error(`${name} failed: ${r.stderr}`);
    times[name].push(ms);
  }
}
rmSync(alone, { recursive: true, force: true });

const result = {
  date: new Date().toISOString(),
  machine: machine(),
  runs,
  results: Object.entries(times).map(([name, xs]) => ({
    name,
    medianMs: +median(xs).toFixed(1),
    p90Ms: +percentile(xs, 90).toFixed(1),
    minMs: +Math.min(...xs).toFixed(1),
  })),
};
const floor = result.results.at(-1).medianMs;
console.log('| command | median | p90 | min | median minus bare Node |\n|---|---|---|---|---|');
for (const r of result.results) {
  const extra = (r.medianMs - floor).toFixed(1);
  console.log(`| \`${r.name}\` | ${r.medianMs} ms | ${r.p90Ms} ms | ${r.minMs} ms | +${extra} ms |`);
}
console.log(`\n${runs} interleaved runs each, ${result.machine}`);
saveResult('startup', result);
