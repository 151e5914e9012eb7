import { createInterface } from 'node:readline/promises';
import { Flags } from '@oclif/core';
import { UsageError } from '../../errors.js';
import { CmgCommand } from '../base.js';
import { deployConfigFrom, deployFlags, logDirOf, loggingFailure, pollMs } from './flags.js';

export default class DeployDelete extends CmgCommand<typeof DeployDelete> {
  static override summary = 'Delete the gateway deployment: its resource group and everything in it';
  static override description =
    'Deletes the resource group cmg deploy created (tagged managed-by=cmg; any other group is refused), with the ' +
    'scale set, load balancer, public IP and its DNS name, Key Vault (kept soft-deleted for 7 days) and storage. ' +
    'Asks for the group’s name first on a terminal; --yes skips the question and is needed anywhere else.';
  static override examples = [
    '<%= config.bin %> deploy delete --config deploy.json',
    '<%= config.bin %> deploy delete --config deploy.json --yes',
  ];
  static override flags = {
    ...deployFlags,
    yes: Flags.boolean({ char: 'y', description: 'do not ask' }),
  };

  async run(): Promise<{ resourceGroup: string; result: 'deleted' | 'not found' }> {
    const [{ azureClients, signIn }, { deleteDeployment }] = await Promise.all([
      import('../../deploy/azure.js'),
      import('../../deploy/scale-set.js'),
    ]);
    const config = await deployConfigFrom(this.flags);
    const rg = config.resourceGroup;
    if (!this.flags.yes) {
      if (!process.stdin.isTTY || !process.stderr.isTTY) {
        throw new UsageError(
          `deploy delete removes resource group ${rg} and everything in it: confirm with --yes`,
        );
      }
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      let answer = '';
      try {
        answer = await rl.question(
          `Delete resource group ${rg} and everything in it? Type its name to confirm: `,
        );
      } catch {
        // Ctrl-C or Ctrl-D at the question.
        process.stderr.write('\nnothing deleted\n');
        process.exit(130);
      } finally {
        rl.close();
      }
      if (answer.trim() !== rg)
        throw new UsageError(`not confirmed ("${answer.trim()}" is not ${rg}): nothing deleted`);
    }
    const log = this.openLog(logDirOf(this.flags, config), 'CloudMgr.log', 'CloudMgr');
    const clients = azureClients(config);
    return loggingFailure(log, 'delete', async () => {
      await signIn(clients);
      this.note(`deleting resource group ${rg} ...`);
      const result = await deleteDeployment(config, clients, pollMs());
      log.info(`deploy delete: resource group ${rg} ${result}`);
      return { resourceGroup: rg, result };
    });
  }

  protected render(r: { resourceGroup: string; result: string }): void {
    this.log(`resource group ${r.resourceGroup}: ${r.result}`);
  }
}
