import { createHash } from 'node:crypto';
import { stringify as yamlStringify } from 'yaml';
import { systemdUnit } from '../service/systemd.js';

/**
 * The gateway's Azure deployment as one ARM template, built by a pure
 * function from the deploy config's values (files already read): what
 * `deploy plan` shows, what `deploy create` sends, and what the template
 * tests check. Names are computed here, not with ARM expressions, so that
 * the plan can show them and a second deployment of the same config
 * changes nothing.
 */

/** The ports of the original gateway: instance i takes 10140+i (TLS channel) and 10124+i (channel over HTTPS). */
export const CHANNEL_TLS_BASE = 10140;
export const CHANNEL_HTTPS_BASE = 10124;
export const MAX_INSTANCES = 16;
/** Where each instance listens for connection points (the load balancer maps 10140+i here). */
export const INSTANCE_CHANNEL_PORT = 10140;
/** The admin endpoint the load balancer probes (/readyz); the network security group opens it to the probe only. */
export const PROBE_PORT = 9443;

/** API versions of the resource types the template declares. */
const API = {
  network: '2023-09-01',
  compute: '2024-03-01',
  keyVault: '2023-07-01',
  storage: '2023-05-01',
  roles: '2022-04-01',
} as const;

/** Built-in role definitions the scale set's identity is given. */
const ROLE = {
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  // Read the binary, write CMGSetup.log to the logs container (the binary's SHA-256 is checked: a replaced blob fails).
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
} as const;

export interface TemplateInput {
  subscriptionId: string;
  resourceGroup: string;
  region: string;
  prefix: string;
  /** The name clients use: the custom domain, or `<prefix>.<region>.<cloud DNS suffix>`. */
  serviceName: string;
  instances: number;
  vmSize: string;
  sites: string[];
  /** PEM text of each file, in the config's order. */
  trustedRoots: string[];
  intermediates: string[];
  /** CRLs as read (DER or PEM), base64. */
  crls: string[];
  checkCrl: boolean;
  channelCas: string[];
  /** Where the instances download cmg from, and its SHA-256. */
  artifact:
    | { kind: 'storage'; container: string; blob: string; sha256: string }
    | { kind: 'url'; url: string; sha256: string };
}

/** The names of everything the template creates. */
export interface ResourceNames {
  vnet: string;
  subnet: string;
  nsg: string;
  publicIp: string;
  loadBalancer: string;
  keyVault: string;
  storageAccount: string;
  scaleSet: string;
}

/** Names from the prefix, with a short hash of subscription and group where Azure wants them unique worldwide. */
export function resourceNames(
  input: Pick<TemplateInput, 'prefix' | 'subscriptionId' | 'resourceGroup'>,
): ResourceNames {
  const unique = createHash('sha256')
    .update(`${input.subscriptionId.toLowerCase()}/${input.resourceGroup.toLowerCase()}`)
    .digest('hex')
    .slice(0, 8);
  const short = input.prefix.slice(0, 13);
  return {
    vnet: `${input.prefix}-vnet`,
    subnet: 'gateway',
    nsg: `${input.prefix}-nsg`,
    publicIp: `${input.prefix}-ip`,
    loadBalancer: `${input.prefix}-lb`,
    // Key Vault: 3-24 letters, digits and hyphens; storage: 3-24 lowercase letters and digits. Both worldwide.
    keyVault: `${input.prefix.slice(0, 12)}-kv-${unique}`,
    storageAccount: `${short}st${unique}`,
    scaleSet: `${input.prefix}-vmss`,
  };
}

/** The channel ports of instance i (0-based), as the load balancer maps them. */
export function instancePorts(i: number): { tls: number; https: number } {
  return { tls: CHANNEL_TLS_BASE + i, https: CHANNEL_HTTPS_BASE + i };
}

const resourceId = (type: string, ...names: string[]) =>
  `[resourceId('${type}', ${names.map((n) => `'${n}'`).join(', ')})]`;

