import { CmgCommand } from '../base.js';
import { deployConfigFrom, deployFlags, logDirOf, loggingFailure, pollMs } from './flags.js';

type Action = 'scale' | 'stop' | 'start';
const DONE: Record<Action, string> = { scale: 'scaled', stop: 'deallocated', start: 'started' };

/** `deploy scale`, `deploy stop` and `deploy start`: one action on the deployment's scale set. */
export abstract class ScaleSetCommand extends CmgCommand<typeof ScaleSetCommand> {
  static override flags = { ...deployFlags };
  protected abstract readonly action: Action;
  /** The capacity asked for (scale only). */
  protected instances(): number | undefined {
    return undefined;
  }

  async run(): Promise<{ scaleSet: string; capacity: number }> {
    const [{ azureClients, signIn }, { scaleSetAction }] = await Promise.all([
      import('../../deploy/azure.js'),
      import('../../deploy/scale-set.js'),
    ]);
    const flags = this.flags;
    const config = await deployConfigFrom(flags);
    const log = this.openLog(logDirOf(flags, config), 'CloudMgr.log', 'CloudMgr');
    const clients = azureClients(config);
    return loggingFailure(log, this.action, async () => {
      await signIn(clients);
      const instances = this.instances();
      const r = await scaleSetAction(config, clients, this.action, {
        ...(instances === undefined ? {} : { instances }),
        pollMs: pollMs(),
      });
      log.info(`deploy ${this.action}: ${r.scaleSet} ${DONE[this.action]} (${r.capacity} instances)`);
      return r;
    });
  }

  protected render(r: { scaleSet: string; capacity: number }): void {
    this.log(`scale set ${r.scaleSet}: ${DONE[this.action]} (${r.capacity} instances)`);
  }
}
