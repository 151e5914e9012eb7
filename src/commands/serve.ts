import { Flags } from '@oclif/core';
import type { GatewayConfig } from '../config/gateway.js';
import { DaemonCommand, type DaemonResult, STOP_GRACE_MS } from './daemon.js';

export default class Serve extends DaemonCommand<typeof Serve> {
  static override summary = 'Run one gateway instance (the public HTTPS edge) until SIGTERM or SIGINT';
  static override description =
    'Listens for clients on listen.host:listen.port (mutual TLS, every check of the request path) and for connection ' +
    'points on channel.port (or on the client port, told apart by ALPN cmg-channel/1 when channel.port is absent). ' +
    'Logs to CMGHttpHandler.log (one line per request) and CMGService.log (service and channels) in logDir. ' +
    'SIGTERM or SIGINT: stop accepting, let requests in flight finish, exit 0.';
  static override examples = ['<%= config.bin %> serve --config /etc/cmg/gateway.json'];
  static override flags = {
    config: Flags.string({
      char: 'c',
      description: 'the gateway config file (JSON or YAML)',
      required: true,
    }),
  };

  async run(): Promise<DaemonResult> {
    const config = this.loadConfig(this.flags.config, 'gateway').config as GatewayConfig;
    const [{ Gateway }, { loadGatewayTrust }, { logGatewayEvents }] = await Promise.all([
      import('../gateway/gateway.js'),
      import('../gateway/trust.js'),
      import('../gateway/logging.js'),
    ]);
    const trust = await loadGatewayTrust(config);
    const gateway = new Gateway(config, trust);
    const { service } = logGatewayEvents(gateway, (file, component) =>
      this.openLog(config.logDir, file, component),
    );
    this.logCrashes(service);
    const stopped = this.untilStopped();
    const where = await gateway.start();
    this.note(
      `cmg serve: clients on ${where.clients}, connection points on ${where.channels ?? `${where.clients} (ALPN)`}; logs in ${config.logDir}`,
    );
    const signal = await stopped;
    service.info(`${signal}: stopping; ${gateway.requestsInFlight()} requests in flight`);
    await gateway.stop(STOP_GRACE_MS);
    service.info('stopped');
    return this.result(signal);
  }
}
