import { BlockBlobClient } from '@azure/storage-blob';
import type { DeployConfig } from '../config/deploy.js';
import { OperationError } from '../errors.js';
import { type AzureClients, azureError, errorDetails, isNotFound } from './azure.js';
import { DEPLOYMENT_NAME, type DeploymentInputs } from './inputs.js';
import type { ArmResource, ArmTemplate } from './template.js';

/**
 * The steps of `deploy create`, each idempotent: running it again with the
 * same config changes nothing (the group and the template are declared, the
 * binary is uploaded under a name made of its hash and skipped when there).
 */

/** What a deployment operation says about one resource, for progress and for errors. */
export interface ResourceProgress {
  resourceType: string;
  name: string;
  provisioningState: string;
  message?: string | undefined;
}

const STORAGE_DEPLOYMENT = `${DEPLOYMENT_NAME}-storage`;
/** Storage Blob Data Contributor: lets the deploying principal upload the binary. */
const BLOB_CONTRIBUTOR = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe';

/**
 * Creates the resource group, tagged managed-by=cmg (what deploy delete
 * checks), unless it exists: an existing group is left as it is (a PUT
 * would replace its tags), and must be in the config's region.
 */
export async function ensureResourceGroup(
  config: DeployConfig,
  clients: AzureClients,
): Promise<'created' | 'exists'> {
  const rg = config.resourceGroup;
  try {
    const existing = await clients.resources.resourceGroups.get(rg).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (existing) {
      if (existing.location.toLowerCase() !== config.region.toLowerCase()) {
        throw new OperationError(
          'CMG_DEPLOY_REGION',
          `resource group ${rg} is in ${existing.location}, the config says ${config.region}`,
          { hint: 'Set region to the group’s, or use another resourceGroup.' },
        );
      }
      return 'exists';
    }
    await clients.resources.resourceGroups.createOrUpdate(rg, {
      location: config.region,
      tags: { 'managed-by': 'cmg' },
    });
    return 'created';
  } catch (err) {
    throw azureError(err, `creating resource group ${rg}`);
  }
}

