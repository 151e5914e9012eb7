import type { DeploymentStatus } from '../../deploy/status.js';
import { OperationError } from '../../errors.js';
import { CmgCommand } from '../base.js';
import { deployConfigFrom, deployFlags, logDirOf, loggingFailure } from './flags.js';

export default class DeployStatus extends CmgCommand<typeof DeployStatus> {
  static override summary =
    'Show the gateway deployment: its provisioning state, each instance and its channel ports';
  static override description =
    'Reads the deployment (its provisioning state and, when it failed, Azure’s error with the failing resource), the ' +
    'scale set, and each instance with its power state and the ports connection points reach it on. Exits 0 when ' +
    'the deployment succeeded and every instance runs, 1 otherwise (after showing what it found), 2 on bad usage. ' +
    'After an interrupted deploy create, this shows where it got to.';
  static override examples = [
    '<%= config.bin %> deploy status --config deploy.json',
    '<%= config.bin %> deploy status --config deploy.json --json',
  ];
  static override flags = { ...deployFlags };

  async run(): Promise<DeploymentStatus> {
    const [{ azureClients, signIn }, { deploymentStatus }] = await Promise.all([
      import('../../deploy/azure.js'),
      import('../../deploy/status.js'),
    ]);
    const config = await deployConfigFrom(this.flags);
    const log = this.openLog(logDirOf(this.flags, config), 'CloudMgr.log', 'CloudMgr');
    const clients = azureClients(config);
    return loggingFailure(log, 'status', async () => {
      await signIn(clients);
      const s = await deploymentStatus(config, clients);
      log.info(
        `deploy status: deployment ${s.deployment} ${s.provisioningState ?? 'not found'}` +
          `${s.correlationId ? ` (correlation id ${s.correlationId})` : ''}, ` +
          `${s.instances.filter((i) => i.powerState === 'running').length}/${s.instances.length} instances running`,
      );
      if (s.provisioningState === undefined && s.scaleSet === undefined) {
        throw new OperationError(
          'CMG_DEPLOY_NOT_FOUND',
          `no gateway deployment in resource group ${config.resourceGroup} (subscription ${config.subscriptionId})`,
          {
            hint: 'Create it with cmg deploy create, or check resourceGroup and subscriptionId in the config.',
          },
        );
      }
      return s;
    });
  }

  protected override exitCodeOf(s: DeploymentStatus): number {
    return s.provisioningState === 'Succeeded' && s.instances.every((i) => i.powerState === 'running')
      ? 0
      : 1;
  }

  protected render(s: DeploymentStatus): void {
    this.log(
      `deployment ${s.deployment} in ${s.resourceGroup}: ${s.provisioningState ?? 'not found'}` +
        (s.timestamp ? ` (${s.timestamp})` : '') +
        (s.correlationId ? `, correlation id ${s.correlationId}` : ''),
    );
    if (s.error) {
      this.log(`  error ${s.error.code}: ${s.error.message}`);
      for (const d of s.error.details)
        this.log(`    ${d.code}: ${d.message}${d.target ? ` (${d.target})` : ''}`);
    }
    if (s.publicName) this.log(`public name: ${s.publicName}`);
    if (s.scaleSet) {
      this.log(
        `scale set ${s.scaleSet.name}: ${s.scaleSet.capacity} x ${s.scaleSet.vmSize}, ${s.scaleSet.provisioningState}`,
      );
      for (const i of s.instances) {
        this.log(
          `  instance ${i.instanceId} (${i.name}): ${i.powerState}, ${i.provisioningState}; ` +
            `channel ports ${i.channelPorts.tls} (TLS), ${i.channelPorts.https} (HTTPS)`,
        );
      }
    }
  }
}
