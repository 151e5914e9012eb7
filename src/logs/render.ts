import type { ChalkInstance } from 'chalk';
import type { ParsedEntry } from './parse.js';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Local time as people read it: `2026-11-29 03:12:45.123`. */
export function localTime(t: Date | undefined): string {
  if (!t) return '                       ';
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}.${pad(t.getMilliseconds(), 3)}`;
}

/** One entry as aligned columns (time, component, thread, text); later lines of its text are indented under the text. */
export function humanLine(
  e: ParsedEntry,
  paint: ChalkInstance,
  widths: { component: number; thread: number },
): string {
  const head = `${localTime(e.time)}  ${e.component.padEnd(widths.component)}  ${e.thread.padStart(widths.thread)}  `;
  const text = e.text.includes('\n') ? e.text.replaceAll('\n', `\n${' '.repeat(head.length)}`) : e.text;
  const line = `${head}${text}`;
  return e.type === 'error' ? paint.red(line) : e.type === 'warning' ? paint.yellow(line) : line;
}

// Most fields need no escaping; JSON.stringify only for those that do (the hot path of --json).
// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters JSON must escape, exactly
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;
const str = (v: string) => (NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : `"${v}"`);

let lastSource = '';
let lastSourceJson = '""';

// ISO 8601 from a cached minute prefix: toISOString per entry was a third of --json's time.
let minute = Number.NaN;
let minutePrefix = '';
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);
/** `2026-11-29T03:12:` for minute m since the epoch (what iso writes before the seconds). */
export const isoMinute = (m: number) => new Date(m * 60_000).toISOString().slice(0, 17);
export function iso(t: number): string {
  const m = Math.floor(t / 60_000);
  if (m !== minute) {
    minute = m;
    minutePrefix = isoMinute(m);
  }
  const rest = t - m * 60_000;
  const sec = Math.floor(rest / 1000);
  return `${minutePrefix}${sec < 10 ? `0${sec}` : sec}.${pad3(rest - sec * 1000)}Z`;
}

/** One NDJSON line: time ISO 8601 UTC (null when the entry has none). */
export function jsonLine(e: ParsedEntry): string {
  const time = e.time ? `"${iso(e.time.getTime())}"` : 'null';
  if (e.source !== lastSource) {
    lastSource = e.source;
    lastSourceJson = str(e.source);
  }
  return `{"time":${time},"type":"${e.type}","component":${str(e.component)},"thread":${str(e.thread)},"file":${str(e.file)},"text":${str(e.text)},"source":${lastSourceJson}}`;
}

export interface ComponentSummary {
  component: string;
  info: number;
  warning: number;
  error: number;
  firstError?: { time: string | null; text: string; source: string };
  lastError?: { time: string | null; text: string; source: string };
}

/** `--summary`: entries by component and type, with the first and last error of each. */
export class Summary {
  private readonly byComponent = new Map<string, ComponentSummary>();

  add(e: ParsedEntry): void {
    let s = this.byComponent.get(e.component);
    if (!s) {
      s = { component: e.component, info: 0, warning: 0, error: 0 };
      this.byComponent.set(e.component, s);
    }
    s[e.type]++;
    if (e.type === 'error') {
      const at = { time: e.time?.toISOString() ?? null, text: e.text, source: e.source };
      s.firstError ??= at;
      s.lastError = at;
    }
  }

  result(): ComponentSummary[] {
    return [...this.byComponent.values()].sort((a, b) => a.component.localeCompare(b.component));
  }
}

/** The summary for people: one row per component, then its first and last error. */
export function summaryTable(rows: ComponentSummary[], paint: ChalkInstance): string {
  const width = Math.max(9, ...rows.map((r) => r.component.length));
  const out = [
    `${'component'.padEnd(width)}  ${'info'.padStart(8)}  ${'warning'.padStart(8)}  ${'error'.padStart(8)}`,
  ];
  for (const r of rows) {
    out.push(
      `${r.component.padEnd(width)}  ${String(r.info).padStart(8)}  ${paint.yellow(String(r.warning).padStart(8))}  ${paint.red(String(r.error).padStart(8))}`,
    );
  }
  for (const r of rows) {
    if (!r.firstError) continue;
    const show = (e: { time: string | null; text: string }) =>
      `${e.time ? localTime(new Date(e.time)) : '(no time)'}  ${e.text.split('\n')[0]}`;
    out.push('', `${r.component}: first error ${show(r.firstError)}`);
    if (r.lastError && r.lastError !== r.firstError)
      out.push(`${r.component}: last error  ${show(r.lastError)}`);
  }
  return out.join('\n');
}
