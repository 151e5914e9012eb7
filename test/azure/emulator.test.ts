/**
 * The Azure emulator (test/helpers/azure-emulator.ts) against the real, unmodified Azure SDKs that
 * `cmg deploy` uses: @azure/identity (client secret and client certificate), @azure/arm-resources
 * (resource groups, deployments, what-if, deployment operations), @azure/arm-compute (scale sets and
 * their instances) and @azure/storage-blob (Put Blob, Put Block and Put Block List).
 *
 * TLS trust is per client, in process: every client takes `tlsOptions: { ca: emu.caPem }`, which
 * core-rest-pipeline's tlsPolicy turns into an https.Agent trusting that CA for that client's requests
 * only (nothing process-wide: no NODE_EXTRA_CA_CERTS, no global agent). The identity credentials pass it
 * to the HTTP client MSAL uses; @azure/storage-blob forwards it to its pipeline although its
 * StoragePipelineOptions type does not declare it (hence the intersection type below).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ComputeManagementClient } from '@azure/arm-compute';
import { type Deployment, ResourceManagementClient } from '@azure/arm-resources';
import type { TokenCredential } from '@azure/core-auth';
import type { TlsSettings } from '@azure/core-rest-pipeline';
import {
  ClientCertificateCredential,
  type ClientCertificateCredentialOptions,
  ClientSecretCredential,
} from '@azure/identity';
import { BlockBlobClient, type StoragePipelineOptions } from '@azure/storage-blob';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { privateKeyPem } from '../../src/certs/keys.js';
import { type AzureEmulator, type Json, startAzureEmulator } from '../helpers/azure-emulator.js';
import { makeLeaf } from '../helpers/pki.js';

const test = suite('Azure emulator with the real Azure SDKs');

const ARM_SCOPE = 'https://management.azure.com/.default';
const QUOTA_MESSAGE =
  'Operation could not be completed as it results in exceeding approved standardA2v2Family Cores quota. Additional details - Deployment Model: Resource Manager, Location: westeurope, Current Limit: 4, Current Usage: 4, Additional Required: 4, (Minimum) New Limit Required: 8.';
const FAST = { updateIntervalInMs: 10 };

interface World {
  emu: AzureEmulator;
  tls: TlsSettings;
  credOptions: ClientCertificateCredentialOptions;
  cred: ClientSecretCredential;
  /** A PEM certificate and its RSA key, for certificate credentials. */
  certPem: string;
  certAndKeyPem: string;
  arm: ResourceManagementClient;
}

let w: World;

test.before(async () => {
  const emu = await startAzureEmulator();
  const tls: TlsSettings = { ca: emu.caPem };
  const credOptions = {
    authorityHost: emu.url,
    disableInstanceDiscovery: true,
    additionallyAllowedTenants: ['*'],
    tlsOptions: tls,
  };
  const cred = new ClientSecretCredential(emu.tenantId, emu.clientId, emu.clientSecret, credOptions);
  // MSAL signs client assertions with RSA (PS256), so the service principal's certificate is RSA.
  const sp = await makeLeaf('management', undefined, { subject: 'CN=cmg deploy', keyType: 'rsa2048' });
  const certPem = sp.cert.toPem();
  w = {
    emu,
    tls,
    credOptions,
    cred,
    certPem,
    certAndKeyPem: `${certPem}${await privateKeyPem(sp.keyPair.privateKey)}`,
    arm: new ResourceManagementClient(cred, emu.subscriptionId, { endpoint: emu.url, tlsOptions: tls }),
  };
});

test.after(async () => {
  await w?.emu.close();
});

async function rejects(p: Promise<unknown>): Promise<Json> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, but it succeeded');
}

