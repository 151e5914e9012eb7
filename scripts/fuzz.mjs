// The long fuzz run: the URL and routing properties of test/gateway/url-fuzz.test.ts
// with a million cases each (CI runs 3000). `node scripts/fuzz.mjs [RUNS]`, or with
// CMG_FUZZ_RUNS / CMG_FUZZ_SEED set. Prints each property's runs and time, then the total.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runs = process.argv[2] ?? process.env.CMG_FUZZ_RUNS ?? '1000000';
if (!/^[1-9]\d*$/.test(runs)) {
  console.error(`fuzz: the number of runs must be a positive integer, got ${JSON.stringify(runs)}`);
  process.exit(2);
}

console.error(`fuzz: ${Number(runs).toLocaleString('en')} runs per property (test/gateway/url-fuzz.test.ts)`);
const started = performance.now();
const child = spawn(
  process.execPath,
  [join(root, 'node_modules', 'uvu', 'bin.js'), '-r', 'tsx', 'test/gateway', 'url-fuzz\\.test\\.ts$'],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, CMG_FUZZ_RUNS: runs, CMG_FUZZ_REPORT: '1' },
  },
);
const stop = (signal) => child.kill(signal);
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
child.on('exit', (code, signal) => {
  const s = ((performance.now() - started) / 1000).toFixed(1);
  console.error(
    `fuzz: ${Number(runs).toLocaleString('en')} runs per property, ${s} s in all, exit ${code ?? signal}`,
  );
  process.exit(code ?? 1);
});
