// Startup time: median wall time of `dist/cmg --version` (single binary) and
// `node bin/run.js --version` over repeated, interleaved runs.
// Usage: npm run bench:startup [-- --runs 30]   (builds nothing: run `npm run build:binary` first)
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runsFlag = process.argv.indexOf('--runs');
const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 30;
const binary = join(root, 'dist', 'cmg');
if (!existsSync(binary)) {
  console.error('dist/cmg is missing: run `npm run build:binary` first');
  process.exit(1);
}
// The binary runs from an empty folder, as it would be deployed.
const alone = mkdtempSync(join(tmpdir(), 'cmg-startup-'));
copyFileSync(binary, join(alone, 'cmg'));

const contenders = {
  'dist/cmg --version (single binary)': { cmd: join(alone, 'cmg'), args: ['--version'], cwd: alone },
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

const pct = (xs, p) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const result = {
  date: new Date().toISOString(),
  machine: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown cpu'}, node ${process.version}`,
  runs,
  results: Object.entries(times).map(([name, xs]) => ({
    name,
    medianMs: +median(xs).toFixed(1),
    p90Ms: +pct(xs, 90).toFixed(1),
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
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(
  join(root, 'bench', 'results', `startup-${result.date.slice(0, 10)}.json`),
  `${JSON.stringify(result, null, 2)}\n`,
);