/** A gateway's template: a scale set behind a load balancer in a virtual network, listed dependents first. */
function gatewayTemplate(): Json {
  return {
    $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
    contentVersion: '1.0.0.0',
    parameters: {
      prefix: { type: 'string', defaultValue: 'cmg' },
      capacity: { type: 'int', defaultValue: 2 },
    },
    variables: {
      vnetName: "[concat(parameters('prefix'), '-vnet')]",
      lbName: "[format('{0}-lb', parameters('prefix'))]",
    },
    resources: [
      {
        type: 'Microsoft.Compute/virtualMachineScaleSets',
        apiVersion: '2024-07-01',
        name: "[concat(parameters('prefix'), '-vmss')]",
        location: '[resourceGroup().location]',
        sku: { name: 'Standard_A2_v2', tier: 'Standard', capacity: "[parameters('capacity')]" },
        dependsOn: [
          "[resourceId('Microsoft.Network/loadBalancers', variables('lbName'))]",
          "[resourceId('Microsoft.Network/virtualNetworks', variables('vnetName'))]",
        ],
        properties: {
          orchestrationMode: 'Uniform',
          upgradePolicy: { mode: 'Manual' },
          virtualMachineProfile: {
            osProfile: { computerNamePrefix: 'cmggw', adminUsername: 'cmg' },
            networkProfile: {
              networkInterfaceConfigurations: [
                {
                  name: 'nic',
                  properties: {
                    primary: true,
                    ipConfigurations: [
                      {
                        name: 'ip',
                        properties: {
                          subnet: {
                            id: "[concat(resourceId('Microsoft.Network/virtualNetworks', variables('vnetName')), '/subnets/default')]",
                          },
                        },
                      },
                    ],
                  },
                },
              ],
            },
          },
        },
      },
      {
        type: 'Microsoft.Network/loadBalancers',
        apiVersion: '2024-05-01',
        name: "[variables('lbName')]",
        location: '[resourceGroup().location]',
        sku: { name: 'Standard' },
        dependsOn: ["[variables('vnetName')]"],
        properties: { frontendIPConfigurations: [] },
      },
      {
        type: 'Microsoft.Network/virtualNetworks',
        apiVersion: '2024-05-01',
        name: "[variables('vnetName')]",
        location: '[resourceGroup().location]',
        properties: {
          addressSpace: { addressPrefixes: ['10.0.0.0/16'] },
          subnets: [{ name: 'default', properties: { addressPrefix: '10.0.0.0/24' } }],
        },
      },
    ],
    outputs: {
      vmssId: {
        type: 'string',
        value:
          "[resourceId('Microsoft.Compute/virtualMachineScaleSets', concat(parameters('prefix'), '-vmss'))]",
      },
    },
  };
}

/** What-if with its raw result too: the SDK's mapper turns scalar `before`/`after` of a delta into {}. */
async function whatIf(rg: string, d: Deployment): Promise<{ changes: Json[]; raw: Json[] }> {
  let raw: Json;
  const result = await w.arm.deployments.beginWhatIfAndWait(rg, 'gateway', d, {
    ...FAST,
    onResponse: (r) => {
      if (r.status === 200 && r.bodyAsText) raw = JSON.parse(r.bodyAsText);
    },
  });
  assert.is(result.status, 'Succeeded');
  return { changes: result.changes ?? [], raw: raw?.properties?.changes ?? [] };
}

function deployment(parameters: Record<string, unknown> = {}): Deployment {
  return {
    properties: {
      mode: 'Incremental',
      template: gatewayTemplate(),
      parameters: Object.fromEntries(Object.entries(parameters).map(([k, value]) => [k, { value }])),
    },
  };
}

async function operationsOf(rg: string, name: string): Promise<Json[]> {
  const out: Json[] = [];
  for await (const op of w.arm.deploymentOperations.list(rg, name)) out.push(op);
  return out;
}

// ---------------------------------------------------------------- Entra ID

test('a client secret credential gets an ARM token through openid-configuration and the token endpoint', async () => {
  const token = await w.cred.getToken(ARM_SCOPE);
  assert.ok(token.token.split('.').length === 3, 'a JWT');
  assert.ok(token.expiresOnTimestamp > Date.now() + 3000_000);
  const paths = w.emu.requests.map((r) => `${r.method} ${r.path.split('?')[0]} ${r.status}`);
  assert.ok(
    paths.includes(`GET /${w.emu.tenantId}/v2.0/.well-known/openid-configuration 200`),
    paths.join('\n'),
  );
  const post = w.emu.requests.find((r) => r.path.split('?')[0] === `/${w.emu.tenantId}/oauth2/v2.0/token`);
  assert.is(post?.status, 200);
  assert.match(post?.headers['content-type'] ?? '', /application\/x-www-form-urlencoded/);
});

