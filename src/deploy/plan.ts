import type { DeployConfig } from '../config/deploy.js';
import { type AzureClients, azureError } from './azure.js';
import { DEPLOYMENT_NAME, type DeploymentInputs, sizing } from './inputs.js';
import { instancePorts } from './template.js';

/** One resource in a plan: what ARM's what-if says would happen to it. */
export interface PlannedChange {
  changeType: string;
  resourceType: string;
  name: string;
}

export interface PlanResult {
  subscriptionId: string;
  resourceGroup: string;
  resourceGroupExists: boolean;
  region: string;
  deployment: string;
  publicName: string;
  serviceName: string;
  instances: number;
  vmSize: string;
  /** The channel ports connection points dial: instance i on 10140+i (TLS) and 10124+i (over HTTPS). */
  channelPorts: { instance: number; tls: number; https: number }[];
  changes: PlannedChange[];
  sizing?: ReturnType<typeof sizing> | undefined;
}

/** `/subscriptions/../resourceGroups/../providers/Microsoft.X/type/name[/subtype/name]` as its type and name. */
export function typeAndName(resourceId: string): { resourceType: string; name: string } {
  const at = resourceId.toLowerCase().lastIndexOf('/providers/');
  if (at === -1) return { resourceType: '', name: resourceId };
  const parts = resourceId.slice(at + '/providers/'.length).split('/');
  const namespace = parts[0] ?? '';
  const types: string[] = [];
  const names: string[] = [];
  for (let i = 1; i + 1 < parts.length; i += 2) {
    types.push(parts[i] as string);
    names.push(parts[i + 1] as string);
  }
  return { resourceType: [namespace, ...types].join('/'), name: names.join('/') };
}

/**
 * What `deploy create` would do, touching nothing: ARM's what-if on the
 * template when the resource group exists; every resource created when it
 * does not (what-if needs the group).
 */
export async function plan(
  config: DeployConfig,
  clients: AzureClients,
  inputs: DeploymentInputs,
  options: { clients?: number | undefined; pollMs?: number } = {},
): Promise<PlanResult> {
  let exists: boolean;
  try {
    exists = (await clients.resources.resourceGroups.checkExistence(config.resourceGroup)).body;
  } catch (err) {
    throw azureError(err, `looking up resource group ${config.resourceGroup}`);
  }
  let changes: PlannedChange[];
  if (exists) {
    try {
      const result = await clients.resources.deployments.beginWhatIfAndWait(
        config.resourceGroup,
        DEPLOYMENT_NAME,
        {
          properties: {
            mode: 'Incremental',
            template: inputs.template as unknown as Record<string, unknown>,
            parameters: inputs.parameters,
          },
        },
        { updateIntervalInMs: options.pollMs ?? 2000 },
      );
      if (result.error)
        throw Object.assign(new Error(result.error.message ?? 'what-if failed'), result.error);
      changes = (result.changes ?? []).map((c) => ({
        changeType: c.changeType,
        ...typeAndName(c.resourceId ?? ''),
      }));
    } catch (err) {
      throw azureError(err, `what-if of deployment ${DEPLOYMENT_NAME} in ${config.resourceGroup}`);
    }
  } else {
    changes = inputs.template.resources
      .filter((r) => !r.name.startsWith('['))
      .map((r) => ({ changeType: 'Create', resourceType: r.type, name: r.name }));
  }
  return {
    subscriptionId: config.subscriptionId,
    resourceGroup: config.resourceGroup,
    resourceGroupExists: exists,
    region: config.region,
    deployment: DEPLOYMENT_NAME,
    publicName: inputs.publicName,
    serviceName: inputs.serviceName,
    instances: config.instances,
    vmSize: config.vmSize,
    channelPorts: Array.from({ length: config.instances }, (_, i) => ({ instance: i, ...instancePorts(i) })),
    changes,
    sizing: options.clients === undefined ? undefined : sizing(options.clients),
  };
}
