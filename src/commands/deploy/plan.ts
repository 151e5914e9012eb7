import { Flags } from '@oclif/core';
import type { PlanResult } from '../../deploy/plan.js';
import { CmgCommand } from '../base.js';
import { deployConfigFrom, deployFlags, logDirOf, loggingFailure, pollMs } from './flags.js';

export default class DeployPlan extends CmgCommand<typeof DeployPlan> {
  static override summary = 'Show what deploy create would create or change in Azure, touching nothing';
  static override description =
    'Validates the deploy config and its files, signs in, and asks Azure Resource Manager what the gateway template ' +
    'would create, change or leave alone (what-if; every resource is new when the resource group does not exist ' +
    'yet). Shows the public name, the channel ports of each instance and, with --clients, how many instances and ' +
    'how much outbound data that many clients need. Steps go to stderr and to CloudMgr.log.';
  static override examples = [
    '<%= config.bin %> deploy plan --config deploy.json',
    '<%= config.bin %> deploy plan --config deploy.json --clients 20000 --json',
  ];
  static override flags = {
    ...deployFlags,
    clients: Flags.integer({ description: 'size for this many managed clients', min: 1, helpValue: 'N' }),
  };

  async run(): Promise<PlanResult> {
    const [{ azureClients, signIn }, { deploymentInputs }, { plan }, { runSteps }] = await Promise.all([
      import('../../deploy/azure.js'),
      import('../../deploy/inputs.js'),
      import('../../deploy/plan.js'),
      import('../../deploy/progress.js'),
    ]);
    const config = await deployConfigFrom(this.flags);
    const log = this.openLog(logDirOf(this.flags, config), 'CloudMgr.log', 'CloudMgr');
    log.info(
      `deploy plan: ${config.source}, subscription ${config.subscriptionId}, group ${config.resourceGroup}`,
    );
    const clients = azureClients(config);
    const ctx: { result?: PlanResult } = {};
    await loggingFailure(log, 'plan', () =>
      runSteps(ctx, [
        {
          title: 'Validate the config and read its files',
          task: async (c) => {
            (c as { inputs?: unknown }).inputs = await deploymentInputs(config, clients.endpoints);
          },
        },
        { title: `Sign in (${config.cloud})`, task: () => signIn(clients) },
        {
          title: `What-if in resource group ${config.resourceGroup}`,
          task: async (c) => {
            const inputs = (c as { inputs: Awaited<ReturnType<typeof deploymentInputs>> }).inputs;
            c.result = await plan(config, clients, inputs, { clients: this.flags.clients, pollMs: pollMs() });
          },
        },
      ]),
    );
    const result = ctx.result as PlanResult;
    const counts = countBy(result.changes.map((c) => c.changeType));
    log.info(
      `deploy plan: ${
        Object.entries(counts)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ') || 'no resources'
      }`,
    );
    return result;
  }

  protected render(r: PlanResult): void {
    const width = Math.max(10, ...r.changes.map((c) => c.changeType.length));
    this.log(
      `${r.resourceGroupExists ? '' : `resource group ${r.resourceGroup} does not exist yet: it will be created in ${r.region}\n`}` +
        `deployment ${r.deployment} in ${r.resourceGroup} (${r.region}), ${r.instances} x ${r.vmSize}`,
    );
    for (const c of r.changes) this.log(`  ${c.changeType.padEnd(width)}  ${c.resourceType}  ${c.name}`);
    this.log(
      `public name: ${r.publicName}${r.serviceName === r.publicName ? '' : ` (clients use ${r.serviceName}: a CNAME to it)`}`,
    );
    this.log(
      `channel ports: ${r.channelPorts.map((p) => `instance ${p.instance}: ${p.tls}, ${p.https}`).join('; ')}` +
        (r.instances === 1 ? ' (one instance is also reached on 443 alone)' : ''),
    );
    if (r.sizing) {
      const s = r.sizing;
      this.log(
        `for ${s.clients} clients: ${s.instances} instances (6,000 clients per instance, at least 2), ` +
          `about ${s.outboundGbPerMonth.low}-${s.outboundGbPerMonth.high} GB outbound a month`,
      );
    }
  }
}

function countBy(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}
