import { Flags } from '@oclif/core';
import type { ResourceProgress } from '../../deploy/create.js';
import type { DeploymentInputs } from '../../deploy/inputs.js';
import { CmgCommand } from '../base.js';
import { deployConfigFrom, deployFlags, logDirOf, loggingFailure, pollMs } from './flags.js';

export interface CreateResult {
  resourceGroup: string;
  deployment: string;
  correlationId: string | undefined;
  publicName: string;
  serviceName: string;
  artifact: string;
  resources: ResourceProgress[];
  instances: { running: number; total: number } | undefined;
}

export default class DeployCreate extends CmgCommand<typeof DeployCreate> {
  static override summary = 'Create or update the gateway deployment in Azure';
  static override description =
    'Validates the config, signs in, creates the resource group, uploads the cmg binary to the deployment’s storage ' +
    '(unless it is there already), deploys the template (showing each resource as Azure provisions it) and waits ' +
    'for every instance to run. Running it again with the same config changes nothing. Ctrl-C stops waiting; the ' +
    'deployment carries on in Azure (cmg deploy status shows it). Each step, with Azure’s correlation ids and full ' +
    'errors, goes to CloudMgr.log.';
  static override examples = [
    '<%= config.bin %> deploy create --config deploy.json',
    '<%= config.bin %> deploy create --config deploy.json --no-wait --json',
  ];
  static override flags = {
    ...deployFlags,
    wait: Flags.boolean({
      description: 'wait for every instance to run (--no-wait: stop once the template is deployed)',
      default: true,
      allowNo: true,
    }),
    'wait-minutes': Flags.integer({ description: 'how long to wait for the instances', default: 20, min: 1 }),
  };

  private waiting = false;
  /** While Azure runs something that goes on without us (the template deployment, the instances starting). */
  private azureBusy = false;

  async run(): Promise<CreateResult> {
    const [{ azureClients, signIn }, { deploymentInputs, DEPLOYMENT_NAME }, create, { runSteps }] =
      await Promise.all([
        import('../../deploy/azure.js'),
        import('../../deploy/inputs.js'),
        import('../../deploy/create.js'),
        import('../../deploy/progress.js'),
      ]);
    const config = await deployConfigFrom(this.flags);
    const log = this.openLog(logDirOf(this.flags, config), 'CloudMgr.log', 'CloudMgr');
    log.info(
      `deploy create: ${config.source}, subscription ${config.subscriptionId}, group ${config.resourceGroup}`,
    );
    const clients = azureClients(config);
    const poll = pollMs();
    const ctx: { inputs?: DeploymentInputs; result?: CreateResult } = {};
    const result: CreateResult = {
      resourceGroup: config.resourceGroup,
      deployment: DEPLOYMENT_NAME,
      correlationId: undefined,
      publicName: '',
      serviceName: '',
      artifact: '',
      resources: [],
      instances: undefined,
    };
    const step = (title: string, work: (say: (text: string) => void) => Promise<void>) => ({
      title,
      task: async (_: unknown, task: { output: string }) => {
        log.info(`${title}: started`);
        await work((text) => {
          task.output = text;
        });
        log.info(`${title}: done`);
      },
    });
    this.waiting = true;
    try {
      await loggingFailure(log, 'create', () =>
        runSteps(ctx, [
          step('Validate the config and read its files', async () => {
            ctx.inputs = await deploymentInputs(config, clients.endpoints);
            result.publicName = ctx.inputs.publicName;
            result.serviceName = ctx.inputs.serviceName;
          }),
          step(`Sign in (${config.cloud})`, () => signIn(clients)),
          step(`Resource group ${config.resourceGroup} in ${config.region}`, async (say) => {
            const r = await create.ensureResourceGroup(config, clients);
            say(r === 'created' ? 'created' : 'exists (left as it is)');
            log.info(`resource group ${config.resourceGroup}: ${r}`);
          }),
          step('Upload the cmg binary', async (say) => {
            const inputs = ctx.inputs as DeploymentInputs;
            result.artifact = await create.uploadArtifact(config, clients, inputs, {
              pollMs: poll,
              onProgress: say,
            });
            log.info(
              `artifact: ${result.artifact}${inputs.upload ? ` (${inputs.upload.blob}, SHA-256 ${inputs.upload.sha256})` : ''}`,
            );
          }),
          step(`Deploy the template (${DEPLOYMENT_NAME})`, async (say) => {
            const inputs = ctx.inputs as DeploymentInputs;
            this.azureBusy = true;
            let last = '';
            const out = await create.deployTemplate(
              config,
              clients,
              DEPLOYMENT_NAME,
              inputs.template,
              inputs.parameters,
              {
                pollMs: poll,
                onProgress: (resources) => {
                  result.resources = resources;
                  const text = resources.map((r) => `${r.name}: ${r.provisioningState}`).join('\n');
                  if (text !== last) {
                    last = text;
                    say(text);
                    for (const r of resources)
                      log.info(
                        `${r.resourceType} ${r.name}: ${r.provisioningState}${r.message ? ` (${r.message})` : ''}`,
                      );
                  }
                },
              },
            );
            result.correlationId = out.correlationId;
            const fqdn = out.outputs.publicName?.value;
            if (typeof fqdn === 'string' && fqdn !== '') result.publicName = fqdn;
            log.info(
              `deployment ${DEPLOYMENT_NAME} succeeded (correlation id ${out.correlationId ?? 'none'})`,
            );
          }),
          ...(this.flags.wait
            ? [
                step('Wait for the instances to run', async (say) => {
                  const inputs = ctx.inputs as DeploymentInputs;
                  result.instances = await create.waitForInstances(config, clients, inputs.names.scaleSet, {
                    pollMs: poll,
                    timeoutMs: this.flags['wait-minutes'] * 60_000,
                    onProgress: say,
                  });
                }),
              ]
            : []),
        ]),
      );
    } finally {
      this.waiting = false;
    }
    return result;
  }

  protected override onSignal(signal: NodeJS.Signals): void {
    if (this.waiting) {
      process.stderr.write(
        this.azureBusy
          ? '\nStopped waiting. What Azure was asked to do carries on there: cmg deploy status shows it, and running ' +
              'cmg deploy create again continues from what exists.\n'
          : '\nStopped. Nothing is left half-done in Azure: running cmg deploy create again continues from what exists.\n',
      );
    }
    process.exit(signal === 'SIGINT' ? 130 : 143);
  }

  protected render(r: CreateResult): void {
    this.log(
      `deployment ${r.deployment} in ${r.resourceGroup}: Succeeded (correlation id ${r.correlationId ?? 'none'})`,
    );
    this.log(
      `public name: ${r.publicName}${r.serviceName !== r.publicName ? ` (clients use ${r.serviceName}: make it a CNAME to the public name)` : ''}`,
    );
    if (r.instances) this.log(`${r.instances.running}/${r.instances.total} instances running`);
  }
}
