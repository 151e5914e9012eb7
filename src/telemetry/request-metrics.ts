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
  // The labelled series, looked up once per endpoint (and status, error): prom-client hashes a
  // label object on every call, which is measurable on the request path.
  const byEndpoint = new Map<
    string,
    { in: Counter.Internal; out: Counter.Internal; latency: Histogram.Internal<string> }
  >();
  const byOutcome = new Map<string, Counter.Internal>();
  return (r) => {
    const error = r.error ?? '';
    const key = `${r.endpoint}\n${r.status}\n${error}`;
    let counter = byOutcome.get(key);
    if (!counter) {
      counter = requests.labels({ endpoint: r.endpoint, status: String(r.status), error });
      byOutcome.set(key, counter);
    }
    let series = byEndpoint.get(r.endpoint);
    if (!series) {
      series = {
        in: bytes.labels({ endpoint: r.endpoint, direction: 'in' }),
        out: bytes.labels({ endpoint: r.endpoint, direction: 'out' }),
        latency: latency.labels({ endpoint: r.endpoint }),
      };
      byEndpoint.set(r.endpoint, series);
    }
    counter.inc();
    if (r.bytesIn) series.in.inc(r.bytesIn);
    if (r.bytesOut) series.out.inc(r.bytesOut);
    series.latency.observe(r.ms / 1000);
  };
}
