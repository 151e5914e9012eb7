import { isIP } from 'node:net';
import { join } from 'node:path';
import { isDnsName } from '../names.js';
import { createCrl } from './crl.js';
import { CertUsageError } from './errors.js';
import { connectionPointUri } from './identity.js';
import { type Issuer, issueCertificate, type Profile } from './issue.js';
import { generateKeyPair, type KeyType, privateKeyPem } from './keys.js';
import { OutputFiles } from './output.js';

/** The configs the lab writes must pass `cmg config check`: refuse flags that would make them fail it. */
function checkLabNetwork(req: LabRequest): void {
  for (const [flag, name] of [
    ['--service-name', req.serviceName],
    ['--mp-host', req.mpHost],
  ] as const) {
    if (!isDnsName(name))
      throw new CertUsageError('CMG_USAGE', `${flag}: not a DNS name: ${JSON.stringify(name)}`);
  }
  if (isIP(req.gatewayHost) === 0 && !isDnsName(req.gatewayHost)) {
    throw new CertUsageError(
      'CMG_USAGE',
      `--gateway-host: not an IP address or DNS name: ${JSON.stringify(req.gatewayHost)}`,
    );
  }
  const ports: [string, number][] = [
    ['--gateway-port', req.gatewayPort],
    ['--channel-port', req.channelPort],
    ['--admin-port', req.adminPort],
    ...req.connectionPoints.map((id, i): [string, number] => [
      `the admin port of ${id} (--admin-port + ${i + 1})`,
      req.adminPort + 1 + i,
    ]),
  ];
  for (const [i, [flag, port]] of ports.entries()) {
    const clash = ports.slice(0, i).find(([, p]) => p === port);
    if (clash) throw new CertUsageError('CMG_USAGE', `${flag} (${port}) is the same port as ${clash[0]}`);
  }
}

/** The standard role id of the lab's management point (a real site's ids look the same). */
export const LAB_MP_ROLE_ID = '72057594037927939';

export interface LabRequest {
  outDir: string;
  serviceName: string;
  site: string;
  connectionPoints: string[];
  keyType: KeyType;
  /** Where the connection points reach the gateway, and the stand-in management point. */
  gatewayHost: string;
  gatewayPort: number;
  channelPort: number;
  mpHost: string;
  mpPort: number;
  adminPort: number;
  days: number;
}

export interface LabResult {
  outDir: string;
  gatewayConfig: string;
  connectorConfigs: { id: string; file: string }[];
  certificates: { file: string; subject: string; thumbprint: string; notAfter: string }[];
  files: OutputFiles;
}

/**
 * A complete lab PKI in one go, and daemon configs that use it:
 * client root -> issuing CA -> client certificate; web root -> web service
 * certificate; channel CA -> one certificate per connection point; corp root ->
 * the management point's server certificate; a CRL for every CA.
 */
