import type { SeverityName } from './cmtrace-format.js';
import type { ParsedEntry } from './parse.js';

export interface LogFilter {
  types?: Set<SeverityName> | undefined;
  /** Lower-case component names. */
  components?: Set<string> | undefined;
  threads?: Set<string> | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  grep?: RegExp | undefined;
}

/** True when the entry passes every filter given. */
export function matches(e: ParsedEntry, f: LogFilter): boolean {
  if (!matchesTypeAndTime(e.type, e.time?.getTime(), f)) return false;
  if (f.components && !f.components.has(e.component.toLowerCase())) return false;
  if (f.threads && !f.threads.has(e.thread)) return false;
  if (f.grep && !f.grep.test(e.text)) return false;
  return true;
}

/** The type and time filters alone (all the byte path of --json knows); `ms` undefined: an entry without a time. */
export function matchesTypeAndTime(type: SeverityName, ms: number | undefined, f: LogFilter): boolean {
  if (f.types && !f.types.has(type)) return false;
  if (f.since && (ms === undefined || ms < f.since.getTime())) return false;
  if (f.until && (ms === undefined || ms > f.until.getTime())) return false;
  return true;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * `--since`/`--until`: a duration back from now (`90s`, `15m`, `2h`, `1d`,
 * `1w`) or a timestamp (ISO 8601, or anything Date parses such as
 * `2026-11-29 03:00`, taken as local time). Undefined when it is neither.
 */
export function parseWhen(value: string, now = Date.now()): Date | undefined {
  const d = /^(\d+(?:\.\d+)?)([smhdw])$/i.exec(value.trim());
  if (d) return new Date(now - Number(d[1]) * (UNITS[(d[2] as string).toLowerCase()] as number));
  const v = value.trim();
  // A bare number is neither a duration (no unit) nor a time: Date.parse would read 5 as May 2001.
  if (!/[-:T]/.test(v)) return undefined;
  // A date alone is local midnight, like a date with a time (Date.parse would take it as UTC).
  const t = Date.parse(
    /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00` : v.replace(/^(\d{4}-\d{2}-\d{2}) (\d)/, '$1T$2'),
  );
  return Number.isNaN(t) ? undefined : new Date(t);
}
