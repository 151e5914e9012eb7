/**
 * What `cmg status` found: one entry per admin endpoint asked, as `--json`
 * prints it, and what that means for the exit code.
 */
import type { DaemonKind } from '../config/kind.js';
import type { ConnectorStatus } from '../connector/observe.js';
import type { GatewayStatus } from '../gateway/observe.js';
import type { Readiness } from '../telemetry/admin-server.js';
import { kindLabel } from './format.js';

export interface GatewaySource {
  url: string;
  kind: 'gateway';
  ready: boolean;
  readiness: Readiness;
  status: GatewayStatus;
}

export interface ConnectorSource {
  url: string;
  kind: 'connector';
  ready: boolean;
  readiness: Readiness;
  status: ConnectorStatus;
}

/** A source that did not answer as a cmg admin endpoint; `error` is a sentence that names the URL. */
export interface FailedSource {
  url: string;
  kind: DaemonKind;
  error: string;
}

export type SourceReport = GatewaySource | ConnectorSource | FailedSource;

export interface StatusReport {
  /**
   * True when no source was given and the default addresses were tried: one
   * that does not answer is then not a failure, as long as another does.
   */
  defaults: boolean;
  sources: SourceReport[];
}

export function isFailed(s: SourceReport): s is FailedSource {
  return 'error' in s;
}

/** The sources that answered. */
export function answered(report: StatusReport): (GatewaySource | ConnectorSource)[] {
  return report.sources.filter((s): s is GatewaySource | ConnectorSource => !isFailed(s));
}

/** Sources that count as failures: unreachable (unless only a default), or not ready. */
export function problems(report: StatusReport): string[] {
  const out: string[] = [];
  for (const s of report.sources) {
    if (isFailed(s)) {
      if (!report.defaults) out.push(s.error);
    } else if (!s.ready) {
      const reasons = s.readiness.reasons.length > 0 ? `: ${s.readiness.reasons.join('; ')}` : '';
      out.push(`the ${kindLabel(s.kind)} at ${s.url} is not ready${reasons}`);
    }
  }
  if (report.defaults && answered(report).length === 0)
    out.push(...report.sources.filter(isFailed).map((s) => s.error));
  return out;
}

/** 0 when every source answered and is ready (with defaults: at least one answered, all of those ready); else 1. */
export function reportExitCode(report: StatusReport): number {
  return problems(report).length === 0 ? 0 : 1;
}
