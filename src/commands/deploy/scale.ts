import { Flags } from '@oclif/core';
import { deployFlags } from './flags.js';
import { ScaleSetCommand } from './scale-set-command.js';

export default class DeployScale extends ScaleSetCommand {
  static override summary = 'Set the number of gateway instances (1-16)';
  static override description =
    'Changes the scale set’s capacity and waits for Azure to finish. Instance i is reached by connection points on ' +
    '10140+i and 10124+i. Set instances in the deploy config too, or the next deploy create puts it back.';
  static override examples = ['<%= config.bin %> deploy scale --config deploy.json --instances 4'];
  static override flags = {
    ...deployFlags,
    instances: Flags.integer({ description: 'how many instances', required: true, min: 1, max: 16 }),
  };
  protected readonly action = 'scale' as const;

  protected override instances(): number {
    return (this.flags as unknown as { instances: number }).instances;
  }
}
