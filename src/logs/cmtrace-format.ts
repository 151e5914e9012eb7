/** CMTrace severities: the `type` attribute of a Configuration Manager log line. */
export const Severity = { info: 1, warning: 2, error: 3 } as const;
export type SeverityName = keyof typeof Severity;

export interface LogEntry {
  time: Date;
  text: string;
  component: string;
  type: SeverityName;
  thread: number;
  /** Source of the line (a module, `file.ts:123`), shown in CMTrace's File column. */
  file?: string;
}

/**
 * Windows time-zone bias in minutes at `time`: UTC = local + bias, so UTC+2 is
 * -120 and UTC-7 is +420. `Date#getTimezoneOffset` already uses that sign.
 */
export type BiasOf = (time: Date) => number;
export const localBias: BiasOf = (time) => time.getTimezoneOffset();

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `+000`, `-120`, `+420`: sign and at least three digits, as Configuration Manager writes it. */
export function formatBias(bias: number): string {
  return `${bias < 0 ? '-' : '+'}${pad(Math.abs(bias), 3)}`;
}

// The text is free-form, but the closing marker would end the message early for
// every CMTrace reader, and a quote would end an attribute: neutralise both.
const escapeText = (text: string) => text.replaceAll(']LOG]!>', '] LOG]!>');
const escapeAttr = (value: string) => value.replace(/["\r\n<>]/g, (c) => (c === '"' ? "'" : ' '));

/** One line in the Configuration Manager (CCM) log format, newline included. */
export function formatCmtraceLine(entry: LogEntry, biasOf: BiasOf = localBias): string {
  const bias = biasOf(entry.time);
  // Local wall-clock time = UTC - bias; read it back with the UTC getters.
  const local = new Date(entry.time.getTime() - bias * 60_000);
  const time = `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}.${pad(local.getUTCMilliseconds(), 3)}${formatBias(bias)}`;
  const date = `${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}-${local.getUTCFullYear()}`;
  return (
    `<![LOG[${escapeText(entry.text)}]LOG]!>` +
    `<time="${time}" date="${date}" component="${escapeAttr(entry.component)}" context="" ` +
    `type="${Severity[entry.type]}" thread="${entry.thread}" file="${escapeAttr(entry.file ?? '')}">\n`
  );
}
