// Builds dist/cmg: one executable with Node's single executable applications
// (esbuild bundle -> SEA blob -> postject), entirely offline. See README.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, 'dist', 'sea');
const out = join(root, 'dist', 'cmg');
mkdirSync(work, { recursive: true });

const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
// Only what oclif reads at run time; no dependency list or scripts in the binary.
const runtimePjson = {
  name: pjson.name,
  version: pjson.version,
  description: pjson.description,
  oclif: pjson.oclif,
  type: 'commonjs',
};

const metaShim = join(work, 'import-meta-url.js');
writeFileSync(
  metaShim,
  "import { pathToFileURL } from 'node:url';\nexport const cmg_import_meta_url = pathToFileURL(process.execPath).href;\n",
);
const defines = {
  CMG_PACKAGE_JSON: JSON.stringify(runtimePjson),
  // Written by `npm run build` (oclif manifest), which build:binary runs first.
  CMG_MANIFEST: readFileSync(join(root, 'oclif.manifest.json'), 'utf8'),
};
await build({
  entryPoints: [join(root, 'src', 'binary-entry.ts')],
  outfile: join(work, 'cmg.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // Error classes name themselves from new.target.name; keep bundling from renaming them.
  keepNames: true,
  // Prefer ES module builds: some packages' UMD builds (jsonc-parser) require() their own files at run time.
  mainFields: ['module', 'main'],
  // oclif requires typescript lazily for its development mode only.
  external: ['typescript'],
  banner: { js: "process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1';" },
  logLevel: 'warning',
  legalComments: 'none',
  // import.meta.url, which ES modules use to find files beside them: the binary itself (a bundle has no other
  // file). The logs worker comes from an asset; @azure/storage-common only needs createRequire() to work.
  inject: [metaShim],
  define: { ...defines, 'import.meta.url': 'cmg_import_meta_url' },
});

// The worker thread of `cmg logs --json` (src/logs/ndjson-parallel.ts) runs from this asset.
await build({
  entryPoints: [join(root, 'src', 'logs', 'ndjson-worker.ts')],
  outfile: join(work, 'logs-worker.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  logLevel: 'warning',
  legalComments: 'none',
  inject: [metaShim],
  define: { 'import.meta.url': 'cmg_import_meta_url' },
});

writeFileSync(
  join(work, 'sea-config.json'),
  JSON.stringify({
    main: join(work, 'cmg.cjs'),
    output: join(work, 'cmg.blob'),
    disableExperimentalSEAWarning: true,
    useCodeCache: true,
    assets: { 'logs-worker.cjs': join(work, 'logs-worker.cjs') },
  }),
);
execFileSync(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')], {
  stdio: ['ignore', 'ignore', 'inherit'],
});

rmSync(out, { force: true });
copyFileSync(process.execPath, out);
chmodSync(out, 0o755);
try {
  execFileSync('strip', [out], { stdio: 'ignore' });
} catch {
  console.error('strip not found: the binary keeps its symbols (larger, works the same)');
}
execFileSync(
  process.execPath,
  [
    join(root, 'node_modules', 'postject', 'dist', 'cli.js'),
    out,
    'NODE_SEA_BLOB',
    join(work, 'cmg.blob'),
    '--sentinel-fuse',
    'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
  ],
  // postject's stderr is noise about stripped section names; show it only if it fails.
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
console.error(`wrote ${out}`);
