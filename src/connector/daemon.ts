import type { ConnectorConfig } from '../config/connector.js';
import type { CmtraceLogger } from '../logs/logger.js';
import { type AdminServer, startAdminServer } from '../telemetry/admin-server.js';
import { TrafficReporter } from '../telemetry/traffic.js';
import { Connector, loadConnectorMaterial } from './connector.js';
import { logConnectorEvents } from './logging.js';
import { connectorMetrics, connectorReadiness, connectorStatus } from './observe.js';

/** `cmg connect` as a unit the command (and `cmg demo`) runs: the connector, its logs, admin endpoint, reports, reload, drain. */
export class ConnectorDaemon {
  private admin: AdminServer | undefined;
  private reports: TrafficReporter | undefined;
  private draining = false;

  private constructor(
    readonly config: ConnectorConfig,
    readonly connector: Connector,
    readonly log: CmtraceLogger,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  static async create(
    config: ConnectorConfig,
    version: string,
    open: (file: string, component: string) => CmtraceLogger,
    env: NodeJS.ProcessEnv = process.env,
  ): Promise<ConnectorDaemon> {
    const connector = await Connector.create(config, version, env);
    return new ConnectorDaemon(config, connector, logConnectorEvents(connector, open), env);
  }

  async start(): Promise<{ admin: string }> {
    const c = this.connector;
    const { config } = this;
    this.log.info(
      `connection point ${c.identity.site}/${c.identity.id} starting: ${config.connectionsPerInstance} channels to each of ` +
        `${config.gateway.ports.map((p) => `${config.gateway.host}:${p}`).join(', ')}` +
        `${config.gateway.proxy ? ` through the proxy ${config.gateway.proxy}` : ''}; ${c.manifest().endpoints.length} endpoints`,
    );
    this.admin = await startAdminServer(config.admin.host, config.admin.port, {
      ready: () => connectorReadiness(c, this.draining),
      status: () => connectorStatus(c, this.draining),
      metrics: connectorMetrics(c),
    });
    this.log.info(`admin endpoint on ${this.admin.url} (/healthz, /readyz, /metrics, /status)`);
    c.start();
    this.reports = new TrafficReporter(config.trafficReportSeconds, c.forwarder.traffic, (line) =>
      this.log.info(line),
    );
    this.reports.start();
    return { admin: this.admin.url };
  }

  /** SIGHUP: its certificate, the gateway's roots and the internal roots, for new channels and requests; a failure keeps the old. */
  async reload(): Promise<boolean> {
    try {
      const material = await loadConnectorMaterial(this.config, this.env);
      this.connector.reload(material);
      this.log.info(
        `reloaded certificates: ${material.subject} (${material.thumbprint}, until ${material.notAfter.toISOString()}); new channels and requests use them`,
      );
      return true;
    } catch (err) {
      this.log.error(`reload failed, still using the previous certificates: ${(err as Error).message}`);
      return false;
    }
  }

  async stop(signal: string): Promise<void> {
    this.draining = true;
    this.reports?.pause();
    this.log.info(
      `${signal}: draining: gateways stop sending requests; ${this.connector.forwarder.inFlight} in flight get up to ${this.config.drainSeconds} s`,
    );
    await this.connector.stop(this.config.drainSeconds * 1000);
    this.reports?.final();
    await this.admin?.close();
    this.log.info('stopped');
  }
}
