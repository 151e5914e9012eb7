/**
 * Pieces the gateway and connection point views share: the headline with
 * readiness, the certificate line, titled tables, state colours.
 */
import type { ChalkInstance } from 'chalk';
import type { Readiness } from '../telemetry/admin-server.js';
import { ago, expiry, humanDuration } from './format.js';
import { type Column, renderTable } from './table.js';

export interface RenderOptions {
  /** A chalk whose level says whether to colour (0: plain text). */
  paint: ChalkInstance;
  /** The time the view is for (certificate expiry, ages of errors). */
  now: number;
  /** How many recent errors to show per source, newest first (default 5). */
  recentErrors?: number;
}

export const INDENT = 2;

/** `Gateway host:8443  http://127.0.0.1:9443  ready`, then one line per reason it is not. */
export function headline(
  o: RenderOptions,
  what: string,
  name: string,
  url: string,
  readiness: Readiness,
): string[] {
  const p = o.paint;
  const badge = readiness.ready ? p.green('ready') : p.red.bold('NOT READY');
  const lines = [`${p.bold(what)} ${p.bold.cyan(name)}  ${p.dim(url)}  ${badge}`];
  for (const reason of readiness.reasons) lines.push(`${' '.repeat(INDENT)}${p.red('!')} ${reason}`);
  return lines;
}

/** `version 0.1.0, up 2h 14m (since 2025-06-01T10:00:00.000Z)` */
export function versionLine(
  o: RenderOptions,
  version: string,
  uptimeSeconds: number,
  startedAt: string,
): string {
  return `${' '.repeat(INDENT)}version ${version}, up ${humanDuration(uptimeSeconds)} ${o.paint.dim(`(since ${startedAt})`)}`;
}

/** `web certificate  CN=...  expires 2026-03-01 (in 212 days)`, yellow under 30 days, red once expired. */
export function certificateLine(
  o: RenderOptions,
  label: string,
  cert: { subject: string; notAfter: string },
): string {
  const p = o.paint;
  const e = expiry(cert.notAfter, o.now);
  const when =
    e.level === 'ok'
      ? `expires ${e.text}`
      : e.level === 'warn'
        ? p.yellow(`expires ${e.text}: renew it soon`)
        : p.red.bold(`EXPIRED ${e.text}`);
  return `${' '.repeat(INDENT)}${label} ${cert.subject}, ${when}`;
}

/** A blank line, a bold title, then the table (or the title and `none` when there are no rows). */
export function titledTable(
  o: RenderOptions,
  title: string,
  columns: Column[],
  rows: string[][],
  empty = 'none',
): string[] {
  const indent = ' '.repeat(INDENT);
  if (rows.length === 0) return ['', `${indent}${o.paint.bold(title)}: ${o.paint.dim(empty)}`];
  return [
    '',
    `${indent}${o.paint.bold(title)}`,
    ...renderTable(columns, rows, { indent: INDENT, header: (h) => o.paint.dim(h) }),
  ];
}

/** Channel and slot states: working green, in between yellow, broken red. */
export function paintState(o: RenderOptions, state: string): string {
  const p = o.paint;
  if (state === 'ready' || state === 'up') return p.green(state);
  if (state === 'closed' || state === 'waiting') return p.red(state);
  if (state === 'stopped') return p.dim(state);
  return p.yellow(state);
}

/** A count that should be zero: plain at 0, else red. */
export function paintBad(o: RenderOptions, n: number, text = String(n)): string {
  return n > 0 ? o.paint.red(text) : text;
}

/** The last `n` of a list kept oldest first, newest first. */
export function newestFirst<T>(items: T[], n: number): T[] {
  return items.slice(-n).reverse();
}

/** An error as both views list it: when, status, what was asked, and the code with its reason. */
export interface RecentError {
  at: string;
  status: number;
  request: string;
  error?: string | undefined;
  reason?: string | undefined;
}

/** The recent errors table of either view, newest first. */
export function recentErrorsTable(o: RenderOptions, all: RecentError[]): string[] {
  const p = o.paint;
  const recent = newestFirst(all, o.recentErrors ?? 5);
  return titledTable(
    o,
    recent.length > 0 ? recentTitle(recent.length, all.length) : 'Recent errors',
    [{ header: 'WHEN' }, { header: 'STATUS', align: 'right' }, { header: 'REQUEST' }, { header: 'ERROR' }],
    recent.map((r) => [
      ago(r.at, o.now),
      p.red(String(r.status)),
      r.request,
      [r.error, r.reason].filter(Boolean).join(': ') || p.dim('-'),
    ]),
  );
}

/** `Recent errors (newest first, 5 of 20)`: the title of the recent errors table. */
export function recentTitle(shown: number, total: number): string {
  return total > shown
    ? `Recent errors (newest first, ${shown} of ${total})`
    : 'Recent errors (newest first)';
}
