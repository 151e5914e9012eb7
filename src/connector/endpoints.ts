import type { ConnectorConfig } from '../config/connector.js';

/** One URL mapping a connection point publishes: external path prefix -> internal URL. */
export interface PublishedEndpoint {
  external: string;
  internal: string;
  /** Request body limit for this endpoint; the gateway's default when absent. */
  maxContentLength?: number;
}

/**
 * The standard endpoints of each site role type, published under
 * `/CCM_Proxy_MutualAuth/<role id>/<name>` and mapped to `<role url>/<name>`.
 */
export const ROLE_ENDPOINTS = {
  managementPoint: [
    'CCM_System',
    'CCM_System_TokenAuth',
    'CCM_Incoming',
    'CCM_STS',
    'CCM_Client',
    'SMS_MP',
    'BGB',
  ],
  softwareUpdatePoint: ['ClientWebService', 'SimpleAuthWebService', 'Content', 'selfupdate'],
} as const;

type Role = ConnectorConfig['roles'][number];

export function roleEndpoints(role: Role): PublishedEndpoint[] {
  const base = role.url.replace(/\/+$/, '');
  return ROLE_ENDPOINTS[role.type].map((name) => ({
    external: `/CCM_Proxy_MutualAuth/${role.roleId}/${name}`,
    internal: `${base}/${name}`,
  }));
}

/**
 * Everything a connection point publishes: the endpoints generated from its
 * roles, then its explicit endpoints, which replace a generated one with the
 * same external prefix (compared as the gateway routes: case-insensitively).
 */
export function publishedEndpoints(
  config: Pick<ConnectorConfig, 'roles' | 'endpoints'>,
): PublishedEndpoint[] {
  const byPrefix = new Map<string, PublishedEndpoint>();
  for (const e of config.roles.flatMap(roleEndpoints)) byPrefix.set(e.external.toLowerCase(), e);
  for (const e of config.endpoints) {
    byPrefix.set(e.external.toLowerCase(), {
      external: e.external,
      internal: e.internal,
      ...(e.maxContentLength === undefined ? {} : { maxContentLength: e.maxContentLength }),
    });
  }
  return [...byPrefix.values()];
}