/** The object id of the signed-in principal, from its ARM token (undefined when the token is not a JWT). */
async function principalId(clients: AzureClients): Promise<string | undefined> {
  const token = await clients.credential
    .getToken(`${clients.endpoints.audience}/.default`)
    .catch((err: unknown) => Promise.reject(azureError(err, 'signing in to Azure')));
  const payload = token?.token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { oid?: unknown };
    return typeof claims.oid === 'string' ? claims.oid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs a template deployment to its end, reporting each resource's state
 * from the deployment's operations as it goes. A failure names the failing
 * resource and Azure's message.
 */
export async function deployTemplate(
  config: DeployConfig,
  clients: AzureClients,
  name: string,
  template: ArmTemplate,
  parameters: Record<string, { value: string }>,
  options: { pollMs: number; onProgress?: (resources: ResourceProgress[]) => void },
): Promise<{ correlationId: string | undefined; outputs: Record<string, { value?: unknown }> }> {
  const rg = config.resourceGroup;
  const progress = async () => {
    const resources: ResourceProgress[] = [];
    try {
      for await (const op of clients.resources.deploymentOperations.list(rg, name)) {
        const p = op.properties;
        if (!p?.targetResource) continue;
        const error = p.statusMessage?.error;
        resources.push({
          resourceType: p.targetResource.resourceType ?? '',
          name: p.targetResource.resourceName ?? '',
          provisioningState: p.provisioningState ?? '',
          message: error ? `${error.code}: ${error.message}` : undefined,
        });
      }
    } catch {
      // Progress is a courtesy: the deployment's own result decides.
    }
    return resources;
  };
  // A deployment still running (an earlier create stopped with Ctrl-C): wait for it first, then deploy.
  for (;;) {
    const state = await clients.resources.deployments
      .get(rg, name)
      .then((d) => d.properties?.provisioningState)
      .catch((err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw azureError(err, `reading deployment ${name} in ${rg}`);
      });
    if (
      !state ||
      !/^(Accepted|Running|Deleting|Canceling|Creating|Updating|Waiting|Validating)$/i.test(state)
    )
      break;
    options.onProgress?.((await progress()).map((r) => ({ ...r, name: `${r.name} (an earlier run)` })));
    await new Promise((r) => setTimeout(r, options.pollMs));
  }
  let poller: Awaited<ReturnType<AzureClients['resources']['deployments']['beginCreateOrUpdate']>>;
  try {
    poller = await clients.resources.deployments.beginCreateOrUpdate(
      rg,
      name,
      {
        properties: {
          mode: 'Incremental',
          template: template as unknown as Record<string, unknown>,
          parameters,
        },
      },
      { updateIntervalInMs: options.pollMs },
    );
  } catch (err) {
    throw azureError(err, `starting deployment ${name} in ${rg}`);
  }
  const timer = setInterval(() => {
    void progress().then((r) => options.onProgress?.(r));
  }, options.pollMs);
  try {
    await poller.pollUntilDone();
  } catch (err) {
    const failed = (await progress()).filter((r) => /failed/i.test(r.provisioningState));
    const e = err as { details?: { error?: unknown }; message?: string };
    const details = errorDetails((e.details?.error ?? err) as Parameters<typeof errorDetails>[0]);
    const lines = [
      ...failed.map((r) => `${r.resourceType} ${r.name}: ${r.message ?? r.provisioningState}`),
      ...details
        .filter((d) => !failed.some((r) => r.message?.includes(d.message)))
        .map((d) => `${d.code}: ${d.message}`),
    ];
    const base = azureError(err, `deployment ${name} in ${rg}`, { details: false });
    throw new OperationError(
      'CMG_AZURE_DEPLOYMENT',
      [base.message, ...lines.map((l) => `  ${l}`)].join('\n'),
      {
        hint: 'Fix the cause and run cmg deploy create again: it carries on from what exists. cmg deploy status shows the deployment.',
      },
    );
  } finally {
    clearInterval(timer);
  }
  options.onProgress?.(await progress());
  const d = await clients.resources.deployments
    .get(rg, name)
    .catch((err: unknown) => Promise.reject(azureError(err, `reading deployment ${name} in ${rg}`)));
  return {
    correlationId: d.properties?.correlationId,
    outputs: (d.properties?.outputs ?? {}) as Record<string, { value?: unknown }>,
  };
}

/** The storage account and its containers alone: the binary is uploaded before the instances look for it. */
export function storageTemplate(full: ArmTemplate, uploader: string | undefined): ArmTemplate {
  const storage = full.resources.filter((r) => r.type.startsWith('Microsoft.Storage/'));
  const account = storage.find((r) => r.type === 'Microsoft.Storage/storageAccounts') as ArmResource;
  const resources: ArmResource[] = [...storage];
  if (uploader) {
    resources.push({
      type: 'Microsoft.Authorization/roleAssignments',
      apiVersion: '2022-04-01',
      name: `[guid(resourceId('Microsoft.Storage/storageAccounts', '${account.name}'), '${BLOB_CONTRIBUTOR}', '${uploader}')]`,
      scope: `Microsoft.Storage/storageAccounts/${account.name}`,
      dependsOn: [`[resourceId('Microsoft.Storage/storageAccounts', '${account.name}')]`],
      properties: {
        roleDefinitionId: `[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${BLOB_CONTRIBUTOR}')]`,
        principalId: uploader,
      },
    });
  }
  return { ...full, parameters: {}, resources, outputs: {} };
}

/**
 * The binary to the deployment's storage account, unless a blob of that
 * name (its hash) and size is there already. A new role assignment takes a
 * while to reach storage: a 403 is retried for up to two minutes.
 */
export async function uploadArtifact(
  config: DeployConfig,
  clients: AzureClients,
  inputs: DeploymentInputs,
  options: { pollMs: number; onProgress?: (text: string) => void },
): Promise<'uploaded' | 'already there' | 'not needed'> {
  const upload = inputs.upload;
  if (!upload) return 'not needed';
  await deployTemplate(
    config,
    clients,
    STORAGE_DEPLOYMENT,
    storageTemplate(inputs.template, await principalId(clients)),
    {},
    {
      pollMs: options.pollMs,
    },
  );
  const url = `${clients.endpoints.blob.replace('{account}', inputs.names.storageAccount)}/${upload.container}/${upload.blob}`;
  const blob = new BlockBlobClient(url, clients.credential);
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const there = await blob.getProperties().catch((err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
      if (there?.contentLength === upload.bytes) return 'already there';
      await blob.uploadFile(upload.file, {
        blockSize: 8 << 20,
        concurrency: 4,
        onProgress: (p) =>
          options.onProgress?.(
            `${Math.round((100 * p.loadedBytes) / upload.bytes)}% of ${upload.bytes} bytes`,
          ),
      });
      return 'uploaded';
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 403 && Date.now() < deadline) {
        options.onProgress?.('waiting for the storage role assignment to take effect');
        await new Promise((r) => setTimeout(r, Math.min(options.pollMs * 2, 10_000)));
        continue;
      }
      throw azureError(err, `uploading ${upload.file} to ${url}`);
    }
  }
}

/** Until every instance of the scale set runs (or the deadline). */
export async function waitForInstances(
  config: DeployConfig,
  clients: AzureClients,
  scaleSet: string,
  options: { pollMs: number; timeoutMs: number; onProgress?: (text: string) => void },
): Promise<{ running: number; total: number }> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    let running = 0;
    let total = 0;
    let stopped = 0;
    try {
      for await (const vm of clients.compute.virtualMachineScaleSetVMs.list(config.resourceGroup, scaleSet, {
        expand: 'instanceView',
      })) {
        total++;
        const codes = (vm.instanceView?.statuses ?? []).map((s) => s.code);
        if (codes.includes('PowerState/running')) running++;
        if (codes.includes('PowerState/deallocated') || codes.includes('PowerState/stopped')) stopped++;
      }
    } catch (err) {
      throw azureError(err, `listing the instances of ${scaleSet}`);
    }
    options.onProgress?.(`${running}/${total} instances running`);
    if (total > 0 && running === total) return { running, total };
    if (stopped > 0) {
      throw new OperationError(
        'CMG_DEPLOY_STOPPED',
        `${stopped} of ${total} instances of ${scaleSet} are stopped (deallocated): they will not start by themselves`,
        { hint: 'Start them with cmg deploy start (deploy stop deallocated them).' },
      );
    }
    if (Date.now() > deadline) {
      throw new OperationError(
        'CMG_DEPLOY_TIMEOUT',
        `${running} of ${total} instances of ${scaleSet} running after ${Math.round(options.timeoutMs / 1000)} s`,
        {
          hint: 'cmg deploy status shows each instance; an instance’s CMGSetup.log says how its setup went.',
        },
      );
    }
    await new Promise((r) => setTimeout(r, options.pollMs));
  }
}
