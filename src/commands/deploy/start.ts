import { ScaleSetCommand } from './scale-set-command.js';

export default class DeployStart extends ScaleSetCommand {
  static override summary = 'Start the gateway instances again after deploy stop';
  static override description = 'Starts every instance of the scale set and waits for Azure to finish.';
  static override examples = ['<%= config.bin %> deploy start --config deploy.json'];
  protected readonly action = 'start' as const;
}
