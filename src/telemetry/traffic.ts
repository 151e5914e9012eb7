/** Per-endpoint traffic, as the original's five-minute reports give it. */
export interface EndpointTraffic {
  endpoint: string;
  requests: number;
  failed: number;
  bytesIn: number;
  bytesOut: number;
  /** Most requests in flight at once during the period. */
  maxConcurrent: number;
}

interface Counter extends EndpointTraffic {
  concurrent: number;
}

/**
 * Counts requests per endpoint for two views: the report period (reset at
 * each report) and the life of the process (for /status). An endpoint is a
 * published prefix, so the set of keys is bounded by what was published.
 */
export class TrafficStats {
  private period = new Map<string, Counter>();
  private readonly total = new Map<string, Counter>();

  private static counter(endpoint: string): Counter {
    return { endpoint, requests: 0, failed: 0, bytesIn: 0, bytesOut: 0, maxConcurrent: 0, concurrent: 0 };
  }

  private each(endpoint: string, fn: (c: Counter) => void): void {
    for (const map of [this.period, this.total]) {
      let c = map.get(endpoint);
      if (!c) {
        c = TrafficStats.counter(endpoint);
        map.set(endpoint, c);
      }
      fn(c);
    }
  }

  /** A request to `endpoint` started (call `end` exactly once for it). */
  begin(endpoint: string): void {
    this.each(endpoint, (c) => {
      c.concurrent++;
      c.maxConcurrent = Math.max(c.maxConcurrent, c.concurrent);
    });
  }

  end(endpoint: string, outcome: { failed: boolean; bytesIn: number; bytesOut: number }): void {
    this.each(endpoint, (c) => {
      c.concurrent = Math.max(0, c.concurrent - 1);
      c.requests++;
      if (outcome.failed) c.failed++;
      c.bytesIn += outcome.bytesIn;
      c.bytesOut += outcome.bytesOut;
    });
  }

  /** Since the last call (or the start), then a new period begins; requests still in flight carry over. */
  takePeriod(): EndpointTraffic[] {
    const out = [...this.period.values()].map(strip);
    const next = new Map<string, Counter>();
    for (const c of this.period.values()) {
      if (c.concurrent > 0)
        next.set(c.endpoint, {
          ...TrafficStats.counter(c.endpoint),
          concurrent: c.concurrent,
          maxConcurrent: c.concurrent,
        });
    }
    this.period = next;
    return out.sort((a, b) => a.endpoint.localeCompare(b.endpoint));
  }

  lifetime(): (EndpointTraffic & { inFlight: number })[] {
    return [...this.total.values()]
      .map((c) => ({ ...strip(c), inFlight: c.concurrent }))
      .sort((a, b) => a.endpoint.localeCompare(b.endpoint));
  }
}

function strip(c: Counter): EndpointTraffic {
  const { concurrent: _, ...rest } = c;
  return rest;
}

/** One report line per endpoint with traffic, as CMGService.log and SMS_CLOUD_PROXYCONNECTOR.log carry them. */
export function trafficLines(periodSeconds: number, traffic: EndpointTraffic[]): string[] {
  if (traffic.length === 0) return [`traffic report (${periodSeconds} s): no requests`];
  return traffic.map(
    (t) =>
      `traffic report (${periodSeconds} s): ${t.endpoint}: ${t.requests} requests, ${t.failed} failed, ` +
      `${t.bytesIn} bytes in, ${t.bytesOut} bytes out, at most ${t.maxConcurrent} at once`,
  );
}

/** Keeps the last `size` entries (recent errors for /status). */
export class Recent<T> {
  private readonly items: T[] = [];
  constructor(private readonly size = 20) {}
  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.size) this.items.shift();
  }
  list(): T[] {
    return [...this.items];
  }
}

/**
 * Writes the traffic report every `periodSeconds`, and a last one for the
 * period in progress when stopped (so a drain's traffic is not lost).
 */
export class TrafficReporter {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly periodSeconds: number,
    private readonly stats: TrafficStats,
    private readonly write: (line: string) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.report(), this.periodSeconds * 1000);
    this.timer.unref();
  }

  /** Stops the timer; `final()` writes the period in progress. */
  pause(): void {
    clearInterval(this.timer);
  }

  final(): void {
    this.pause();
    this.report();
  }

  private report(): void {
    for (const line of trafficLines(this.periodSeconds, this.stats.takePeriod())) this.write(line);
  }
}
