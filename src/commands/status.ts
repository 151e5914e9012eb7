import { Flags } from '@oclif/core';
import { OperationError, UsageError } from '../errors.js';
import { collectStatus } from '../status/probe.js';
import { renderReport, stdoutPaint } from '../status/render.js';
import { answered, isFailed, reportExitCode, type StatusReport } from '../status/report.js';
import {
  adminSourceOf,
  parseSeconds,
  resolveSources,
  type StatusSource,
  withOptionalValue,
} from '../status/sources.js';
import { watchFrame, watchLoop } from '../status/watch.js';
import { CmgCommand } from './base.js';

const WATCH_DEFAULT_SECONDS = '2';

export default class Status extends CmgCommand<typeof Status> {
  static override summary =
    'Show the state of gateways and connection points, read from their admin endpoints';
  static override description =
    'Asks each admin endpoint for /status and /readyz and shows readiness, certificates, sites, connection ' +
    'points and their channels, endpoints with their traffic, and recent errors. Sources are admin URLs ' +
    '(--gateway, --connector; http://HOST:PORT or HOST:PORT) or config files (--config: their admin.host and ' +
    'admin.port). With none, the default addresses http://127.0.0.1:9443 (gateway) and http://127.0.0.1:9444 ' +
    '(connection point) are tried, and it fails only if neither answers. Exits 0 when every source answered and ' +
    'is ready, 1 when one did not answer or is not ready (after showing everything it could), 2 on bad usage.';
  static override examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> status --gateway http://127.0.0.1:9443 --connector 127.0.0.1:9444',
    '<%= config.bin %> status --config /etc/cmg/gateway.json --json',
    '<%= config.bin %> status --config gateway.json --config connector.json --watch 5',
  ];
  static override flags = {
    gateway: Flags.string({
      description: 'admin URL of a gateway instance (http://HOST:PORT or HOST:PORT); repeatable',
      multiple: true,
      delimiter: ',',
      helpValue: 'URL',
    }),
    connector: Flags.string({
      description: 'admin URL of a connection point (http://HOST:PORT or HOST:PORT); repeatable',
      multiple: true,
      delimiter: ',',
      helpValue: 'URL',
    }),
    config: Flags.string({
      char: 'c',
      description: 'a gateway or connection point config file: asks the admin address it sets; repeatable',
      multiple: true,
      helpValue: 'FILE',
    }),
    timeout: Flags.string({
      description: 'seconds to wait for each admin endpoint to answer',
      default: '3',
      helpValue: 'SECONDS',
    }),
    watch: Flags.string({
      char: 'w',
      description: `redraw every SECONDS (default ${WATCH_DEFAULT_SECONDS}) until Ctrl-C; not with --json`,
      helpValue: '[SECONDS]',
    }),
  };

  override async init(): Promise<void> {
    this.argv = withOptionalValue(
      withOptionalValue(this.argv, '--watch', WATCH_DEFAULT_SECONDS),
      '-w',
      WATCH_DEFAULT_SECONDS,
    );
    await super.init();
  }

  async run(): Promise<StatusReport | undefined> {
    const watching = this.flags.watch !== undefined;
    if (watching && this.jsonEnabled())
      throw new UsageError('--watch draws a view for people and cannot be combined with --json', {
        hint: 'For scripts, run `cmg status --json` at the interval you need.',
      });
    const timeoutMs = parseSeconds('--timeout', this.flags.timeout) * 1000;
    const everySeconds = watching ? parseSeconds('--watch', this.flags.watch as string) : 0;
    const configs = [];
    for (const file of this.flags.config ?? []) configs.push(adminSourceOf(await this.loadConfig(file)));
    const sources = resolveSources({
      gateway: this.flags.gateway,
      connector: this.flags.connector,
      configs,
    });
    if (watching) {
      process.exitCode = await this.watch(sources, timeoutMs, everySeconds);
      return undefined;
    }
    const report = await collectStatus(sources, { timeoutMs });
    if (answered(report).length === 0) {
      const errors = report.sources.filter(isFailed).map((s) => s.error);
      throw new OperationError('CMG_STATUS_UNREACHABLE', errors.join('\n'), {
        hint: report.defaults
          ? 'Nothing answered at the default admin addresses: pass the admin URL a daemon printed at start ' +
            '("admin on http://...") with --gateway or --connector, or its config with --config.'
          : 'Is the daemon running? Its admin URL is printed at start ("admin on http://..."); check admin.host ' +
            'and admin.port in its config.',
      });
    }
    // Unreachable sources are in the view too; a line on stderr keeps them visible with --json or a redirect.
    if (!report.defaults)
      for (const s of report.sources) if (isFailed(s)) this.note(`cmg status: ${s.error}`);
    return report;
  }

  private async watch(sources: StatusSource[], timeoutMs: number, everySeconds: number): Promise<number> {
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const paint = stdoutPaint();
      const last = await watchLoop({
        everyMs: everySeconds * 1000,
        signal: stop.signal,
        collect: (signal) => collectStatus(sources, { timeoutMs, signal }),
        draw: (report, round) => {
          const now = Date.now();
          const view = renderReport(report, { paint, now });
          const tty = process.stdout.isTTY === true;
          process.stdout.write(watchFrame(view, { paint, tty, round, everySeconds, now }));
        },
      });
      // Stopped before anything was shown: the conventional code of an interrupted command.
      return last === undefined ? 130 : reportExitCode(last);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }

  protected override exitCodeOf(report: StatusReport | undefined): number {
    return report === undefined ? 0 : reportExitCode(report);
  }

  protected render(report: StatusReport | undefined): void {
    if (report) process.stdout.write(renderReport(report, { paint: stdoutPaint(), now: Date.now() }));
  }
}
