// What the benchmark scripts share: the --runs flag, the single binary copied
// alone into an empty folder (as it is deployed), statistics, and the results file.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export function runsFromArgv(defaultRuns) {
  const i = process.argv.indexOf('--runs');
  return i > 0 ? Number(process.argv[i + 1]) : defaultRuns;
}

/** A temp folder holding only a copy of dist/cmg; returns the folder and the binary's path. */
export function binaryAlone(prefix) {
  const binary = join(root, 'dist', 'cmg');
  if (!existsSync(binary)) {
    console.error('dist/cmg is missing: run `npm run build:binary` first');
    process.exit(1);
  }
  const dir = mkdtempSync(join(tmpdir(), prefix));
  copyFileSync(binary, join(dir, 'cmg'));
  return { dir, cmg: join(dir, 'cmg') };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** CPU seconds (user + system) a process has used so far, from /proc (USER_HZ 100). */
export function cpuSecondsOf(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Resident memory of a process in KB, from /proc. */
export function rssKbOf(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

export const machine = () =>
  `${cpus().length} x ${cpus()[0]?.model ?? 'unknown cpu'}, node ${process.version}`;

/** Writes bench/results/<name>-<date>.json. */
export function saveResult(name, result) {
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(
    join(root, 'bench', 'results', `${name}-${result.date.slice(0, 10)}.json`),
    `${JSON.stringify(result, null, 2)}\n`,
  );
}
