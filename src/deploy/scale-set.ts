import type { DeployConfig } from '../config/deploy.js';
import { OperationError } from '../errors.js';
import { type AzureClients, azureError, isNotFound } from './azure.js';
import { namesOf } from './inputs.js';

/** One action on the config's scale set: scale, deallocate, start. */
type Action = 'scale' | 'stop' | 'start';

export async function scaleSetAction(
  config: DeployConfig,
  clients: AzureClients,
  action: Action,
  options: { instances?: number; pollMs: number },
): Promise<{ scaleSet: string; capacity: number }> {
  const name = namesOf(config).scaleSet;
  const rg = config.resourceGroup;
  const vmss = clients.compute.virtualMachineScaleSets;
  const poll = { updateIntervalInMs: options.pollMs };
  try {
    const current = await vmss.get(rg, name);
    if (action === 'scale') {
      const instances = options.instances as number;
      await vmss.beginUpdateAndWait(rg, name, { sku: { ...current.sku, capacity: instances } }, poll);
      return { scaleSet: name, capacity: instances };
    }
    if (action === 'stop') await vmss.beginDeallocateAndWait(rg, name, poll);
    else await vmss.beginStartAndWait(rg, name, poll);
    return { scaleSet: name, capacity: current.sku?.capacity ?? 0 };
  } catch (err) {
    if (isNotFound(err)) {
      throw new OperationError('CMG_DEPLOY_NOT_FOUND', `no scale set ${name} in resource group ${rg}`, {
        hint: 'Create the deployment with cmg deploy create first, or check servicePrefix and resourceGroup.',
      });
    }
    const doing = { scale: 'scaling', stop: 'deallocating', start: 'starting' }[action];
    throw azureError(err, `${doing} scale set ${name}`);
  }
}

/**
 * Deletes the deployment's resource group, with everything in it. Only a
 * group cmg created (tagged managed-by=cmg): anything else may hold more.
 */
export async function deleteDeployment(
  config: DeployConfig,
  clients: AzureClients,
  pollMs: number,
): Promise<'deleted' | 'not found'> {
  const rg = config.resourceGroup;
  let tags: Record<string, string> | undefined;
  try {
    tags = (await clients.resources.resourceGroups.get(rg)).tags;
  } catch (err) {
    if (isNotFound(err)) return 'not found';
    throw azureError(err, `reading resource group ${rg}`);
  }
  if (tags?.['managed-by'] !== 'cmg') {
    throw new OperationError(
      'CMG_DEPLOY_NOT_OURS',
      `resource group ${rg} was not created by cmg deploy (no tag managed-by=cmg): not deleted`,
      {
        hint: 'Delete what it holds yourself (az group delete), or point resourceGroup at the group cmg deploy created.',
      },
    );
  }
  try {
    await clients.resources.resourceGroups.beginDeleteAndWait(rg, { updateIntervalInMs: pollMs });
  } catch (err) {
    throw azureError(err, `deleting resource group ${rg}`);
  }
  return 'deleted';
}
