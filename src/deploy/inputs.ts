import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { isSea } from 'node:sea';
import type { DeployConfig } from '../config/deploy.js';
import { ConfigError } from '../errors.js';
import type { AzureEndpoints } from './azure.js';
import {
  type ArmTemplate,
  buildTemplate,
  type ResourceNames,
  resourceNames,
  type TemplateInput,
} from './template.js';

/** The fixed name of the template deployment: running `deploy create` again updates the same one. */
export const DEPLOYMENT_NAME = 'cmg-gateway';
export const ARTIFACT_CONTAINER = 'artifacts';

/** Everything a deployment needs, read from the config's files: the template, its parameters, the names. */
export interface DeploymentInputs {
  template: ArmTemplate;
  /** Deployment parameters (the web certificate and its passphrase, the SSH key): never written to disk. */
  parameters: Record<string, { value: string }>;
  names: ResourceNames;
  serviceName: string;
  publicName: string;
  /** The binary to upload to the deployment's storage, when that is where instances get cmg from. */
  upload?: { file: string; container: string; blob: string; sha256: string; bytes: number } | undefined;
}

/** SHA-256 of a file, streamed. */
export async function sha256File(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** The binary the instances run: the config's, or this single binary itself. */
function binaryOf(config: DeployConfig): string {
  if (config.artifact && 'binaryFile' in config.artifact) return config.artifact.binaryFile;
  if (isSea()) return process.execPath;
  throw new ConfigError(
    config.source,
    [
      {
        path: 'artifact',
        message:
          'is missing, and cmg is not running as the single binary (which would upload itself): give { "binaryFile": "path/to/cmg" } or { "url": ..., "sha256": ... }',
      },
    ],
    { hint: 'Build the binary with npm run build:binary, or download the release for Linux x64.' },
  );
}

export async function deploymentInputs(
  config: DeployConfig,
  endpoints: AzureEndpoints,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DeploymentInputs> {
  const names = resourceNames({
    prefix: config.servicePrefix,
    subscriptionId: config.subscriptionId,
    resourceGroup: config.resourceGroup,
  });
  const publicName = `${config.servicePrefix}.${config.region}.${endpoints.dnsSuffix}`;
  const serviceName = config.customDomain ?? publicName;
  let artifact: TemplateInput['artifact'];
  let upload: DeploymentInputs['upload'];
  if (config.artifact && 'url' in config.artifact) {
    artifact = { kind: 'url', url: config.artifact.url, sha256: config.artifact.sha256.toLowerCase() };
  } else {
    const file = binaryOf(config);
    const { sha256, bytes } = await sha256File(file);
    // Named by content: a new binary is a new blob, and instances never see a half-replaced one.
    const blob = `cmg-${sha256.slice(0, 16)}`;
    artifact = { kind: 'storage', container: ARTIFACT_CONTAINER, blob, sha256 };
    upload = { file, container: ARTIFACT_CONTAINER, blob, sha256, bytes };
  }
  const pem = (files: string[]) => files.map((f) => readFileSync(f, 'utf8'));
  const web = config.webCertificate as { kind: 'pfx'; pfxFile: string; passphraseEnv?: string | undefined };
  const template = buildTemplate(
    {
      subscriptionId: config.subscriptionId,
      resourceGroup: config.resourceGroup,
      region: config.region,
      prefix: config.servicePrefix,
      serviceName,
      instances: config.instances,
      vmSize: config.vmSize,
      sites: config.channel.sites,
      trustedRoots: pem(config.clientAuth.trustedRootFiles),
      intermediates: pem(config.clientAuth.intermediateFiles),
      crls: config.clientAuth.crlFiles.map((f) => readFileSync(f).toString('base64')),
      checkCrl: config.clientAuth.checkCrl,
      channelCas: pem(config.channel.caFiles),
      artifact,
    },
    { vault: endpoints.vaultSuffix, blob: endpoints.blob },
  );
  return {
    template,
    parameters: {
      webCertificatePfx: { value: readFileSync(web.pfxFile).toString('base64') },
      webCertificatePassphrase: { value: web.passphraseEnv ? (env[web.passphraseEnv] ?? '') : '' },
      sshPublicKey: { value: readFileSync(config.sshPublicKeyFile, 'utf8').trim() },
    },
    names,
    serviceName,
    publicName,
    upload,
  };
}

/**
 * Instances for a number of clients: the original gateway's 6,000 clients
 * per 2-core instance, at least two for availability, at most 16; outbound
 * data at 100-300 MB per client per month.
 */
export function sizing(clients: number): {
  clients: number;
  instances: number;
  outboundGbPerMonth: { low: number; high: number };
} {
  const instances = Math.min(16, Math.max(2, Math.ceil(clients / 6000)));
  return {
    clients,
    instances,
    outboundGbPerMonth: { low: Math.round((clients * 100) / 1000), high: Math.round((clients * 300) / 1000) },
  };
}