/** The gateway config each instance runs (CONTRACT.md), with the files cloud-init writes. */
export function instanceGatewayConfig(input: TemplateInput): Record<string, unknown> {
  const files = (kind: string, n: number, ext = 'pem') =>
    Array.from({ length: n }, (_, i) => `/etc/cmg/${kind}-${i + 1}.${ext}`);
  return {
    serviceName: input.serviceName,
    listen: { host: '0.0.0.0', port: 443 },
    channel: {
      host: '0.0.0.0',
      port: INSTANCE_CHANNEL_PORT,
      caFiles: files('channel-ca', input.channelCas.length),
      sites: input.sites,
    },
    tls: { pfxFile: '/etc/cmg/web.pfx', passphraseEnv: 'CMG_WEB_PFX_PASSPHRASE' },
    clientAuth: {
      trustedRootFiles: files('trusted-root', input.trustedRoots.length),
      intermediateFiles: files('intermediate', input.intermediates.length),
      crlFiles: files('crl', input.crls.length, 'crl'),
      checkCrl: input.checkCrl,
    },
    // On all addresses for the load balancer's probe; the network security group lets only the probe reach it.
    admin: { host: '0.0.0.0', port: PROBE_PORT },
    logDir: '/var/log/cmg',
  };
}

/** Helpers the setup script runs: JSON read with python3 (on every Ubuntu image), not with sed. */
export const SETUP_HELPERS = {
  /** `jsonfield.py NAME`: the string field NAME of the JSON document on stdin. */
  '/usr/local/lib/cmg/jsonfield.py': [
    'import json, sys',
    'sys.stdout.write(json.load(sys.stdin)[sys.argv[1]])',
    '',
  ].join('\n'),
  /** The Key Vault secret on stdin as a systemd EnvironmentFile line (quotes and backslashes escaped). */
  '/usr/local/lib/cmg/envfile.py': [
    'import json, sys',
    'v = json.load(sys.stdin)["value"]',
    String.raw`sys.stdout.write(sys.argv[1] + '="' + v.replace('\\', '\\\\').replace('"', '\\"') + '"\n')`,
    '',
  ].join('\n'),
};

/**
 * The setup script cloud-init runs: logs each step to CMGSetup.log in
 * CMTrace format, and uploads that log to storage at the end and on
 * failure. Storage and Key Vault are retried for up to 15 minutes: the scale
 * set's role assignments are made after its instances exist and take
 * minutes to reach those services.
 */
