import { readFileSync } from 'node:fs';
import { ComputeManagementClient } from '@azure/arm-compute';
import { ResourceManagementClient } from '@azure/arm-resources';
import {
  ClientCertificateCredential,
  ClientSecretCredential,
  DefaultAzureCredential,
  type TokenCredential,
  type TokenCredentialOptions,
} from '@azure/identity';
import { CLOUDS } from '../config/clouds.js';
import type { DeployConfig } from '../config/deploy.js';
import { OperationError } from '../errors.js';

/**
 * Signing in to Azure and the ARM clients `cmg deploy` uses. The endpoints
 * come from the named cloud, or from the config's `endpoints` (Azure Stack
 * Hub, a private cloud, or the emulator the tests start); a custom authority
 * turns off instance discovery, which would ask login.microsoftonline.com.
 */

export interface AzureEndpoints {
  arm: string;
  /** What ARM tokens are asked for (`<audience>/.default`). */
  audience: string;
  authority: string;
  /** Public names of instances: `<prefix>.<region>.<dnsSuffix>`. */
  dnsSuffix: string;
  /** The blob endpoint of a storage account, `{account}` standing for its name. */
  blob: string;
  vaultSuffix: string;
  custom: boolean;
}

export function endpointsOf(config: DeployConfig): AzureEndpoints {
  const cloud = CLOUDS[config.cloud];
  const blobSuffix =
    config.cloud === 'AzureChinaCloud'
      ? 'blob.core.chinacloudapi.cn'
      : config.cloud === 'AzureUSGovernment'
        ? 'blob.core.usgovcloudapi.net'
        : 'blob.core.windows.net';
  const vaultSuffix =
    config.cloud === 'AzureChinaCloud'
      ? 'vault.azure.cn'
      : config.cloud === 'AzureUSGovernment'
        ? 'vault.usgovcloudapi.net'
        : 'vault.azure.net';
  const e = config.endpoints;
  return {
    arm: (e?.arm ?? cloud.arm).replace(/\/$/, ''),
    audience: (e?.audience ?? e?.arm ?? cloud.arm).replace(/\/$/, ''),
    authority: (e?.authority ?? cloud.authority).replace(/\/$/, ''),
    dnsSuffix: e?.dnsSuffix ?? cloud.dnsSuffix,
    blob: e?.blob ?? `https://{account}.${blobSuffix}`,
    vaultSuffix: e?.vaultSuffix ?? vaultSuffix,
    custom: e !== undefined,
  };
}

/** The credential the config names. */
export function credentialFor(
  config: DeployConfig,
  endpoints: AzureEndpoints,
  env = process.env,
): TokenCredential {
  const options: TokenCredentialOptions & { disableInstanceDiscovery?: boolean } = {
    authorityHost: endpoints.authority,
    ...(endpoints.custom ? { disableInstanceDiscovery: true } : {}),
  };
  const auth = config.auth;
  if ('certificateFile' in auth) {
    // The management certificate: certificate and private key in one PEM file (cmg certs management create).
    return new ClientCertificateCredential(
      auth.tenantId,
      auth.clientId,
      { certificate: readFileSync(auth.certificateFile, 'utf8') },
      options,
    );
  }
  if ('secretEnv' in auth) {
    return new ClientSecretCredential(auth.tenantId, auth.clientId, env[auth.secretEnv] ?? '', options);
  }
  return new DefaultAzureCredential(options);
}

export interface AzureClients {
  credential: TokenCredential;
  endpoints: AzureEndpoints;
  resources: ResourceManagementClient;
  compute: ComputeManagementClient;
}

export function azureClients(config: DeployConfig, env = process.env): AzureClients {
  const endpoints = endpointsOf(config);
  const credential = credentialFor(config, endpoints, env);
  const scopes = [`${endpoints.audience}/.default`];
  return {
    credential,
    endpoints,
    // The two generations of Azure SDK name the token scope differently.
    resources: new ResourceManagementClient(credential, config.subscriptionId, {
      endpoint: endpoints.arm,
      credentialScopes: scopes,
    }),
    compute: new ComputeManagementClient(credential, config.subscriptionId, {
      endpoint: endpoints.arm,
      credentials: { scopes },
    }),
  };
}

/** Signs in now (a token for ARM), so that wrong credentials fail before anything else is tried. */
export async function signIn(clients: AzureClients): Promise<void> {
  try {
    const token = await clients.credential.getToken(`${clients.endpoints.audience}/.default`);
    if (!token) throw new Error('no token was returned');
  } catch (err) {
    throw azureError(err, 'signing in to Azure');
  }
}

/** What an Azure call failed with, as the one error type cmg reports: Azure's code, message and correlation id. */
export function azureError(
  err: unknown,
  doing: string,
  /** details: false when the caller shows Azure's inner errors its own way. */
  options: { details?: boolean } = {},
): OperationError {
  if (err instanceof OperationError) return err;
  const e = err as {
    name?: string;
    message?: string;
    code?: string;
    statusCode?: number;
    errorResponse?: { error?: string; errorDescription?: string };
    details?: { error?: { code?: string; message?: string; details?: unknown[] } };
    response?: { headers?: { get(name: string): string | undefined } };
  };
  if (
    e.name === 'AuthenticationError' ||
    e.name === 'AuthenticationRequiredError' ||
    e.name === 'CredentialUnavailableError'
  ) {
    const description = e.errorResponse?.errorDescription?.split('\n')[0] ?? e.message ?? String(err);
    return new OperationError('CMG_AZURE_AUTH', `${doing} failed: ${description}`, {
      hint: 'Check auth in the deploy config: the tenant, the application (client) id, and its certificate or secret.',
    });
  }
  const correlation = e.response?.headers?.get('x-ms-correlation-request-id');
  const code = e.code ?? e.details?.error?.code ?? (e.statusCode ? `HTTP ${e.statusCode}` : 'error');
  // Azure's inner errors say what is wrong ("See inner errors for details."): each on its own line.
  const inner =
    options.details !== false
      ? errorDetails(e.details?.error ?? (err as ErrorShape)).filter((d) => d.message !== '')
      : [];
  const message = [
    e.message ?? String(err),
    ...inner.map((d) => `  ${d.code || 'error'}: ${d.message}`),
  ].join('\n');
  const hint =
    code === 'AuthorizationFailed'
      ? 'The signed-in application needs the Contributor role (and User Access Administrator, for the role assignments) on the subscription or resource group.'
      : code === 'InvalidAuthenticationToken' || e.statusCode === 401
        ? 'The token was refused: check the tenant and the cloud (--cloud) in the deploy config.'
        : undefined;
  return new OperationError(
    'CMG_AZURE',
    `${doing} failed: ${code}: ${message}${correlation ? ` (correlation id ${correlation})` : ''}`,
    hint ? { hint } : {},
  );
}

type ErrorShape = { code?: string; message?: string; target?: string; details?: unknown };

/** Azure's error and its details, flattened: the failing resource's own message is in the details. */
export function errorDetails(
  e: ErrorShape | undefined,
): { code: string; message: string; target?: string }[] {
  const out: { code: string; message: string; target?: string }[] = [];
  const walk = (x: ErrorShape | undefined) => {
    if (!Array.isArray(x?.details)) return;
    for (const d of x.details as ErrorShape[]) {
      out.push({ code: d.code ?? '', message: d.message ?? '', ...(d.target ? { target: d.target } : {}) });
      walk(d);
    }
  };
  walk(e);
  return out;
}

/** A 404: the resource (group, deployment, scale set) is not there. */
export const isNotFound = (err: unknown) => (err as { statusCode?: number } | null)?.statusCode === 404;
