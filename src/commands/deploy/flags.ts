import { dirname, join } from 'node:path';
import { Flags } from '@oclif/core';
import { CLOUDS, type CloudName } from '../../config/clouds.js';
import type { DeployConfig } from '../../config/deploy.js';
import type { CmtraceLogger } from '../../logs/logger.js';

/** Flags every `cmg deploy` command takes. */
export const deployFlags = {
  config: Flags.string({
    char: 'c',
    description: 'the deploy config file (JSON or YAML)',
    default: 'deploy.json',
    helpValue: 'FILE',
  }),
  cloud: Flags.string({
    description: 'the Azure cloud (overrides the config): its ARM endpoint and sign-in authority',
    options: Object.keys(CLOUDS),
  }),
  'log-dir': Flags.string({
    description: 'where CloudMgr.log is written (default: logs beside the config file)',
    helpValue: 'DIR',
  }),
};

/**
 * The deploy config, with --cloud applied. Its code is imported here: the
 * YAML and schema libraries take 0.15 s to load, which every other command
 * would pay at each start (oclif loads all command modules).
 */
export async function deployConfigFrom(flags: {
  config: string;
  cloud?: string | undefined;
}): Promise<DeployConfig> {
  const { loadDeployConfig } = await import('../../config/deploy.js');
  const config = loadDeployConfig(flags.config);
  return flags.cloud ? { ...config, cloud: flags.cloud as CloudName } : config;
}

export function logDirOf(flags: { 'log-dir'?: string | undefined }, config: DeployConfig): string {
  return flags['log-dir'] ?? join(dirname(config.source), 'logs');
}

/** How often long operations are polled: CMG_DEPLOY_POLL_MS shortens it (tests against the emulator). */
export function pollMs(): number {
  const v = Number(process.env.CMG_DEPLOY_POLL_MS);
  return Number.isFinite(v) && v > 0 ? v : 5000;
}

/** Runs a deploy command's work; a failure is written to CloudMgr.log (`deploy <what> failed: ...`) before it reaches the user. */
export async function loggingFailure<T>(
  log: CmtraceLogger,
  what: string,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (err) {
    log.error(`deploy ${what} failed: ${(err as Error).message}`);
    throw err;
  }
}
