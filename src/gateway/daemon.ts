import type { GatewayConfig } from '../config/gateway.js';
import type { CmtraceLogger } from '../logs/logger.js';
import { type AdminServer, startAdminServer } from '../telemetry/admin-server.js';
import { TrafficReporter } from '../telemetry/traffic.js';
import { Gateway } from './gateway.js';
import { logGatewayEvents, type OpenLog } from './logging.js';
import { gatewayMetrics, gatewayReadiness, gatewayStatus } from './observe.js';
import { loadGatewayTrust } from './trust.js';

export interface GatewayAddresses {
  clients: string;
  channels?: string;
  admin: string;
}

/**
 * `cmg serve` as a unit the command (and `cmg demo`) runs: the gateway, its
 * logs, its admin endpoint, traffic reports, reload and drain.
 */
export class GatewayDaemon {
  private admin: AdminServer | undefined;
  private reports: TrafficReporter | undefined;
  private draining = false;

  private constructor(
    readonly config: GatewayConfig,
    readonly gateway: Gateway,
    readonly log: CmtraceLogger,
    private readonly version: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  static async create(
    config: GatewayConfig,
    version: string,
    open: OpenLog,
    env: NodeJS.ProcessEnv = process.env,
  ): Promise<GatewayDaemon> {
    const gateway = new Gateway(config, await loadGatewayTrust(config, env));
    const { service } = logGatewayEvents(gateway, open);
    return new GatewayDaemon(config, gateway, service, version, env);
  }

  async start(): Promise<GatewayAddresses> {
    const sites = this.config.channel.sites.map((s) => s.toUpperCase());
    const where = await this.gateway.start();
    const metrics = gatewayMetrics(this.gateway);
    this.admin = await startAdminServer(this.config.admin.host, this.config.admin.port, {
      ready: () => gatewayReadiness(this.gateway, sites, this.draining),
      status: () => gatewayStatus(this.gateway, sites, this.version, this.draining),
      metrics,
    });
    this.log.info(`admin endpoint on ${this.admin.url} (/healthz, /readyz, /metrics, /status)`);
    this.reports = new TrafficReporter(this.config.trafficReportSeconds, this.gateway.traffic, (line) =>
      this.log.info(line),
    );
    this.reports.start();
    return { ...where, admin: this.admin.url };
  }

  /**
   * SIGHUP: reads the web certificate, trusted roots, intermediates, CRLs and
   * channel CAs again. New connections get them; connections and channels
   * already up are not touched. A file that fails keeps everything as it was.
   */
  async reload(): Promise<boolean> {
    try {
      const trust = await loadGatewayTrust(this.config, this.env);
      this.gateway.reload(trust);
      const c = trust.identity.leaf;
      this.log.info(
        `reloaded certificates: web certificate ${c.subject} (${c.thumbprint}, until ${c.notAfter.toISOString()}), ` +
          `${trust.clients.roots.length} trusted roots, ${trust.clients.intermediates?.length ?? 0} intermediates, ` +
          `${trust.clients.crls?.length ?? 0} CRLs, ${trust.channels.roots.length} channel CAs`,
      );
      return true;
    } catch (err) {
      this.log.error(`reload failed, still using the previous certificates: ${(err as Error).message}`);
      return false;
    }
  }

  /** Drain within `drainSeconds`, then close everything. */
  async stop(signal: string): Promise<void> {
    this.draining = true;
    this.reports?.pause();
    this.log.info(
      `${signal}: draining: no new clients or channels; ${this.gateway.requestsInFlight()} requests in flight get up to ${this.config.drainSeconds} s`,
    );
    await this.gateway.stop(this.config.drainSeconds * 1000);
    this.reports?.final();
    await this.admin?.close();
    this.log.info('stopped');
  }
}