export async function createLab(req: LabRequest): Promise<LabResult> {
  const ids = req.connectionPoints;
  if (ids.length === 0 || new Set(ids.map((i) => i.toLowerCase())).size !== ids.length) {
    throw new CertUsageError(
      'CMG_USAGE',
      `--connection-points needs one or more distinct ids, got ${JSON.stringify(ids.join(','))}`,
    );
  }
  for (const id of ids) connectionPointUri(req.site, id); // a bad site or id is refused before any key is made
  checkLabNetwork(req);
  const files = new OutputFiles();
  const certificates: LabResult['certificates'] = [];
  const out = (name: string) => join(req.outDir, name);
  const notAfterDays = req.days;
  // Key generation dominates (RSA especially) and runs on libuv's thread pool: make every pair at once.
  const pairCount = 8 + req.connectionPoints.length;
  const pairs = await Promise.all(Array.from({ length: pairCount }, () => generateKeyPair(req.keyType)));

  async function make(
    name: string,
    profile: Profile,
    subject: string,
    issuer: Issuer | undefined,
    extra: { dns?: string[]; ips?: string[]; uris?: string[] } = {},
  ): Promise<Issuer> {
    const keyPair = pairs.pop();
    if (!keyPair) throw new Error('lab: fewer key pairs than certificates (a bug)');
    const cert = await issueCertificate({
      profile,
      subject,
      keyPair,
      ...(issuer ? { issuer } : {}),
      days: profile.endsWith('-ca') ? notAfterDays * 2 : notAfterDays,
      ...extra,
    });
    files.add(out(`${name}.pem`), cert.toPem());
    files.add(out(`${name}.key`), await privateKeyPem(keyPair.privateKey), { secret: true });
    certificates.push({
      file: `${name}.pem`,
      subject: cert.subject,
      thumbprint: cert.thumbprint,
      notAfter: cert.notAfter.toISOString(),
    });
    return { cert, key: keyPair.privateKey, keyType: keyPair.type };
  }

  async function crl(name: string, ca: Issuer): Promise<void> {
    const list = await createCrl({
      issuer: ca,
      entries: [],
      nextUpdate: new Date(Date.now() + 30 * 86_400_000),
      crlNumber: 1,
    });
    files.add(out(`${name}.crl`), list.toPem());
  }

  const o = 'O=cmg lab';
  const clientRoot = await make('client-root', 'root-ca', `CN=cmg lab client root, ${o}`, undefined);
  const clientIssuing = await make(
    'client-issuing',
    'sub-ca',
    `CN=cmg lab client issuing CA, ${o}`,
    clientRoot,
  );
  await make('client', 'client', `CN=client01, ${o}`, clientIssuing, { dns: ['client01.contoso.com'] });
  const webRoot = await make('web-root', 'root-ca', `CN=cmg lab web root, ${o}`, undefined);
  await make('web', 'server', `CN=${req.serviceName}`, webRoot, { dns: [req.serviceName] });
  const channelCa = await make('channel-ca', 'root-ca', `CN=cmg lab channel CA, ${o}`, undefined);
  for (const id of req.connectionPoints) {
    await make(id, 'connection-point', `CN=${id}, OU=${req.site.toUpperCase()}, ${o}`, channelCa, {
      uris: [connectionPointUri(req.site, id)],
    });
  }
  const corpRoot = await make('corp-root', 'root-ca', `CN=cmg lab corp root, ${o}`, undefined);
  await make('mp', 'server', `CN=${req.mpHost}`, corpRoot, {
    dns: [...new Set([req.mpHost, 'localhost'])],
    ips: ['127.0.0.1'],
  });
  await crl('client-root', clientRoot);
  await crl('client-issuing', clientIssuing);
  await crl('web-root', webRoot);
  await crl('channel-ca', channelCa);
  await crl('corp-root', corpRoot);

  const gatewayConfig = out('gateway.json');
  files.add(
    gatewayConfig,
    `${JSON.stringify(
      {
        serviceName: req.serviceName,
        listen: { host: req.gatewayHost, port: req.gatewayPort },
        channel: {
          host: req.gatewayHost,
          port: req.channelPort,
          caFiles: ['channel-ca.pem'],
          sites: [req.site.toUpperCase()],
        },
        tls: { certFile: 'web.pem', keyFile: 'web.key' },
        clientAuth: {
          trustedRootFiles: ['client-root.pem'],
          intermediateFiles: ['client-issuing.pem'],
          crlFiles: ['client-root.crl', 'client-issuing.crl'],
          checkCrl: true,
        },
        admin: { host: '127.0.0.1', port: req.adminPort },
        logDir: 'logs/gateway',
      },
      null,
      2,
    )}\n`,
  );
  const connectorConfigs = req.connectionPoints.map((id, i) => {
    const file = out(`connector-${id}.json`);
    files.add(
      file,
      `${JSON.stringify(
        {
          siteCode: req.site.toUpperCase(),
          gateway: {
            host: req.gatewayHost,
            ports: [req.channelPort],
            serverName: req.serviceName,
            caFiles: ['web-root.pem'],
          },
          tls: { certFile: `${id}.pem`, keyFile: `${id}.key` },
          roles: [
            { type: 'managementPoint', roleId: LAB_MP_ROLE_ID, url: `https://${req.mpHost}:${req.mpPort}` },
          ],
          internalCaFiles: ['corp-root.pem'],
          admin: { host: '127.0.0.1', port: req.adminPort + 1 + i },
          logDir: `logs/${id}`,
        },
        null,
        2,
      )}\n`,
    );
    return { id, file };
  });
  return { outDir: req.outDir, gatewayConfig, connectorConfigs, certificates, files };
}
