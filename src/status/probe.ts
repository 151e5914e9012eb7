/**
 * Asks admin endpoints for `/status` and `/readyz`, all at once, each with a
 * deadline: a daemon that does not answer must not hold up the others.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ConnectorStatus } from '../connector/observe.js';
import type { GatewayStatus } from '../gateway/observe.js';
import type { Readiness } from '../telemetry/admin-server.js';
import { kindLabel } from './format.js';
import type { SourceReport, StatusReport } from './report.js';
import type { StatusSource } from './sources.js';

export interface ProbeOptions {
  timeoutMs: number;
  /** Ends every request at once (Ctrl-C in --watch). */
  signal?: AbortSignal | undefined;
}

/** A failure to say in one line, after "cannot reach the gateway at URL: ". */
class Unreachable extends Error {}
/** It answered, but not as a cmg admin endpoint does. */
class NotAdmin extends Error {}

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name could not be resolved now',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'the connection was reset',
};

/** Far more than any /status; a peer that sends more is not a cmg admin endpoint. */
const MAX_BODY = 16 << 20;

interface Answer {
  status: number;
  statusText: string;
  body: string;
}

/**
 * One GET with node:http rather than fetch: fetch refuses the "bad ports" of
 * the Fetch standard (6000, 6665-6669, 10080, ...), and an admin.port is the
 * admin's choice.
 */
function get(url: string, signal: AbortSignal): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(u, { signal, agent: false, headers: { accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) req.destroy(new NotAdmin(`${u.pathname} answered more than ${MAX_BODY} bytes`));
        else chunks.push(c);
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('the answer was cut off')));
    });
    req.on('error', reject);
    req.end();
  });
}

async function getJson(url: string, path: string, accept: number[], signal: AbortSignal): Promise<unknown> {
  let res: Answer;
  try {
    res = await get(`${url}${path}`, signal);
  } catch (err) {
    if (err instanceof NotAdmin) throw err;
    const e = err as Error & { code?: string };
    const code = e.code && e.code !== 'ABORT_ERR' ? e.code : undefined;
    throw new Unreachable(code ? `${NETWORK_ERRORS[code] ?? e.message} (${code})` : e.message);
  }
  if (!accept.includes(res.status))
    throw new NotAdmin(`${path} answered ${res.status} ${res.statusText}`.trim());
  try {
    return JSON.parse(res.body) as unknown;
  } catch {
    throw new NotAdmin(`${path} did not answer JSON`);
  }
}

function asReadiness(value: unknown): Readiness {
  const v = value as Partial<Readiness> | null;
  if (v === null || typeof v !== 'object' || typeof v.ready !== 'boolean')
    throw new NotAdmin('/readyz did not answer {ready, reasons}');
  return { ready: v.ready, reasons: Array.isArray(v.reasons) ? v.reasons.map(String) : [] };
}

/** Asks one admin endpoint; never throws: a failure is a source with an `error`. */
export async function probeSource(source: StatusSource, options: ProbeOptions): Promise<SourceReport> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const what = `the ${kindLabel(source.kind)} at ${source.url}`;
  try {
    const [status, readiness] = await Promise.all([
      getJson(source.url, '/status', [200], signal),
      getJson(source.url, '/readyz', [200, 503], signal).then(asReadiness),
    ]);
    const role = (status as { role?: unknown } | null)?.role;
    if (role === 'gateway')
      return {
        url: source.url,
        kind: 'gateway',
        ready: readiness.ready,
        readiness,
        status: status as GatewayStatus,
      };
    if (role === 'connector')
      return {
        url: source.url,
        kind: 'connector',
        ready: readiness.ready,
        readiness,
        status: status as ConnectorStatus,
      };
    throw new NotAdmin('/status has no role "gateway" or "connector"');
  } catch (err) {
    // Which signal ended it says more than the AbortError it leaves.
    const reason = options.signal?.aborted
      ? 'stopped before an answer'
      : timeout.aborted && !(err instanceof NotAdmin)
        ? `no answer within ${options.timeoutMs / 1000} s`
        : err instanceof Error
          ? err.message
          : String(err);
    const error =
      err instanceof NotAdmin
        ? `${what} did not answer as a cmg admin endpoint: ${reason}`
        : `cannot reach ${what}: ${reason}`;
    return { url: source.url, kind: source.kind, error };
  }
}

/** Asks every source at once; the report keeps the order of the sources. */
export async function collectStatus(sources: StatusSource[], options: ProbeOptions): Promise<StatusReport> {
  return {
    defaults: sources.length > 0 && sources.every((s) => s.origin === 'default'),
    sources: await Promise.all(sources.map((s) => probeSource(s, options))),
  };
}
