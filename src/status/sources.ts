/**
 * Which admin endpoints `cmg status` asks: the URLs given on the command
 * line, the admin address of config files, or the two default addresses.
 */
import type { DaemonConfig, DaemonKind } from '../config/kind.js';
import { UsageError } from '../errors.js';

/** The admin ports the daemons listen on when their config does not say (`admin.port`). */
export const DEFAULT_ADMIN_PORT: Record<DaemonKind, number> = { gateway: 9443, connector: 9444 };

export interface StatusSource {
  /** Admin base URL without a trailing slash: `http://127.0.0.1:9443`. */
  url: string;
  /** What the command line says it is; the answer's own `role` wins once it answers. */
  kind: DaemonKind;
  /** `default`: nobody asked for it, so not answering is not a failure as long as another source answers. */
  origin: 'url' | 'config' | 'default';
}

const FLAG: Record<DaemonKind, string> = { gateway: '--gateway', connector: '--connector' };
const HINT = 'Pass the admin URL the daemon printed at start ("admin on http://..."), or HOST:PORT.';

/**
 * An admin base URL from what a person typed: `http://host:port`,
 * `host:port` (http assumed), `host` (the kind's default admin port) or a
 * bare port (on 127.0.0.1). A pasted `/status` (or other admin path) is dropped.
 */
export function parseAdminUrl(text: string, kind: DaemonKind): string {
  const typed = text.trim();
  const flag = FLAG[kind];
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(typed);
  let url: URL;
  try {
    url = new URL(hasScheme ? typed : /^\d+$/.test(typed) ? `http://127.0.0.1:${typed}` : `http://${typed}`);
  } catch {
    throw new UsageError(`${flag} ${JSON.stringify(text)} is not an admin URL`, { hint: HINT });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(
      `${flag} ${JSON.stringify(text)}: the admin endpoint speaks http, not ${url.protocol.slice(0, -1)}`,
      { hint: HINT },
    );
  if (!hasScheme && url.port === '') url.port = String(DEFAULT_ADMIN_PORT[kind]);
  const path = url.pathname.replace(/\/+$/, '').replace(/\/(status|readyz|healthz|metrics)$/, '');
  return `${url.protocol}//${url.host}${path}`;
}

/**
 * The admin URL of a daemon from its config: a wildcard listen address is
 * reached on loopback; port 0 (any free port) cannot be known from the file.
 */
export function adminSourceOf(loaded: DaemonConfig): StatusSource {
  const { host, port } = loaded.config.admin;
  const file = loaded.config.source;
  if (port === 0) {
    throw new UsageError(
      `${file}: admin.port is 0 (any free port), so the admin address is only known once the daemon runs`,
      {
        code: 'CMG_STATUS_ADMIN_PORT_UNKNOWN',
        hint: `Pass the URL the daemon printed at start ("admin on http://...") with ${FLAG[loaded.kind]} URL instead of --config.`,
      },
    );
  }
  const reachable = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
  const hostPart = reachable.includes(':') ? `[${reachable}]` : reachable;
  return { url: `http://${hostPart}:${port}`, kind: loaded.kind, origin: 'config' };
}

export interface SourceFlags {
  gateway?: string[] | undefined;
  connector?: string[] | undefined;
  /** Already loaded config files (see adminSourceOf). */
  configs?: StatusSource[] | undefined;
}

/** Every source asked for, each URL once, gateways first; the two defaults when none was. */
export function resolveSources(flags: SourceFlags): StatusSource[] {
  const given: StatusSource[] = [
    ...(flags.gateway ?? []).map((u) => ({ url: parseAdminUrl(u, 'gateway'), kind: 'gateway' as const })),
    ...(flags.connector ?? []).map((u) => ({
      url: parseAdminUrl(u, 'connector'),
      kind: 'connector' as const,
    })),
  ].map((s) => ({ ...s, origin: 'url' as const }));
  const all = [...given, ...(flags.configs ?? [])];
  if (all.length === 0) {
    return (['gateway', 'connector'] as const).map((kind) => ({
      url: `http://127.0.0.1:${DEFAULT_ADMIN_PORT[kind]}`,
      kind,
      origin: 'default',
    }));
  }
  const seen = new Set<string>();
  const once = all.filter((s) => !seen.has(s.url) && seen.add(s.url));
  // Gateways first, as the view reads top down from the edge; otherwise in the order given.
  return [...once.filter((s) => s.kind === 'gateway'), ...once.filter((s) => s.kind === 'connector')];
}

/** A number of seconds from a flag: positive, decimals allowed (`0.5`). */
export function parseSeconds(flag: string, text: string): number {
  const value = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`${flag} ${JSON.stringify(text)}: expected a number of seconds greater than 0`, {
      hint: `For example ${flag} 5`,
    });
  }
  return value;
}

/**
 * oclif has no flag whose value is optional: `--watch` alone (at the end, or
 * before another flag) becomes `--watch=<default>`, so that `--watch 5`,
 * `--watch=5` and `--watch` all parse.
 */
export function withOptionalValue(argv: string[], flag: string, fallback: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    if (arg === flag && (next === undefined || next.startsWith('-'))) out.push(`${flag}=${fallback}`);
    else out.push(arg);
  }
  return out;
}
