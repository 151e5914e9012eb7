import { ConfigError } from '../errors.js';
import { type ConnectorConfig, connectorSchema } from './connector.js';
import { type GatewayConfig, gatewaySchema } from './gateway.js';
import { readConfigDocument, validateConfig } from './load.js';

export type DaemonConfig =
  | { kind: 'gateway'; config: GatewayConfig }
  | { kind: 'connector'; config: ConnectorConfig };
export type DaemonKind = DaemonConfig['kind'];

/**
 * Loads a gateway or connection point config, telling them apart by their
 * required top-level key (`serviceName` or `siteCode`) unless `kind` is given.
 */
export function loadDaemonConfig(
  file: string,
  kind?: DaemonKind,
  env: NodeJS.ProcessEnv = process.env,
): DaemonConfig {
  const { source, doc } = readConfigDocument(file);
  const value = doc.value;
  const keys = value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value) : [];
  const detected: DaemonKind | undefined =
    kind ?? (keys.includes('serviceName') ? 'gateway' : keys.includes('siteCode') ? 'connector' : undefined);
  if (detected === 'gateway')
    return { kind: 'gateway', config: validateConfig(source, doc, gatewaySchema, env) };
  if (detected === 'connector')
    return { kind: 'connector', config: validateConfig(source, doc, connectorSchema, env) };
  throw new ConfigError(
    source,
    [
      {
        path: '',
        message:
          'cannot tell which daemon this file is for: a gateway config has serviceName, a connection point config has siteCode',
      },
    ],
    { hint: 'Add the missing key, or say which it is with --kind gateway or --kind connector.' },
  );
}
