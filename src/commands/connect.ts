import { Flags } from '@oclif/core';
import type { ConnectorConfig } from '../config/connector.js';
import { DaemonCommand, type DaemonResult, daemonFlags } from './daemon.js';

export default class Connect extends DaemonCommand<typeof Connect> {
  static override summary =
    'Run one connection point (dials out to every gateway instance) until SIGTERM or SIGINT';
  static override description =
    'Keeps connectionsPerInstance channels to every port in gateway.ports (through gateway.proxy with HTTP CONNECT ' +
    'when set), publishes its endpoints (explicit ones and those of its roles), and forwards each request to its ' +
    'internal URL over keep-alive pools. Logs to SMS_CLOUD_PROXYCONNECTOR.log in logDir; serves /healthz, /readyz, ' +
    '/metrics and /status on admin.host:admin.port. SIGHUP reloads its certificate and trusted roots; SIGTERM or ' +
    'SIGINT: the gateways stop sending requests, those in flight finish within drainSeconds, exit 0.';
  static override examples = [
    '<%= config.bin %> connect --config /etc/cmg/connector.json',
    '<%= config.bin %> connect --config /etc/cmg/connector.json --print-systemd-unit > /etc/systemd/system/cmg-connector.service',
  ];
  static override flags = {
    config: Flags.string({
      char: 'c',
      description: 'the connection point config file (JSON or YAML)',
      required: true,
    }),
    ...daemonFlags,
  };

  async run(): Promise<DaemonResult | string> {
    const config = (await this.loadConfig(this.flags.config, 'connector')).config as ConnectorConfig;
    if (this.flags['print-systemd-unit']) {
      return this.systemdUnit(
        'connect',
        config.source,
        `cmg connection point for site ${config.siteCode.toUpperCase()}`,
        config.logDir,
        this.flags.user,
        config.drainSeconds,
        config.tls.kind === 'pfx' ? config.tls.passphraseEnv : undefined,
      );
    }
    const { ConnectorDaemon } = await import('../connector/daemon.js');
    const daemon = await ConnectorDaemon.create(config, this.config.version, (file, component) =>
      this.openLog(config.logDir, file, component),
    );
    this.logCrashes(daemon.log, () => daemon.reload());
    const stopped = this.untilStopped();
    const { admin } = await daemon.start();
    const { site, id } = daemon.connector.identity;
    this.note(
      `cmg connect: connection point ${site}/${id} dialing ${config.gateway.host} ports ${config.gateway.ports.join(', ')}, admin on ${admin}; logs in ${config.logDir}`,
    );
    const signal = await stopped;
    await daemon.stop(signal);
    return this.result(signal);
  }
}
