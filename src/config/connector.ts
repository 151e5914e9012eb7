import * as z from 'zod';
import { loadConfigFile } from './load.js';
import {
  adminEndpoint,
  type ConfigContext,
  drainSeconds,
  fileList,
  host,
  intRange,
  listenPort,
  logDir,
  noDuplicates,
  serverName,
  siteCode,
  tlsMaterial,
  trafficReportSeconds,
  urlString,
} from './schema-parts.js';

const ROLE_TYPES = ['managementPoint', 'softwareUpdatePoint'] as const;

const urlOf = (what: string) =>
  urlString(
    `expected ${what}`,
    `expected ${what}, without query or fragment`,
    (u) =>
      (u.protocol === 'https:' || u.protocol === 'http:') &&
      u.hostname !== '' &&
      u.search === '' &&
      u.hash === '',
  );

/** An external path prefix as clients send it: absolute, clean, no query, no encoding tricks. */
const externalPrefix = z
  .string({ error: 'expected a URL path such as /CCM_Proxy_MutualAuth/72057594037927939/CCM_System' })
  .max(1024, { error: 'expected at most 1024 characters' })
  .refine(
    (v) =>
      /^\/[^?#%\\\s\p{Cc}]*$/u.test(v) &&
      !v.split('/').some((s) => s === '.' || s === '..') &&
      !v.includes('//') &&
      !v.endsWith('/'),
    {
      error:
        'expected an absolute URL path without a trailing slash, "." or ".." segments, "//", "%", "\\", "?", "#" or spaces',
    },
  );

const roleId = z
  .string({
    error:
      'expected the role id as a string of digits, in quotes (role ids such as 72057594037927939 are too large for a JSON or YAML number)',
  })
  .regex(/^[0-9]{1,20}$/, { error: 'expected a string of 1 to 20 digits, such as "72057594037927939"' });

/** The connection point's config file (`cmg connect --config`), as in CONTRACT.md. */
export function connectorSchema(ctx: ConfigContext) {
  return z
    .strictObject({
      siteCode,
      gateway: z
        .strictObject({
          host,
          ports: z
            .array(listenPort, { error: 'expected a list of ports, one per gateway instance' })
            .min(1, { error: 'expected at least one port (one per gateway instance), such as [443]' })
            .max(16, { error: 'a deployment has at most 16 instances, so at most 16 ports' })
            .refine((p) => new Set(p).size === p.length, { error: 'each port may appear once' }),
          serverName: serverName.optional(),
          caFiles: fileList(ctx, { min: 1 }).optional(),
          proxy: urlString(
            'expected a proxy URL such as http://proxy.contoso.com:8080',
            'expected a proxy URL of the form http://host:port',
            (u) => u.protocol === 'http:' && u.port !== '' && (u.pathname === '/' || u.pathname === ''),
          ).optional(),
        })
        .transform((g) => ({ ...g, serverName: g.serverName ?? g.host })),
      tls: tlsMaterial(ctx),
      connectionsPerInstance: intRange(1, 16).default(2),
      // The original checks at least once a minute; dead-channel detection takes two heartbeats.
      heartbeatSeconds: intRange(1, 60).default(20),
      endpoints: z
        .array(
          z.strictObject({
            external: externalPrefix,
            internal: urlOf('an internal URL such as https://mp01.corp.contoso.com/CCM_System'),
            maxContentLength: intRange(0, Number.MAX_SAFE_INTEGER).optional(),
          }),
        )
        .superRefine(
          noDuplicates(
            // The gateway routes paths ignoring case, so /CCM_System and /ccm_system are one prefix.
            (e) => (externalPrefix.safeParse(e.external).success ? e.external.toLowerCase() : undefined),
            (first) =>
              `duplicate external prefix: endpoints[${first}] already publishes it (prefixes are compared ignoring case, as the gateway routes them)`,
            ['external'],
          ),
        )
        .default([]),
      roles: z
        .array(
          z.strictObject({
            type: z.enum(ROLE_TYPES, { error: `expected one of ${ROLE_TYPES.join(', ')}` }),
            roleId,
            url: urlOf("the role's internal base URL such as https://mp01.corp.contoso.com"),
          }),
        )
        .superRefine(
          noDuplicates(
            (r) =>
              ROLE_TYPES.includes(r.type) && roleId.safeParse(r.roleId).success
                ? `${r.type} ${r.roleId}`
                : undefined,
            (first) => `duplicate role: roles[${first}] has the same type and roleId`,
          ),
        )
        .default([]),
      internalCaFiles: fileList(ctx).default([]),
      admin: adminEndpoint(9444),
      logDir: logDir(ctx),
      drainSeconds,
      trafficReportSeconds,
    })
    .refine((c) => c.endpoints.length + c.roles.length > 0, {
      error: 'nothing to publish: give at least one entry in endpoints or roles',
    });
}

export type ConnectorConfig = z.output<ReturnType<typeof connectorSchema>> & { source: string };

export function loadConnectorConfig(file: string, env: NodeJS.ProcessEnv = process.env): ConnectorConfig {
  return loadConfigFile(file, connectorSchema, env);
}
