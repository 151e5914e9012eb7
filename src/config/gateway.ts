import * as z from 'zod';
import { loadConfigFile } from './load.js';
import {
  adminEndpoint,
  type ConfigContext,
  channelSites,
  clientAuthSchema,
  drainSeconds,
  fileList,
  host,
  hostname,
  intRange,
  listenPort,
  logDir,
  port,
  tlsMaterial,
  trafficReportSeconds,
} from './schema-parts.js';

const ADMIN_PORT = 9443;

/** The gateway's config file (`cmg serve --config`), as in CONTRACT.md. */
export function gatewaySchema(ctx: ConfigContext) {
  return z
    .strictObject({
      serviceName: hostname,
      listen: z.strictObject({ host: host.default('0.0.0.0'), port: port.default(443) }).prefault({}),
      channel: z.strictObject({
        host: host.default('0.0.0.0'),
        // Absent: connection points are accepted on the client listener, told apart by ALPN.
        port: listenPort.optional(),
        caFiles: fileList(ctx, { min: 1 }),
        sites: channelSites,
      }),
      tls: tlsMaterial(ctx),
      clientAuth: clientAuthSchema(ctx),
      limits: z
        .strictObject({
          maxUrlLength: intRange(256, 65536).default(4096),
          maxHeaderBytes: intRange(1024, 1048576).default(16384),
          defaultMaxContentLength: intRange(0, Number.MAX_SAFE_INTEGER).default(10485760),
          requestTimeoutMs: intRange(1000, 3600000).default(120000),
          // Against slow clients: a request head must be complete within this once begun,
          headersTimeoutMs: intRange(1000, 600000).default(30000),
          // and a keep-alive connection with no request in flight is closed after this.
          idleTimeoutMs: intRange(1000, 3600000).default(120000),
        })
        .prefault({}),
      admin: adminEndpoint(ADMIN_PORT),
      logDir: logDir(ctx),
      drainSeconds,
      trafficReportSeconds,
    })
    .refine((c) => c.channel.port === undefined || c.channel.port !== c.listen.port || c.listen.port === 0, {
      path: ['channel', 'port'],
      error:
        'must differ from listen.port; to share the client port, leave channel.port out (ALPN tells them apart)',
    })
    .superRefine((c, tctx) => {
      // Port 0 is any free port, chosen at start: it never collides.
      const admin = c.admin?.port;
      if (typeof admin !== 'number' || admin === 0) return;
      const taken = [
        ['listen.port', c.listen?.port],
        ['channel.port', c.channel?.port],
      ].flatMap(([key, p]) => (p === admin ? [key] : []));
      if (taken.length === 0) return;
      tctx.addIssue({
        code: 'custom',
        path: ['admin', 'port'],
        message:
          `must differ from ${taken.join(' and ')}: ${taken.length > 1 ? 'all three' : 'both'} are ${admin}` +
          (admin === ADMIN_PORT ? ` (${ADMIN_PORT} is the default admin.port)` : '') +
          '; the admin endpoint needs a port of its own',
      });
    });
}

export type GatewayConfig = z.output<ReturnType<typeof gatewaySchema>> & { source: string };

export function loadGatewayConfig(file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfigFile(file, gatewaySchema, env);
}
