import { Counter, Histogram, type Registry } from 'prom-client';

/** What both daemons know of a finished request, for its metrics. */
export interface MeasuredRequest {
  endpoint: string;
  status: number;
  error?: string | undefined;
  bytesIn: number;
  bytesOut: number;
  ms: number;
}

export interface RequestMetricsHelp {
  requests: string;
  bytes: string;
  latency: string;
}

/**
 * The request metrics both daemons keep, under their own prefix
 * (`cmg_gateway`, `cmg_connector`): requests by endpoint, status and error,
 * body bytes each way, and a latency histogram. Returns the recorder.
 */
export function requestMetrics(
  registry: Registry,
  prefix: string,
  help: RequestMetricsHelp,
): (r: MeasuredRequest) => void {
  const requests = new Counter({
    name: `${prefix}_requests_total`,
    help: help.requests,
    labelNames: ['endpoint', 'status', 'error'],
    registers: [registry],
  });
  const bytes = new Counter({
    name: `${prefix}_body_bytes_total`,
    help: help.bytes,
    labelNames: ['endpoint', 'direction'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: `${prefix}_request_duration_seconds`,
    help: help.latency,
    labelNames: ['endpoint'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
    registers: [registry],
  });
  return (r) => {
    requests.inc({ endpoint: r.endpoint, status: String(r.status), error: r.error ?? '' });
    if (r.bytesIn) bytes.inc({ endpoint: r.endpoint, direction: 'in' }, r.bytesIn);
    if (r.bytesOut) bytes.inc({ endpoint: r.endpoint, direction: 'out' }, r.bytesOut);
    latency.observe({ endpoint: r.endpoint }, r.ms / 1000);
  };
}
