/**
 * Small formatters for the status view: durations, byte counts, ages and
 * certificate expiry, as a person reads them at a glance.
 */

const DAY_MS = 86_400_000;

/** Days before expiry from which a certificate is shown as a warning. */
export const EXPIRY_WARNING_DAYS = 30;

/** `45s`, `3m 12s`, `2h 14m`, `3d 4h`; `-` for no value. */
export function humanDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '-';
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Binary units: `512 B`, `1.5 KiB`, `12 MiB` (one decimal below 10 of a unit). */
export function humanBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return `${Math.max(0, Math.round(bytes || 0))} B`;
  let value = bytes;
  let unit = -1;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  // 1023.96 KiB would round to "1024 KiB": show it as the next unit instead.
  if (value >= 1023.5 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = value < 10 ? value.toFixed(1).replace(/\.0$/, '') : String(Math.round(value));
  return `${text} ${UNITS[unit]}`;
}

/** `1,234,567`: counts with thousands separators, whatever the locale. */
export function humanCount(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** How long ago an ISO time was: `12s ago`; the text itself when it is not a time. */
export function ago(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  if (t > now) return 'just now';
  return `${humanDuration((now - t) / 1000)} ago`;
}

export interface Expiry {
  level: 'ok' | 'warn' | 'expired';
  /** `2026-03-01 (in 212 days)`, `2025-06-03 (in 20h 3m)`, `2025-05-01 (expired 31 days ago)`. */
  text: string;
}

/** A certificate's expiry for people: a warning under 30 days, an error once past. */
export function expiry(notAfter: string, now: number): Expiry {
  const t = Date.parse(notAfter);
  if (Number.isNaN(t)) return { level: 'warn', text: `${notAfter} (not a date)` };
  const date = new Date(t).toISOString().slice(0, 10);
  const left = t - now;
  if (left <= 0) {
    const days = Math.floor(-left / DAY_MS);
    const since = days >= 2 ? `${days} days` : humanDuration(-left / 1000);
    return { level: 'expired', text: `${date} (expired ${since} ago)` };
  }
  const days = Math.floor(left / DAY_MS);
  const within = days >= 2 ? `${days} days` : humanDuration(left / 1000);
  return { level: days < EXPIRY_WARNING_DAYS ? 'warn' : 'ok', text: `${date} (in ${within})` };
}

/** What the two daemons are called in messages for people. */
export function kindLabel(kind: 'gateway' | 'connector'): string {
  return kind === 'gateway' ? 'gateway' : 'connection point';
}