export function setupScript(
  input: TemplateInput,
  names: ResourceNames,
  dnsSuffixes: { vault: string; blob: string },
): string {
  const blob = dnsSuffixes.blob.replace('{account}', names.storageAccount);
  const download =
    input.artifact.kind === 'url'
      ? `curl -fsSL --retry 5 -o /usr/local/bin/cmg.download ${shellQuote(input.artifact.url)}`
      : [
          // The storage resource is the same in every cloud.
          `token=$(imds_token 'https://storage.azure.com/') &&`,
          `  curl -fsSL -H "Authorization: Bearer $token" -H 'x-ms-version: 2021-08-06' \\`,
          `    -o /usr/local/bin/cmg.download ${shellQuote(`${blob}/${input.artifact.container}/${input.artifact.blob}`)}`,
        ].join('\n');
  const vault = `https://${names.keyVault}.${dnsSuffixes.vault}`;
  return `#!/bin/bash
# cmg gateway instance setup (written by cmg deploy). Each step goes to /var/log/cmg/CMGSetup.log (CMTrace format).
set -euo pipefail
LOG=/var/log/cmg/CMGSetup.log
mkdir -p /var/log/cmg
log() { # type (1 info, 2 warning, 3 error), text
  local now
  now=$(date -u +'%H:%M:%S.%3N+000" date="%m-%d-%Y')
  printf '<![LOG[%s]LOG]!><time="%s" component="CMGSetup" context="" type="%s" thread="%s" file="setup.sh">\\n' "$2" "$now" "$1" "$$" >> "$LOG"
}
imds_token() { # resource
  curl -fsS --retry 5 -H Metadata:true \\
    "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=$1" |
    python3 /usr/local/lib/cmg/jsonfield.py access_token
}
# CMGSetup.log to the deployment's storage (logs/<host>/CMGSetup.log), at the end and on failure: readable without SSH.
upload_log() {
  local t
  t=$(imds_token 'https://storage.azure.com/') || return 0
  curl -fsS --retry 3 -X PUT -H "Authorization: Bearer $t" -H 'x-ms-version: 2021-08-06' -H 'x-ms-blob-type: BlockBlob' \\
    --data-binary @"$LOG" ${shellQuote(`${blob}/logs/`)}"$(hostname)/CMGSetup.log" >/dev/null || true
}
fail() { log 3 "$1"; upload_log; exit 1; }
trap 'log 3 "setup failed at line $LINENO (exit $?); see journalctl -u cloud-final"; upload_log' ERR
# Until the command succeeds, for up to 15 minutes (the arguments are not logged: they may hold a token).
retry() {
  local i
  for i in $(seq 1 60); do
    "$@" && return 0
    [ "$i" -lt 60 ] || break
    log 2 "$1 failed (attempt $i of 60): retrying in 15 s"
    sleep 15
  done
  return 1
}
log 1 "setup of ${input.serviceName} (scale set ${names.scaleSet}) started"
id -u cmg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin cmg
download() {
${download}
}
log 1 "downloading cmg"
retry download || fail "could not download cmg"
echo ${shellQuote(`${input.artifact.sha256}  /usr/local/bin/cmg.download`)} | sha256sum -c --quiet - || fail "the downloaded cmg does not have SHA-256 ${input.artifact.sha256}"
install -m 0755 /usr/local/bin/cmg.download /usr/local/bin/cmg || fail "could not install cmg"
rm -f /usr/local/bin/cmg.download
version=$(/usr/local/bin/cmg --version) || fail "cmg does not run on this instance (a binary for another system?)"
log 1 "$version installed"
log 1 "reading the web certificate from Key Vault ${names.keyVault}"
secrets() {
  local token
  token=$(imds_token https://${dnsSuffixes.vault}) &&
    curl -fsS -H "Authorization: Bearer $token" "${vault}/secrets/web-certificate?api-version=7.4" |
    python3 /usr/local/lib/cmg/jsonfield.py value | base64 -d > /etc/cmg/web.pfx &&
    curl -fsS -H "Authorization: Bearer $token" "${vault}/secrets/web-certificate-passphrase?api-version=7.4" |
    python3 /usr/local/lib/cmg/envfile.py CMG_WEB_PFX_PASSPHRASE > /etc/cmg/cmg-gateway.env
}
umask 077
retry secrets || fail "could not read the web certificate from Key Vault ${names.keyVault}"
chown -R cmg:cmg /etc/cmg /var/log/cmg
log 1 "starting cmg serve"
systemctl daemon-reload
systemctl enable --now cmg-gateway
log 1 "setup done"
upload_log
`;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** cloud-init user data (#cloud-config) for the scale set's instances. */
export function cloudInit(
  input: TemplateInput,
  names: ResourceNames,
  dnsSuffixes: { vault: string; blob: string },
): string {
  const config = instanceGatewayConfig(input);
  const pemFiles = (kind: string, texts: string[]) =>
    texts.map((content, i) => ({ path: `/etc/cmg/${kind}-${i + 1}.pem`, permissions: '0644', content }));
  const unit = systemdUnit({
    command: 'serve',
    what: `cmg gateway ${input.serviceName}`,
    configFile: '/etc/cmg/gateway.json',
    logDir: '/var/log/cmg',
    exec: ['/usr/local/bin/cmg'],
    user: 'cmg',
    passphraseEnv: 'CMG_WEB_PFX_PASSPHRASE',
    stopTimeoutSeconds: 45,
  });
  const doc = {
    write_files: [
      { path: '/etc/cmg/gateway.json', permissions: '0644', content: `${JSON.stringify(config, null, 2)}\n` },
      ...pemFiles('trusted-root', input.trustedRoots),
      ...pemFiles('intermediate', input.intermediates),
      ...pemFiles('channel-ca', input.channelCas),
      ...input.crls.map((b64, i) => ({
        path: `/etc/cmg/crl-${i + 1}.crl`,
        permissions: '0644',
        encoding: 'b64',
        content: b64,
      })),
      { path: '/etc/systemd/system/cmg-gateway.service', permissions: '0644', content: unit },
      {
        path: '/usr/local/lib/cmg/setup.sh',
        permissions: '0755',
        content: setupScript(input, names, dnsSuffixes),
      },
      ...Object.entries(SETUP_HELPERS).map(([path, content]) => ({ path, permissions: '0644', content })),
    ],
    runcmd: [['/usr/local/lib/cmg/setup.sh']],
  };
  return `#cloud-config\n${yamlStringify(doc, { lineWidth: 0 })}`;
}

export interface ArmTemplate {
  $schema: string;
  contentVersion: string;
  parameters: Record<string, { type: string; metadata?: { description: string } }>;
  resources: ArmResource[];
  outputs: Record<string, { type: string; value: string }>;
}

export interface ArmResource {
  type: string;
  apiVersion: string;
  name: string;
  location?: string;
  scope?: string;
  dependsOn?: string[];
  [key: string]: unknown;
}

/** The parameters the template takes at deployment: secrets never written into it. */
export const TEMPLATE_PARAMETERS = ['webCertificatePfx', 'webCertificatePassphrase', 'sshPublicKey'] as const;

/** The whole template. `dnsSuffixes`: the cloud's Key Vault DNS suffix and blob endpoint (`{account}` for the name). */
export function buildTemplate(
  input: TemplateInput,
  dnsSuffixes: { vault: string; blob: string } = {
    vault: 'vault.azure.net',
    blob: 'https://{account}.blob.core.windows.net',
  },
): ArmTemplate {
  if (!Number.isInteger(input.instances) || input.instances < 1 || input.instances > MAX_INSTANCES)
    throw new RangeError(`instances must be 1-${MAX_INSTANCES}, got ${input.instances}`);
  const n = resourceNames(input);
  const location = input.region;
  const lbId = resourceId('Microsoft.Network/loadBalancers', n.loadBalancer);
  const lbPart = (kind: string, name: string) =>
    `[concat(resourceId('Microsoft.Network/loadBalancers', '${n.loadBalancer}'), '/${kind}/${name}')]`;
  const vmssId = resourceId('Microsoft.Compute/virtualMachineScaleSets', n.scaleSet);
  const kvId = resourceId('Microsoft.KeyVault/vaults', n.keyVault);
  const stId = resourceId('Microsoft.Storage/storageAccounts', n.storageAccount);
  const principal = `[reference(${vmssId.slice(1, -1)}, '${API.compute}', 'full').identity.principalId]`;
  const roleDef = (id: string) =>
    `[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${id}')]`;

  const resources: ArmResource[] = [
    {
      type: 'Microsoft.Network/networkSecurityGroups',
      apiVersion: API.network,
      name: n.nsg,
      location,
      properties: {
        securityRules: [
          rule('clients-https', 100, 'Internet', '443'),
          rule('connection-points-tls', 110, 'Internet', String(INSTANCE_CHANNEL_PORT)),
          rule('load-balancer-probe', 120, 'AzureLoadBalancer', String(PROBE_PORT)),
        ],
      },
    },
    {
      type: 'Microsoft.Network/virtualNetworks',
      apiVersion: API.network,
      name: n.vnet,
      location,
      dependsOn: [resourceId('Microsoft.Network/networkSecurityGroups', n.nsg)],
      properties: {
        addressSpace: { addressPrefixes: ['10.0.0.0/16'] },
        subnets: [
          {
            name: n.subnet,
            properties: {
              addressPrefix: '10.0.0.0/24',
              networkSecurityGroup: { id: resourceId('Microsoft.Network/networkSecurityGroups', n.nsg) },
            },
          },
        ],
      },
    },
    {
      type: 'Microsoft.Network/publicIPAddresses',
      apiVersion: API.network,
      name: n.publicIp,
      location,
      sku: { name: 'Standard' },
      properties: { publicIPAllocationMethod: 'Static', dnsSettings: { domainNameLabel: input.prefix } },
    },
    {
      type: 'Microsoft.Network/loadBalancers',
      apiVersion: API.network,
      name: n.loadBalancer,
      location,
      sku: { name: 'Standard' },
      dependsOn: [resourceId('Microsoft.Network/publicIPAddresses', n.publicIp)],
      properties: {
        frontendIPConfigurations: [
          {
            name: 'public',
            properties: {
              publicIPAddress: { id: resourceId('Microsoft.Network/publicIPAddresses', n.publicIp) },
            },
          },
        ],
        backendAddressPools: [{ name: 'gateways' }],
        probes: [
          {
            name: 'readyz',
            properties: {
              protocol: 'Http',
              port: PROBE_PORT,
              requestPath: '/readyz',
              intervalInSeconds: 5,
              numberOfProbes: 2,
            },
          },
        ],
        loadBalancingRules: [
          {
            name: 'clients-https',
            properties: {
              frontendIPConfiguration: { id: lbPart('frontendIPConfigurations', 'public') },
              backendAddressPool: { id: lbPart('backendAddressPools', 'gateways') },
              probe: { id: lbPart('probes', 'readyz') },
              protocol: 'Tcp',
              frontendPort: 443,
              backendPort: 443,
              idleTimeoutInMinutes: 30,
              enableTcpReset: true,
              disableOutboundSnat: true,
            },
          },
        ],
        // Instance i: 10140+i to its channel port, 10124+i to its 443 (ALPN tells channels apart there).
        // Sized for the most instances a deployment can have, so scaling needs no template change.
        inboundNatPools: [
          natPool(
            'channel-tls',
            lbPart('frontendIPConfigurations', 'public'),
            CHANNEL_TLS_BASE,
            INSTANCE_CHANNEL_PORT,
          ),
          natPool('channel-https', lbPart('frontendIPConfigurations', 'public'), CHANNEL_HTTPS_BASE, 443),
        ],
        outboundRules: [
          {
            name: 'outbound',
            properties: {
              frontendIPConfigurations: [{ id: lbPart('frontendIPConfigurations', 'public') }],
              backendAddressPool: { id: lbPart('backendAddressPools', 'gateways') },
              protocol: 'All',
            },
          },
        ],
      },
    },
    {
      type: 'Microsoft.Storage/storageAccounts',
      apiVersion: API.storage,
      name: n.storageAccount,
      location,
      sku: { name: 'Standard_LRS' },
      kind: 'StorageV2',
      properties: {
        minimumTlsVersion: 'TLS1_2',
        allowBlobPublicAccess: false,
        supportsHttpsTrafficOnly: true,
      },
    },
    ...['artifacts', 'logs'].map(
      (container): ArmResource => ({
        type: 'Microsoft.Storage/storageAccounts/blobServices/containers',
        apiVersion: API.storage,
        name: `${n.storageAccount}/default/${container}`,
        dependsOn: [stId],
        properties: { publicAccess: 'None' },
      }),
    ),
    {
      type: 'Microsoft.KeyVault/vaults',
      apiVersion: API.keyVault,
      name: n.keyVault,
      location,
      properties: {
        tenantId: '[subscription().tenantId]',
        sku: { family: 'A', name: 'standard' },
        enableRbacAuthorization: true,
        enableSoftDelete: true,
        softDeleteRetentionInDays: 7,
      },
    },
    ...[
      ['web-certificate', 'webCertificatePfx', 'application/x-pkcs12'],
      ['web-certificate-passphrase', 'webCertificatePassphrase', 'text/plain'],
    ].map(
      ([secret, parameter, contentType]): ArmResource => ({
        type: 'Microsoft.KeyVault/vaults/secrets',
        apiVersion: API.keyVault,
        name: `${n.keyVault}/${secret}`,
        dependsOn: [kvId],
        properties: { value: `[parameters('${parameter}')]`, contentType },
      }),
    ),
    {
      type: 'Microsoft.Compute/virtualMachineScaleSets',
      apiVersion: API.compute,
      name: n.scaleSet,
      location,
      sku: { name: input.vmSize, tier: 'Standard', capacity: input.instances },
      identity: { type: 'SystemAssigned' },
      dependsOn: [
        resourceId('Microsoft.Network/virtualNetworks', n.vnet),
        lbId,
        resourceId('Microsoft.KeyVault/vaults/secrets', n.keyVault, 'web-certificate'),
        resourceId('Microsoft.KeyVault/vaults/secrets', n.keyVault, 'web-certificate-passphrase'),
      ],
      properties: {
        overprovision: false,
        upgradePolicy: { mode: 'Manual' },
        virtualMachineProfile: {
          storageProfile: {
            imageReference: {
              publisher: 'Canonical',
              offer: '0001-com-ubuntu-server-jammy',
              // Generation 1: the default size (Av2, as the original gateway) boots nothing else.
              sku: '22_04-lts',
              version: 'latest',
            },
            osDisk: {
              createOption: 'FromImage',
              caching: 'ReadWrite',
              managedDisk: { storageAccountType: 'StandardSSD_LRS' },
            },
          },
          osProfile: {
            computerNamePrefix: input.prefix.slice(0, 9),
            adminUsername: 'cmgadmin',
            // Base64 here rather than ARM's base64(): an expression is limited to 24,576 characters.
            customData: Buffer.from(cloudInit(input, n, dnsSuffixes)).toString('base64'),
            linuxConfiguration: {
              disablePasswordAuthentication: true,
              ssh: {
                publicKeys: [
                  { path: '/home/cmgadmin/.ssh/authorized_keys', keyData: "[parameters('sshPublicKey')]" },
                ],
              },
            },
          },
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
                          id: `[concat(${resourceId('Microsoft.Network/virtualNetworks', n.vnet).slice(1, -1)}, '/subnets/${n.subnet}')]`,
                        },
                        loadBalancerBackendAddressPools: [{ id: lbPart('backendAddressPools', 'gateways') }],
                        loadBalancerInboundNatPools: [
                          { id: lbPart('inboundNatPools', 'channel-tls') },
                          { id: lbPart('inboundNatPools', 'channel-https') },
                        ],
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
    roleAssignment(
      'Microsoft.KeyVault/vaults',
      n.keyVault,
      ROLE.keyVaultSecretsUser,
      principal,
      roleDef,
      vmssId,
      kvId,
    ),
    roleAssignment(
      'Microsoft.Storage/storageAccounts',
      n.storageAccount,
      ROLE.storageBlobDataContributor,
      principal,
      roleDef,
      vmssId,
      stId,
    ),
  ];

  return {
    $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
    contentVersion: '1.0.0.0',
    parameters: {
      webCertificatePfx: {
        type: 'securestring',
        metadata: { description: 'the web certificate, PFX in base64' },
      },
      webCertificatePassphrase: { type: 'securestring', metadata: { description: 'its passphrase' } },
      sshPublicKey: {
        type: 'string',
        metadata: { description: 'the SSH public key of cmgadmin on the instances' },
      },
    },
    resources,
    outputs: {
      publicName: {
        type: 'string',
        value: `[reference(${resourceId('Microsoft.Network/publicIPAddresses', n.publicIp).slice(1, -1)}).dnsSettings.fqdn]`,
      },
      scaleSet: { type: 'string', value: n.scaleSet },
    },
  };
}

function rule(name: string, priority: number, source: string, port: string) {
  return {
    name,
    properties: {
      priority,
      direction: 'Inbound',
      access: 'Allow',
      protocol: 'Tcp',
      sourceAddressPrefix: source,
      sourcePortRange: '*',
      destinationAddressPrefix: '*',
      destinationPortRange: port,
    },
  };
}

function natPool(name: string, frontendId: string, base: number, backendPort: number) {
  return {
    name,
    properties: {
      frontendIPConfiguration: { id: frontendId },
      protocol: 'Tcp',
      frontendPortRangeStart: base,
      frontendPortRangeEnd: base + MAX_INSTANCES - 1,
      backendPort,
    },
  };
}

function roleAssignment(
  scopeType: string,
  scopeName: string,
  role: string,
  principal: string,
  roleDef: (id: string) => string,
  vmssId: string,
  scopeId: string,
): ArmResource {
  return {
    type: 'Microsoft.Authorization/roleAssignments',
    apiVersion: API.roles,
    // A stable name: the same assignment on every deployment.
    name: `[guid(${scopeId.slice(1, -1)}, '${role}', ${vmssId.slice(1, -1)})]`,
    scope: `${scopeType}/${scopeName}`,
    dependsOn: [vmssId, scopeId],
    properties: {
      roleDefinitionId: roleDef(role),
      principalId: principal,
      principalType: 'ServicePrincipal',
    },
  };
}
