import * as z from 'zod';
import { CLOUDS, type CloudName } from './clouds.js';
import { loadConfigFile } from './load.js';
import {
  type ConfigContext,
  channelSites,
  clientAuthSchema,
  fileList,
  filePath,
  hostname,
  intRange,
  tlsMaterial,
  urlString,
} from './schema-parts.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const guid = (what: string) =>
  z
    .string({ error: `expected the ${what} (a GUID)` })
    .regex(GUID, { error: `expected the ${what} as a GUID, such as 72f988bf-86f1-41af-91ab-2d7cd011db47` });
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const httpsUrl = (what: string) =>
  urlString(
    `expected ${what} (an https:// URL)`,
    `expected ${what} as an https:// URL`,
    (u) => u.protocol === 'https:',
  );

/**
 * How `cmg deploy` signs in: the management certificate (a service
 * principal's certificate, from `cmg certs management create`), a client
 * secret from the environment (never in the file), or DefaultAzureCredential
 * (environment, managed identity, Azure CLI).
 */
function authSchema(ctx: ConfigContext) {
  return z.union(
    [
      z.strictObject({
        tenantId: guid('tenant id'),
        clientId: guid('application (client) id'),
        certificateFile: filePath(ctx),
      }),
      z.strictObject({
        tenantId: guid('tenant id'),
        clientId: guid('application (client) id'),
        secretEnv: z.string({ error: 'expected the name of an environment variable' }).regex(ENV_NAME, {
          error: 'expected the name of an environment variable, such as CMG_AZURE_SECRET',
        }),
      }),
      z.strictObject({ default: z.literal(true, { error: 'expected true' }) }),
    ],
    {
      error:
        'expected { tenantId, clientId, certificateFile } (the management certificate), ' +
        '{ tenantId, clientId, secretEnv } (a client secret in that environment variable), or { "default": true }',
    },
  );
}

/** The deploy config file (`cmg deploy ... --config deploy.json`). */
export function deploySchema(ctx: ConfigContext) {
  return z
    .strictObject({
      cloud: z
        .enum(Object.keys(CLOUDS) as [CloudName, ...CloudName[]], {
          error: 'expected AzureCloud, AzureUSGovernment or AzureChinaCloud',
        })
        .default('AzureCloud'),
      /** Endpoints of a cloud that has no name here (Azure Stack Hub, a private cloud): they replace `cloud`'s. */
      endpoints: z
        .strictObject({
          arm: httpsUrl('the Azure Resource Manager endpoint'),
          authority: httpsUrl('the Entra ID authority host'),
          /** DNS suffixes of public names and of Key Vault in that cloud. */
          dnsSuffix: hostname.optional(),
          vaultSuffix: hostname.optional(),
          /** The audience of ARM tokens, when it is not the ARM endpoint itself. */
          audience: httpsUrl('the token audience of Azure Resource Manager').optional(),
          /** The blob endpoint of a storage account, with `{account}` for its name. */
          blob: z
            .string({
              error:
                'expected a URL with {account}, such as https://{account}.blob.local.azurestack.external',
            })
            .regex(/^https:\/\/.*\{account\}/, {
              error: 'expected an https:// URL with {account} for the storage account name',
            })
            .optional(),
        })
        .optional(),
      subscriptionId: guid('subscription id'),
      resourceGroup: z
        .string({ error: 'expected a resource group name' })
        .regex(/^[-\w._()]{1,89}[-\w_()]$/, {
          error: 'expected 1-90 letters, digits, -, _, ., ( or ), not ending in a period',
        }),
      region: z
        .string({ error: 'expected an Azure region, such as westeurope' })
        .regex(/^[a-z][a-z0-9]{2,30}$/, {
          error: 'expected an Azure region name, such as westeurope or eastus2',
        }),
      /** The public name is `<servicePrefix>.<region>.cloudapp.azure.com`. */
      servicePrefix: z.string({ error: 'expected the service name prefix' }).regex(/^[a-z][a-z0-9]{2,23}$/, {
        error:
          'expected 3-24 lowercase letters and digits, starting with a letter (it becomes the DNS label)',
      }),
      /** A name of your own (a CNAME to the public name): then the gateway's service name. */
      customDomain: hostname.optional(),
      instances: intRange(1, 16).default(2),
      vmSize: z
        .string({ error: 'expected a VM size, such as Standard_A2_v2' })
        .regex(/^(Standard|Basic)_[A-Za-z0-9_]+$/, { error: 'expected a VM size, such as Standard_A2_v2' })
        .default('Standard_A2_v2'),
      auth: authSchema(ctx),
      /** The web service certificate: a PFX, its passphrase from the environment. */
      webCertificate: tlsMaterial(ctx).refine((t) => t.kind === 'pfx', {
        error: 'expected { pfxFile, passphraseEnv }: the web certificate goes to Key Vault as a PFX',
      }),
      clientAuth: clientAuthSchema(ctx),
      channel: z.strictObject({
        caFiles: fileList(ctx, { min: 1 }),
        sites: channelSites,
      }),
      sshPublicKeyFile: filePath(ctx),
      /** Where the instances get `cmg` from: a file uploaded to the deployment's storage account, or a URL. */
      artifact: z
        .union(
          [
            z.strictObject({ binaryFile: filePath(ctx) }),
            z.strictObject({
              url: urlString(
                'expected the URL of the cmg binary',
                'expected an https:// URL of the cmg binary',
                (u) => u.protocol === 'https:',
              ),
              sha256: z
                .string({ error: 'expected the binary’s SHA-256 (64 hex digits)' })
                .regex(/^[0-9a-f]{64}$/i, { error: 'expected the binary’s SHA-256 as 64 hex digits' }),
            }),
          ],
          { error: 'expected { binaryFile } (uploaded to the deployment’s storage) or { url, sha256 }' },
        )
        // Absent: the single binary uploads itself (resolved when deploying; through node there is no binary to send).
        .optional(),
    })
    .superRefine((c, tctx) => {
      if (c.auth && 'secretEnv' in c.auth && !ctx.env[c.auth.secretEnv]) {
        tctx.addIssue({
          code: 'custom',
          path: ['auth', 'secretEnv'],
          message: `environment variable ${c.auth.secretEnv} is not set (or empty); set it to the client secret`,
          input: c.auth.secretEnv,
          params: { mentionsValue: true },
        });
      }
    });
}

export type DeployConfig = z.output<ReturnType<typeof deploySchema>> & { source: string };

export function loadDeployConfig(file: string, env: NodeJS.ProcessEnv = process.env): DeployConfig {
  return loadConfigFile(file, deploySchema, env);
}