test('a client certificate credential signs a client assertion the emulator verifies; an unknown certificate is refused', async () => {
  const certClient = randomUUID();
  w.emu.addCertificateCredential(certClient, w.certPem);
  const cred = new ClientCertificateCredential(
    w.emu.tenantId,
    certClient,
    { certificate: w.certAndKeyPem },
    w.credOptions,
  );
  const token = await cred.getToken(ARM_SCOPE);
  assert.ok(token.token.length > 100);
  // The token works on ARM.
  const arm = new ResourceManagementClient(cred, w.emu.subscriptionId, {
    endpoint: w.emu.url,
    tlsOptions: w.tls,
  });
  for await (const _rg of arm.resourceGroups.list()) {
    /* just listing */
  }

  const other = await makeLeaf('management', undefined, { subject: 'CN=someone else', keyType: 'rsa2048' });
  const stranger = new ClientCertificateCredential(
    w.emu.tenantId,
    certClient,
    { certificate: `${other.cert.toPem()}${await privateKeyPem(other.keyPair.privateKey)}` },
    w.credOptions,
  );
  const err = await rejects(stranger.getToken(ARM_SCOPE));
  assert.is(err.name, 'AuthenticationRequiredError');
  assert.match(err.message, /^invalid_client: .*AADSTS700027: The certificate with identifier used to sign/);
});

// @azure/identity turns MSAL's server errors into AuthenticationRequiredError (not AuthenticationError),
// its message carrying the error, the AADSTS code and the description; so does real Entra ID.
test('a wrong client secret is 401 invalid_client AADSTS7000215; an unknown client is AADSTS700016', async () => {
  const wrong = new ClientSecretCredential(w.emu.tenantId, w.emu.clientId, 'not-the-secret', w.credOptions);
  const err = await rejects(wrong.getToken(ARM_SCOPE));
  assert.is(err.name, 'AuthenticationRequiredError');
  assert.match(err.message, /^invalid_client: .*AADSTS7000215: Invalid client secret provided/);
  const answer = w.emu.requests.findLast((r) => r.path.includes('/oauth2/v2.0/token'));
  assert.is(answer?.status, 401);

  const unknown = new ClientSecretCredential(w.emu.tenantId, randomUUID(), 'whatever', w.credOptions);
  const err2 = await rejects(unknown.getToken(ARM_SCOPE));
  assert.match(err2.message, /^unauthorized_client: .*AADSTS700016: Application with identifier/);
  assert.is(w.emu.requests.findLast((r) => r.path.includes('/oauth2/v2.0/token'))?.status, 400);
});

test('ARM refuses a token it did not issue: 401 InvalidAuthenticationToken with WWW-Authenticate', async () => {
  const forged: TokenCredential = {
    getToken: async () => ({ token: 'forged.token.value', expiresOnTimestamp: Date.now() + 3600_000 }),
  };
  const arm = new ResourceManagementClient(forged, w.emu.subscriptionId, {
    endpoint: w.emu.url,
    tlsOptions: w.tls,
  });
  const err = await rejects(arm.resourceGroups.get('anything'));
  assert.is(err.statusCode, 401);
  assert.is(err.code, 'InvalidAuthenticationToken');
  assert.match(
    err.response.headers.get('www-authenticate'),
    /^Bearer authorization_uri="https:\/\/127\.0\.0\.1:/,
  );
});

test('TLS trust is per client: without tlsOptions the emulator certificate is refused', async () => {
  const forged: TokenCredential = {
    getToken: async () => ({ token: 'x', expiresOnTimestamp: Date.now() + 3600_000 }),
  };
  const arm = new ResourceManagementClient(forged, w.emu.subscriptionId, { endpoint: w.emu.url });
  const err = await rejects(arm.resourceGroups.get('anything'));
  assert.match(String(err.message), /certificate/i);
});

// ---------------------------------------------------------------- ARM

