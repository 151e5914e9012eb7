/**
 * Entry of the single executable (Node SEA). oclif normally reads package.json
 * and imports command files from disk; a SEA has neither beside it, so the root
 * plugin is built here from package.json inlined at bundle time and the command
 * map compiled into the bundle.
 */
import { dirname } from 'node:path';
import { Config, execute, Plugin } from '@oclif/core';
import { COMMANDS } from './commands/index.js';

declare const CMG_PACKAGE_JSON: ConstructorParameters<typeof Plugin>[0]['pjson'];
/** oclif.manifest.json of this build, inlined: without it oclif derives every command's flags at each start. */
declare const CMG_MANIFEST: unknown;

async function main(): Promise<void> {
  const root = dirname(process.execPath);
  const plugin = new Plugin({ root, pjson: CMG_PACKAGE_JSON, isRoot: true, ignoreManifest: true });
  // oclif's explicit discovery would import() its target file; hand it the compiled map instead.
  (plugin as unknown as { commandCache: typeof COMMANDS }).commandCache = COMMANDS;
  (plugin as unknown as { _manifest: () => Promise<unknown> })._manifest = async () => CMG_MANIFEST;
  await plugin.load();
  const config = await Config.load({
    root,
    pjson: CMG_PACKAGE_JSON,
    plugins: new Map([[plugin.name, plugin]]),
  });
  await execute({ args: process.argv.slice(2), loadOptions: config });
}

void main();
