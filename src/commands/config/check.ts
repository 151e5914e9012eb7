import { Args, Flags } from '@oclif/core';
import type { DaemonKind } from '../../config/kind.js';
import { CmgCommand } from '../base.js';

export interface ConfigCheckResult {
  file: string;
  kind: DaemonKind;
  valid: true;
  /** The configuration as the daemon will use it: defaults filled in, paths absolute. */
  config: Record<string, unknown>;
}

export default class ConfigCheck extends CmgCommand<typeof ConfigCheck> {
  static override summary = 'Check a gateway or connection point config file without starting anything';
  static override description =
    'Reads the file exactly as `cmg serve` or `cmg connect` would: JSON, or YAML for .yaml/.yml names; unknown keys, ' +
    'wrong types, and missing or unreadable referenced files are errors. Exits 0 when the file is valid, 2 when it is ' +
    'not, naming each key that is wrong and why.';
  static override examples = [
    '<%= config.bin %> config check gateway.json',
    '<%= config.bin %> config check connector.yaml --kind connector --json',
  ];
  static override args = {
    file: Args.string({ description: 'the config file to check', required: true }),
  };
  static override flags = {
    kind: Flags.string({
      description: 'which daemon the file is for (default: detected from its keys)',
      options: ['gateway', 'connector'],
    }),
  };

  async run(): Promise<ConfigCheckResult> {
    const loaded = await this.loadConfig(this.args.file, this.flags.kind as DaemonKind | undefined);
    return { file: loaded.config.source, kind: loaded.kind, valid: true, config: loaded.config };
  }

  protected render(result: ConfigCheckResult): void {
    this.log(
      `${result.file}: valid ${result.kind === 'gateway' ? 'gateway' : 'connection point'} configuration`,
    );
  }
}
