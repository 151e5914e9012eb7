import { Flags } from '@oclif/core';
import type { GatewayConfig } from '../config/gateway.js';
import { DaemonCommand, type DaemonResult, daemonFlags } from './daemon.js';

export default class Serve extends DaemonCommand<typeof Serve> {
  static override summary = 'Run one gateway instance (the public HTTPS edge) until SIGTERM or SIGINT';
  static override description =
    'Listens for clients on listen.host:listen.port (mutual TLS, every check of the request path) and for connection ' +
    'points on channel.port (or on the client port, told apart by ALPN cmg-channel/1 when channel.port is absent). ' +
    'Logs to CMGHttpHandler.log (one line per request) and CMGService.log (service, channels, traffic reports) in ' +
    'logDir; serves /healthz, /readyz, /metrics and /status on admin.host:admin.port. SIGHUP reloads the ' +
    'certificates, trusted roots, intermediates and CRLs; SIGTERM or SIGINT drains (no new clients, requests in ' +
    'flight finish within drainSeconds, connection points told to move) and exits 0.';
  static override examples = [
    '<%= config.bin %> serve --config /etc/cmg/gateway.json',
    '<%= config.bin %> serve --config /etc/cmg/gateway.json --print-systemd-unit > /etc/systemd/system/cmg-gateway.service',
  ];
  static override flags = {
    config: Flags.string({
      char: 'c',
      description: 'the gateway config file (JSON or YAML)',
      required: true,
    }),
    ...daemonFlags,
  };

  async run(): Promise<DaemonResult | string> {
    const config = (await this.loadConfig(this.flags.config, 'gateway')).config as GatewayConfig;
    if (this.flags['print-systemd-unit']) {
      return this.systemdUnit(
        'serve',
        config.source,
        `cmg gateway for ${config.serviceName}`,
        config.logDir,
        this.flags.user,
        config.drainSeconds,
        config.tls.kind === 'pfx' ? config.tls.passphraseEnv : undefined,
      );
    }
    const { GatewayDaemon } = await import('../gateway/daemon.js');
    const daemon = await GatewayDaemon.create(config, this.config.version, (file, component) =>
      this.openLog(config.logDir, file, component),
    );
    this.logCrashes(daemon.log, () => daemon.reload());
    const stopped = this.untilStopped();
    const where = await daemon.start();
    this.note(
      `cmg serve: clients on ${where.clients}, connection points on ${where.channels ?? `${where.clients} (ALPN)`}, admin on ${where.admin}; logs in ${config.logDir}`,
    );
    const signal = await stopped;
    await daemon.stop(signal);
    return this.result(signal);
  }
}
