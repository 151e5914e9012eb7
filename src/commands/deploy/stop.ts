import { ScaleSetCommand } from './scale-set-command.js';

export default class DeployStop extends ScaleSetCommand {
  static override summary = 'Deallocate every gateway instance (no compute is billed while stopped)';
  static override description =
    'Deallocates the scale set: the instances stop and their compute is no longer billed; the public IP, load ' +
    'balancer, Key Vault and storage stay. deploy start brings them back.';
  static override examples = ['<%= config.bin %> deploy stop --config deploy.json'];
  protected readonly action = 'stop' as const;
}
