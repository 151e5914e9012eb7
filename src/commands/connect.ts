import { Flags } from '@oclif/core';
import type { ConnectorConfig } from '../config/connector.js';
import { DaemonCommand, type DaemonResult, STOP_GRACE_MS } from './daemon.js';

export default class Connect extends DaemonCommand<typeof Connect> {
  static override summary =
    'Run one connection point (dials out to every gateway instance) until SIGTERM or SIGINT';
  static override description =
    'Keeps connectionsPerInstance channels to every port in gateway.ports, publishes its endpoints (explicit ones and ' +
    'those of its roles), and forwards each request to its internal URL over keep-alive pools. Logs to ' +
    'SMS_CLOUD_PROXYCONNECTOR.log in logDir. SIGTERM or SIGINT: the gateways stop sending requests, those in flight ' +
    'finish, exit 0.';
  static override examples = ['<%= config.bin %> connect --config /etc/cmg/connector.json'];
  static override flags = {
    config: Flags.string({
      char: 'c',
      description: 'the connection point config file (JSON or YAML)',
      required: true,
    }),
  };

  async run(): Promise<DaemonResult> {
    const config = this.loadConfig(this.flags.config, 'connector').config as ConnectorConfig;
    const [{ Connector }, { logConnectorEvents }] = await Promise.all([
      import('../connector/connector.js'),
      import('../connector/logging.js'),
    ]);
    const connector = await Connector.create(config, this.config.version);
    const log = logConnectorEvents(connector, (file, component) =>
      this.openLog(config.logDir, file, component),
    );
    this.logCrashes(log);
    const stopped = this.untilStopped();
    const { site, id } = connector.identity;
    log.info(
      `connection point ${site}/${id} starting: ${config.connectionsPerInstance} channels to each of ${config.gateway.ports.map((p) => `${config.gateway.host}:${p}`).join(', ')}; ${connector.manifest().endpoints.length} endpoints`,
    );
    connector.start();
    this.note(
      `cmg connect: connection point ${site}/${id} dialing ${config.gateway.host} ports ${config.gateway.ports.join(', ')}; logs in ${config.logDir}`,
    );
    const signal = await stopped;
    log.info(`${signal}: draining`);
    await connector.stop(STOP_GRACE_MS);
    log.info('stopped');
    return this.result(signal);
  }
}
