import type { CmtraceLogger } from '../logs/logger.js';
import type { Connector } from './connector.js';

/** The connection point's log, SMS_CLOUD_PROXYCONNECTOR.log, as the original names it. */
export function logConnectorEvents(
  connector: Connector,
  open: (file: string, component: string) => CmtraceLogger,
): CmtraceLogger {
  const log = open('SMS_CLOUD_PROXYCONNECTOR.log', 'SMS_CLOUD_PROXYCONNECTOR');
  connector.on('channel-up', (e) =>
    log.info(`channel ${e.index} to ${e.gateway} up (gateway instance ${e.instance || '?'}), manifest sent`),
  );
  connector.on('channel-down', (e) => {
    const line = `channel ${e.index} to ${e.gateway} down: ${e.reason}; retrying in ${(e.retryMs / 1000).toFixed(1)} s`;
    if (e.refused) log.error(line);
    else log.warning(line);
  });
  connector.on('forwarding', (e) => log.info(`forwarding ${e.requestId} ${e.method} to ${e.internalUrl}`));
  connector.on('forwarded', (r) => {
    if (r.error) {
      log.error(
        `request ${r.requestId} ${r.method} ${r.internalUrl || '-'} failed after ${r.ms} ms: ${r.error} (${r.reason ?? ''})`,
      );
    }
  });
  return log;
}
