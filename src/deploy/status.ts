import type { DeployConfig } from '../config/deploy.js';
import { type AzureClients, azureError, errorDetails, isNotFound } from './azure.js';
import { DEPLOYMENT_NAME, namesOf } from './inputs.js';
import { instancePorts } from './template.js';

export interface InstanceStatus {
  instanceId: string;
  name: string;
  /** `running`, `deallocated`, `stopped`, `starting`...: the PowerState of its instance view. */
  powerState: string;
  provisioningState: string;
  /** The ports connection points reach it on (the load balancer's NAT pools, in instance order). */
  channelPorts: { tls: number; https: number };
}

export interface DeploymentStatus {
  resourceGroup: string;
  deployment: string;
  /** Absent when the deployment does not exist. */
  provisioningState: string | undefined;
  timestamp: string | undefined;
  correlationId: string | undefined;
  error:
    | { code: string; message: string; details: { code: string; message: string; target?: string }[] }
    | undefined;
  publicName: string | undefined;
  scaleSet: { name: string; capacity: number; vmSize: string; provisioningState: string } | undefined;
  instances: InstanceStatus[];
}

export async function deploymentStatus(
  config: DeployConfig,
  clients: AzureClients,
): Promise<DeploymentStatus> {
  const names = namesOf(config);
  const rg = config.resourceGroup;
  const status: DeploymentStatus = {
    resourceGroup: rg,
    deployment: DEPLOYMENT_NAME,
    provisioningState: undefined,
    timestamp: undefined,
    correlationId: undefined,
    error: undefined,
    publicName: undefined,
    scaleSet: undefined,
    instances: [],
  };
  try {
    const d = await clients.resources.deployments.get(rg, DEPLOYMENT_NAME);
    const p = d.properties;
    status.provisioningState = p?.provisioningState;
    status.timestamp = p?.timestamp?.toISOString();
    status.correlationId = p?.correlationId;
    const outputs = p?.outputs as { publicName?: { value?: string } } | undefined;
    status.publicName = outputs?.publicName?.value;
    if (p?.error) {
      status.error = {
        code: p.error.code ?? '',
        message: p.error.message ?? '',
        details: errorDetails(p.error),
      };
    }
  } catch (err) {
    if (!isNotFound(err)) throw azureError(err, `reading deployment ${DEPLOYMENT_NAME} in ${rg}`);
  }
  try {
    const vmss = await clients.compute.virtualMachineScaleSets.get(rg, names.scaleSet);
    status.scaleSet = {
      name: names.scaleSet,
      capacity: vmss.sku?.capacity ?? 0,
      vmSize: vmss.sku?.name ?? '',
      provisioningState: vmss.provisioningState ?? '',
    };
    const vms = [];
    for await (const vm of clients.compute.virtualMachineScaleSetVMs.list(rg, names.scaleSet, {
      expand: 'instanceView',
    })) {
      vms.push(vm);
    }
    vms.sort((a, b) => Number(a.instanceId) - Number(b.instanceId));
    status.instances = vms.map((vm, i) => {
      const codes = (vm.instanceView?.statuses ?? []).map((s) => s.code ?? '');
      const power = codes.find((c) => c.startsWith('PowerState/'));
      return {
        instanceId: vm.instanceId ?? String(i),
        name: vm.name ?? '',
        powerState: power ? power.slice('PowerState/'.length) : 'unknown',
        provisioningState: vm.provisioningState ?? '',
        channelPorts: instancePorts(i),
      };
    });
  } catch (err) {
    if (!isNotFound(err)) throw azureError(err, `reading scale set ${names.scaleSet} in ${rg}`);
  }
  return status;
}
