import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readFileSync, readSync } from 'node:fs';
import { isSea } from 'node:sea';
import { readBundle, readCertificates } from '../certs/read.js';
import { matchServiceName } from '../certs/verify.js';
import { pickLeaf } from '../certs/web-check.js';
import type { DeployConfig } from '../config/deploy.js';
import { ConfigError } from '../errors.js';
import type { AzureEndpoints } from './azure.js';
import {
  type ArmResource,
  type ArmTemplate,
  buildTemplate,
  type ResourceNames,
  resourceNames,
  type TemplateInput,
} from './template.js';

const ELF = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
/** What Azure takes as custom data: 87,380 characters of base64. */
const CUSTOM_DATA_MAX = 87_380;

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

/** The names of the config's resources (the scale set, Key Vault, storage...). */
export function namesOf(config: DeployConfig): ResourceNames {
  return resourceNames({
    prefix: config.servicePrefix,
    subscriptionId: config.subscriptionId,
    resourceGroup: config.resourceGroup,
  });
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

/** The binary the instances run: the config's, or this single binary itself (when it is one for Linux x64). */
function binaryOf(config: DeployConfig): string {
  if (config.artifact && 'binaryFile' in config.artifact) {
    const file = config.artifact.binaryFile;
    // The instances are Linux x64: an ELF file, or the instances' setup fails far from here.
    const head = Buffer.alloc(20);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, head, 0, 20, 0);
    } finally {
      closeSync(fd);
    }
    if (!(head.subarray(0, 4).equals(ELF) && head[4] === 2 && head.readUInt16LE(18) === 0x3e)) {
      throw new ConfigError(config.source, [
        {
          path: 'artifact.binaryFile',
          message: `${file} is not a Linux x64 executable: the instances run Ubuntu on x64; give the cmg binary for linux-x64`,
        },
      ]);
    }
    return file;
  }
  if (isSea() && process.platform === 'linux' && process.arch === 'x64') return process.execPath;
  throw new ConfigError(
    config.source,
    [
      {
        path: 'artifact',
        message:
          'is missing, and cmg is not running as the single binary for Linux x64 (which would upload itself): give { "binaryFile": "path/to/cmg" } or { "url": ..., "sha256": ... }',
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
  const names = namesOf(config);
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
  // Certificates as PEM whatever the file holds (DER .cer files are common on Windows); a file without one is refused.
  const pem = async (files: string[], key: string) => {
    const out: string[] = [];
    for (const f of files) {
      const certs = await readCertificates([f]).catch((err: Error) => {
        throw new ConfigError(config.source, [{ path: key, message: `${f}: ${err.message}` }]);
      });
      if (certs.length === 0)
        throw new ConfigError(config.source, [{ path: key, message: `${f} holds no certificate` }]);
      out.push(certs.map((c) => c.toPem()).join(''));
    }
    return out;
  };
  const web = config.webCertificate as { kind: 'pfx'; pfxFile: string; passphraseEnv?: string | undefined };
  const passphrase = web.passphraseEnv ? (env[web.passphraseEnv] ?? '') : '';
  await checkWebCertificate(config, web.pfxFile, passphrase, serviceName);
  const ssh = readFileSync(config.sshPublicKeyFile, 'utf8').trim();
  if (!/^(ssh-(rsa|ed25519)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?$/.test(ssh)) {
    throw new ConfigError(config.source, [
      {
        path: 'sshPublicKeyFile',
        message: `${config.sshPublicKeyFile} is not an SSH public key (one line: ssh-ed25519 AAAA... or ssh-rsa AAAA...); never give the private key`,
      },
    ]);
  }
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
      trustedRoots: await pem(config.clientAuth.trustedRootFiles, 'clientAuth.trustedRootFiles'),
      intermediates: await pem(config.clientAuth.intermediateFiles, 'clientAuth.intermediateFiles'),
      crls: config.clientAuth.crlFiles.map((f) => readFileSync(f).toString('base64')),
      checkCrl: config.clientAuth.checkCrl,
      channelCas: await pem(config.channel.caFiles, 'channel.caFiles'),
      artifact,
    },
    { vault: endpoints.vaultSuffix, blob: endpoints.blob },
  );
  const vmss = template.resources.find(
    (r) => r.type === 'Microsoft.Compute/virtualMachineScaleSets',
  ) as ArmResource;
  const customData = (vmss.properties as { virtualMachineProfile: { osProfile: { customData: string } } })
    .virtualMachineProfile.osProfile.customData;
  if (customData.length > CUSTOM_DATA_MAX) {
    throw new ConfigError(config.source, [
      {
        path: 'clientAuth',
        message:
          `the instances' setup data is ${customData.length} characters of base64, over Azure's ${CUSTOM_DATA_MAX}: ` +
          'the roots, intermediates, CRLs and channel CAs are written into it; give fewer or smaller files (large CRLs are the usual cause)',
      },
    ]);
  }
  return {
    template,
    parameters: {
      webCertificatePfx: { value: readFileSync(web.pfxFile).toString('base64') },
      webCertificatePassphrase: { value: passphrase },
      sshPublicKey: { value: ssh },
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

/** The web certificate opens with its passphrase, holds its key, names the service and is valid now. */
async function checkWebCertificate(
  config: DeployConfig,
  file: string,
  passphrase: string,
  serviceName: string,
) {
  const problem = (message: string) =>
    new ConfigError(config.source, [{ path: 'webCertificate.pfxFile', message: `${file}: ${message}` }]);
  let bundle: Awaited<ReturnType<typeof readBundle>>;
  try {
    bundle = await readBundle(file, async () => passphrase);
  } catch (err) {
    throw problem((err as Error).message);
  }
  if (!bundle.key) throw problem('holds no private key: the gateway needs the web certificate with its key');
  const leaf = pickLeaf(bundle.certificates, bundle.key);
  if (!leaf) throw problem('holds no certificate');
  if (matchServiceName(leaf, serviceName) === 'none') {
    throw problem(
      `is for ${leaf.subject}, not ${serviceName} (the customDomain, or the public name without one)`,
    );
  }
  const now = new Date();
  if (leaf.notAfter < now || leaf.notBefore > now) {
    throw problem(`is valid from ${leaf.notBefore.toISOString()} to ${leaf.notAfter.toISOString()}, not now`);
  }
}