test('resource groups: create, get, check existence, delete (async, polled)', async () => {
  const rg = await w.arm.resourceGroups.createOrUpdate('rg-basic', {
    location: 'West Europe',
    tags: { app: 'cmg' },
  });
  assert.is(rg.name, 'rg-basic');
  assert.is(rg.location, 'westeurope');
  assert.is(rg.properties?.provisioningState, 'Succeeded');
  assert.is((await w.arm.resourceGroups.get('rg-basic')).tags?.app, 'cmg');
  assert.is((await w.arm.resourceGroups.checkExistence('rg-basic')).body, true);
  assert.is((await w.arm.resourceGroups.checkExistence('rg-none')).body, false);
  const missing = await rejects(w.arm.resourceGroups.get('rg-none'));
  assert.is(missing.statusCode, 404);
  assert.is(missing.code, 'ResourceGroupNotFound');
  await w.arm.resourceGroups.beginDeleteAndWait('rg-basic', FAST);
  assert.is((await w.arm.resourceGroups.checkExistence('rg-basic')).body, false);
  const del = w.emu.requests.find((r) => r.method === 'DELETE' && /resourcegroups\/rg-basic\?/.test(r.path));
  assert.is(del?.status, 202);
});

test('a deployment of three resources runs in dependsOn order, Accepted → Running → Succeeded, polled to Succeeded', async () => {
  await w.arm.resourceGroups.createOrUpdate('rg-deploy', { location: 'westeurope' });
  w.emu.provisioningMs = 120;
  try {
    const poller = await w.arm.deployments.beginCreateOrUpdate('rg-deploy', 'gateway', deployment(), FAST);
    const put = w.emu.requests.find((r) => r.method === 'PUT' && r.path.includes('/deployments/gateway?'));
    assert.is(put?.status, 201);
    const seen: string[] = [];
    let done = false;
    const watch = (async () => {
      while (!done) {
        for (const op of await operationsOf('rg-deploy', 'gateway')) {
          const s = `${op.properties.targetResource.resourceName}:${op.properties.provisioningState}`;
          if (!seen.includes(s)) seen.push(s);
        }
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    const result = await poller.pollUntilDone();
    done = true;
    await watch;
    assert.is(result.properties?.provisioningState, 'Succeeded');
    const outputs = result.properties?.outputs as Json;
    assert.match(
      outputs.vmssId.value,
      /\/resourceGroups\/rg-deploy\/providers\/Microsoft\.Compute\/virtualMachineScaleSets\/cmg-vmss$/,
    );
    assert.is(result.properties?.outputResources?.length, 3);
    for (const name of ['cmg-vnet', 'cmg-lb', 'cmg-vmss']) {
      assert.ok(seen.includes(`${name}:Running`), `${name} seen running: ${seen.join(', ')}`);
    }
    const firstSeen = (name: string) => seen.findIndex((s) => s.startsWith(`${name}:`));
    assert.ok(
      firstSeen('cmg-vnet') < firstSeen('cmg-lb') && firstSeen('cmg-lb') < firstSeen('cmg-vmss'),
      seen.join(', '),
    );

    const ops = await operationsOf('rg-deploy', 'gateway');
    assert.equal(
      ops.map((o) => [o.properties.targetResource.resourceType, o.properties.provisioningState]),
      [
        ['Microsoft.Network/virtualNetworks', 'Succeeded'],
        ['Microsoft.Network/loadBalancers', 'Succeeded'],
        ['Microsoft.Compute/virtualMachineScaleSets', 'Succeeded'],
      ],
    );
    const ends = ops.map((o) => (o.properties.timestamp as Date).getTime());
    assert.ok(ends[0]! <= ends[1]! && ends[1]! <= ends[2]!, 'finished one after another');
    const statusPolls = w.emu.requests.filter((r) =>
      r.path.includes('/deployments/gateway/operationStatuses/'),
    );
    assert.ok(statusPolls.length >= 3, `polled the Azure-AsyncOperation ${statusPolls.length} times`);
    assert.is(w.emu.state.scaleSets.get('rg-deploy/cmg-vmss')?.sku.capacity, 2);
    assert.is(
      (await w.arm.deployments.get('rg-deploy', 'gateway')).properties?.provisioningState,
      'Succeeded',
    );
  } finally {
    w.emu.provisioningMs = 50;
  }
});

test('what-if: Create on an empty group, NoChange after the deployment, Modify for a new capacity', async () => {
  await w.arm.resourceGroups.createOrUpdate('rg-whatif', { location: 'westeurope' });
  const first = await whatIf('rg-whatif', deployment());
  assert.equal(
    first.changes.map((c) => c.changeType),
    ['Create', 'Create', 'Create'],
  );
  assert.ok(first.changes.every((c) => c.resourceId?.includes('/resourceGroups/rg-whatif/providers/')));
  assert.is(first.changes[2].after.sku.capacity, 2);

  await w.arm.deployments.beginCreateOrUpdateAndWait('rg-whatif', 'gateway', deployment(), FAST);
  const second = await whatIf('rg-whatif', deployment());
  assert.equal(
    second.changes.map((c) => c.changeType),
    ['NoChange', 'NoChange', 'NoChange'],
  );

  const third = await whatIf('rg-whatif', deployment({ capacity: 3 }));
  const vmss = third.changes.find((c) => c.resourceId?.endsWith('/cmg-vmss'));
  assert.is(vmss?.changeType, 'Modify');
  assert.equal(
    vmss?.delta?.map((d: Json) => [d.path, d.propertyChangeType]),
    [['sku.capacity', 'Modify']],
  );
  const raw = third.raw.find((c) => c.resourceId.endsWith('/cmg-vmss'));
  assert.equal(raw.delta, [{ path: 'sku.capacity', propertyChangeType: 'Modify', before: 2, after: 3 }]);
  const post = w.emu.requests.find(
    (r) => r.method === 'POST' && r.path.includes('/deployments/gateway/whatIf?'),
  );
  assert.is(post?.status, 202);
});

test('a failing resource fails the deployment with DeploymentFailed and its details; operations tell which', async () => {
  await w.arm.resourceGroups.createOrUpdate('rg-quota', { location: 'westeurope' });
  w.emu.failResource({
    type: 'Microsoft.Compute/virtualMachineScaleSets',
    code: 'QuotaExceeded',
    message: QUOTA_MESSAGE,
    count: 1,
  });
  const err = await rejects(
    w.arm.deployments.beginCreateOrUpdateAndWait('rg-quota', 'gateway', deployment(), FAST),
  );
  assert.match(err.message, /DeploymentFailed/);
  const dep = await w.arm.deployments.get('rg-quota', 'gateway');
  assert.is(dep.properties?.provisioningState, 'Failed');
  assert.is(dep.properties?.error?.code, 'DeploymentFailed');
  assert.equal(
    dep.properties?.error?.details?.map((d) => [d.code, d.message]),
    [['QuotaExceeded', QUOTA_MESSAGE]],
  );
  const ops = await operationsOf('rg-quota', 'gateway');
  const byName = Object.fromEntries(ops.map((o) => [o.properties.targetResource.resourceName, o.properties]));
  assert.is(byName['cmg-vnet'].provisioningState, 'Succeeded');
  assert.is(byName['cmg-lb'].provisioningState, 'Succeeded');
  assert.is(byName['cmg-vmss'].provisioningState, 'Failed');
  assert.is(byName['cmg-vmss'].statusMessage.error.code, 'QuotaExceeded');
  assert.is(byName['cmg-vmss'].statusMessage.error.message, QUOTA_MESSAGE);
  assert.not.ok(w.emu.state.scaleSets.has('rg-quota/cmg-vmss'));
  // count: 1 — a second attempt succeeds.
  const again = await w.arm.deployments.beginCreateOrUpdateAndWait('rg-quota', 'gateway', deployment(), FAST);
  assert.is(again.properties?.provisioningState, 'Succeeded');
});

test('template language: child resources, scope (extension resources), conditions, reference() of identity and fqdn', async () => {
  await w.arm.resourceGroups.createOrUpdate('rg-language', { location: 'westeurope' });
  const vmssId = "resourceId('Microsoft.Compute/virtualMachineScaleSets', 'app-vmss')";
  const template = {
    $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
    contentVersion: '1.0.0.0',
    parameters: { secret: { type: 'securestring' }, withExtra: { type: 'bool', defaultValue: false } },
    resources: [
      {
        type: 'Microsoft.Storage/storageAccounts',
        apiVersion: '2023-05-01',
        name: "[concat('st', uniqueString(resourceGroup().id))]",
        location: '[resourceGroup().location]',
        sku: { name: 'Standard_LRS' },
        kind: 'StorageV2',
        resources: [
          {
            type: 'blobServices/containers',
            apiVersion: '2023-05-01',
            name: 'default/artifacts',
            dependsOn: ["[concat('st', uniqueString(resourceGroup().id))]"],
          },
        ],
      },
      {
        type: 'Microsoft.Network/publicIPAddresses',
        apiVersion: '2024-05-01',
        name: 'app-ip',
        location: '[resourceGroup().location]',
        properties: { dnsSettings: { domainNameLabel: 'contoso-cmg' } },
      },
      {
        type: 'Microsoft.Compute/virtualMachineScaleSets',
        apiVersion: '2024-07-01',
        name: 'app-vmss',
        location: '[resourceGroup().location]',
        identity: { type: 'SystemAssigned' },
        sku: { name: 'Standard_A2_v2', capacity: 1 },
        properties: { virtualMachineProfile: { osProfile: { adminPassword: "[parameters('secret')]" } } },
      },
      {
        type: 'Microsoft.Authorization/roleAssignments',
        apiVersion: '2022-04-01',
        name: `[guid(${vmssId}, 'reader')]`,
        scope: 'Microsoft.Network/publicIPAddresses/app-ip',
        dependsOn: [`[${vmssId}]`, 'app-ip'],
        properties: {
          roleDefinitionId:
            "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'acdd72a7-3385-48ef-bd42-f606fba81ae7')]",
          principalId: `[reference(${vmssId}, '2024-07-01', 'full').identity.principalId]`,
        },
      },
      {
        condition: "[parameters('withExtra')]",
        type: 'Microsoft.Network/virtualNetworks',
        apiVersion: '2024-05-01',
        name: 'extra',
        location: 'westeurope',
      },
    ],
    outputs: {
      fqdn: { type: 'string', value: "[reference('app-ip').dnsSettings.fqdn]" },
      principal: {
        type: 'string',
        value: `[reference(${vmssId}, '2024-07-01', 'full').identity.principalId]`,
      },
    },
  };
  const result = await w.arm.deployments.beginCreateOrUpdateAndWait(
    'rg-language',
    'language',
    { properties: { mode: 'Incremental', template, parameters: { secret: { value: 'p@ss' } } } },
    FAST,
  );
  const outputs = result.properties?.outputs as Json;
  assert.is(outputs.fqdn.value, 'contoso-cmg.westeurope.cloudapp.azure.com');
  assert.match(outputs.principal.value, /^[0-9a-f-]{36}$/);
  assert.equal(result.properties?.parameters, {
    secret: { type: 'SecureString' },
    withExtra: { type: 'Bool', value: false },
  });
  const ids = (result.properties?.outputResources ?? []).map(
    (r) => r.id?.split('/resourceGroups/rg-language/')[1],
  );
  assert.is(ids.length, 5, ids.join('\n'));
  assert.ok(
    ids.some((id) =>
      /^providers\/Microsoft\.Storage\/storageAccounts\/st[a-z2-7]{13}\/blobServices\/default\/containers\/artifacts$/.test(
        id ?? '',
      ),
    ),
  );
  assert.not.ok(
    ids.some((id) => id?.includes('virtualNetworks/extra')),
    'condition false: not deployed',
  );
  const assignment = ids.find((id) => id?.includes('roleAssignments'))!;
  assert.match(
    assignment,
    /^providers\/Microsoft\.Network\/publicIPAddresses\/app-ip\/providers\/Microsoft\.Authorization\/roleAssignments\/[0-9a-f-]{36}$/,
  );
  const fetched = await w.arm.resources.getById(
    `/subscriptions/${w.emu.subscriptionId}/resourceGroups/rg-language/${assignment}`,
    '2022-04-01',
  );
  assert.is(fetched.properties?.principalId, outputs.principal.value);
});

test('an invalid template is 400 InvalidTemplate from the PUT', async () => {
  await w.arm.resourceGroups.createOrUpdate('rg-invalid', { location: 'westeurope' });
  const template = gatewayTemplate();
  template.resources[1].dependsOn = ["[resourceId('Microsoft.Network/virtualNetworks', 'nowhere')]"];
  const err = await rejects(
    w.arm.deployments.beginCreateOrUpdateAndWait(
      'rg-invalid',
      'broken',
      { properties: { mode: 'Incremental', template } },
      FAST,
    ),
  );
  assert.is(err.statusCode, 400);
  assert.is(err.code, 'InvalidTemplate');
  assert.match(err.message, /nowhere' is not defined in the template/);
});

test('a denied client gets 403 AuthorizationFailed naming the action and scope', async () => {
  const denied = randomUUID();
  w.emu.addCertificateCredential(denied, w.certPem);
  w.emu.denyClient(denied);
  const cred = new ClientCertificateCredential(
    w.emu.tenantId,
    denied,
    { certificate: w.certAndKeyPem },
    w.credOptions,
  );
  const arm = new ResourceManagementClient(cred, w.emu.subscriptionId, {
    endpoint: w.emu.url,
    tlsOptions: w.tls,
  });
  const err = await rejects(
    arm.deployments.beginCreateOrUpdateAndWait('rg-deploy', 'gateway', deployment(), FAST),
  );
  assert.is(err.statusCode, 403);
  assert.is(err.code, 'AuthorizationFailed');
  assert.match(
    err.message,
    new RegExp(
      `^The client '${denied}' with object id '[0-9a-f-]{36}' does not have authorization to perform action 'Microsoft\\.Resources/deployments/write' over scope '/subscriptions/${w.emu.subscriptionId}/resourcegroups/rg-deploy/providers/Microsoft\\.Resources/deployments/gateway' or the scope is invalid\\.`,
    ),
  );
});

test('429 with Retry-After: the SDK waits about that long and the retried request succeeds', async () => {
  await w.arm.resourceGroups.createOrUpdate('rg-throttled', { location: 'westeurope' });
  w.emu.inject({
    method: 'GET',
    path: /\/resourcegroups\/rg-throttled$/i,
    status: 429,
    headers: { 'Retry-After': '1' },
  });
  const started = Date.now();
  const rg = await w.arm.resourceGroups.get('rg-throttled');
  const took = Date.now() - started;
  assert.is(rg.name, 'rg-throttled');
  const hits = w.emu.requests.filter(
    (r) => r.method === 'GET' && /\/resourcegroups\/rg-throttled\?/.test(r.path),
  );
  assert.equal(
    hits.map((h) => h.status),
    [429, 200],
  );
  const waited = hits[1]!.time - hits[0]!.time;
  assert.ok(waited >= 950 && waited < 2500, `waited ${waited} ms`);
  assert.ok(took < 3000, `took ${took} ms`);
});

// ---------------------------------------------------------------- compute

test('scale set: get, update capacity, list instances with instance view, deallocate, start', async () => {
  const compute = new ComputeManagementClient(w.cred, w.emu.subscriptionId, {
    endpoint: w.emu.url,
    tlsOptions: w.tls,
  });
  const sets = compute.virtualMachineScaleSets;
  const vmss = await sets.get('rg-deploy', 'cmg-vmss');
  assert.is(vmss.sku?.capacity, 2);
  assert.is(vmss.provisioningState, 'Succeeded');

  const updated = await sets.update('rg-deploy', 'cmg-vmss', { sku: { capacity: 3 } }, FAST);
  assert.is(updated.sku?.capacity, 3);
  assert.is(updated.provisioningState, 'Succeeded');
  const patch = w.emu.requests.find(
    (r) => r.method === 'PATCH' && r.path.includes('/virtualMachineScaleSets/cmg-vmss?'),
  );
  assert.is(patch?.status, 200);

  const powerStates = async () => {
    const out: string[] = [];
    for await (const vm of compute.virtualMachineScaleSetVMs.list('rg-deploy', 'cmg-vmss', {
      expand: 'instanceView',
    })) {
      out.push(
        `${vm.instanceId}:${vm.instanceView?.statuses?.find((s) => s.code?.startsWith('PowerState/'))?.code}`,
      );
    }
    return out;
  };
  assert.equal(await powerStates(), ['0:PowerState/running', '1:PowerState/running', '2:PowerState/running']);

  await sets.deallocate('rg-deploy', 'cmg-vmss', FAST);
  assert.equal(await powerStates(), [
    '0:PowerState/deallocated',
    '1:PowerState/deallocated',
    '2:PowerState/deallocated',
  ]);
  const view = await sets.getInstanceView('rg-deploy', 'cmg-vmss');
  assert.is(view.statuses?.[0]?.code, 'ProvisioningState/succeeded');
  assert.equal(view.virtualMachine?.statusesSummary, [{ code: 'ProvisioningState/succeeded', count: 3 }]);

  await sets.start('rg-deploy', 'cmg-vmss', FAST);
  assert.equal(await powerStates(), ['0:PowerState/running', '1:PowerState/running', '2:PowerState/running']);
  const post = w.emu.requests.find((r) => r.method === 'POST' && r.path.includes('/cmg-vmss/deallocate?'));
  assert.is(post?.status, 202);

  // What-if now sees the capacity the scale set has, not the one the template had.
  const drift = await whatIf('rg-deploy', deployment());
  const change = drift.raw.find((c) => c.resourceId.endsWith('/cmg-vmss'));
  assert.equal(change.delta, [{ path: 'sku.capacity', propertyChangeType: 'Modify', before: 3, after: 2 }]);
});

// ---------------------------------------------------------------- storage

test('blob upload of 10 MB: Put Blob, then Put Block + Put Block List, bytes intact (SHA-256)', async () => {
  const data = randomBytes(10 * 1024 * 1024);
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const options: StoragePipelineOptions & { tlsOptions: TlsSettings } = { tlsOptions: w.tls };

  const single = new BlockBlobClient(`${w.emu.url}/blob/cmgstore/deploy/payload.bin`, w.cred, options);
  await single.upload(data, data.length);
  assert.is(sha(w.emu.state.blobs.get('cmgstore/deploy/payload.bin')!), sha(data));
  const put = w.emu.requests.find(
    (r) => r.method === 'PUT' && r.path.startsWith('/blob/cmgstore/deploy/payload.bin'),
  );
  assert.is(put?.headers['x-ms-blob-type'], 'BlockBlob');
  assert.match(put?.headers.authorization ?? '', /^Bearer /);
  assert.is(sha(await single.downloadToBuffer()), sha(data));

  const dir = mkdtempSync(join(tmpdir(), 'cmg-azure-'));
  try {
    const file = join(dir, 'payload.bin');
    writeFileSync(file, data);
    const blocks = new BlockBlobClient(`${w.emu.url}/blob/cmgstore/deploy/blocks.bin`, w.cred, options);
    await blocks.uploadFile(file, {
      blockSize: 4 * 1024 * 1024,
      maxSingleShotSize: 4 * 1024 * 1024,
      concurrency: 2,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.is(sha(w.emu.state.blobs.get('cmgstore/deploy/blocks.bin')!), sha(data));
  const blockPuts = w.emu.requests.filter((r) => r.path.startsWith('/blob/cmgstore/deploy/blocks.bin?'));
  assert.is(blockPuts.filter((r) => r.path.includes('comp=block&') && r.status === 201).length, 3);
  assert.is(blockPuts.filter((r) => r.path.includes('comp=blocklist') && r.status === 201).length, 1);

  const denied = randomUUID();
  w.emu.addCertificateCredential(denied, w.certPem);
  w.emu.denyClient(denied);
  const deniedCred = new ClientCertificateCredential(
    w.emu.tenantId,
    denied,
    { certificate: w.certAndKeyPem },
    w.credOptions,
  );
  const refused = new BlockBlobClient(`${w.emu.url}/blob/cmgstore/deploy/refused.bin`, deniedCred, options);
  const err = await rejects(refused.upload(Buffer.from('x'), 1));
  assert.is(err.statusCode, 403);
  assert.is(err.code, 'AuthorizationPermissionMismatch');
});

test.run();
