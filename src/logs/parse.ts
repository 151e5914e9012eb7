import type { SeverityName } from './cmtrace-format.js';

/** One entry read back from a Configuration Manager log (either format). */
export interface ParsedEntry {
  /** UTC; undefined for plain text that fits neither format and has no neighbour to join. */
  time: Date | undefined;
  type: SeverityName;
  component: string;
  thread: string;
  /** CMTrace's File column (the writer's source file), empty when absent. */
  file: string;
  text: string;
  /** The log file it came from. */
  source: string;
  /** Its position in that file: keeps entries with equal times in file order. */
  seq: number;
}

/** CMTrace's type digit (the value in `type="N"`) to its severity; other digits are not canonical. */
const TYPES: (SeverityName | undefined)[] = ['info', 'info', 'warning', 'error'];
/** Where a CCM entry's text starts, and the tail that ends it (the attributes follow). */
export const CCM_OPEN = '<![LOG[';
export const CCM_CLOSE = ']LOG]!><';
// time="HH:mm:ss.fff+BBB" date="M-D-YYYY" component="..." context="..." type="1" thread="123" file="...">
const CCM_ATTRS =
  /^time="(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,9}))?([+-]\d{1,4})?"\s+date="(\d{1,2})-(\d{1,2})-(\d{4})"\s+component="([^"]*)"\s+context="[^"]*"\s+type="(\d)"\s+thread="([^"]*)"(?:\s+file="([^"]*)")?/;
// text $$<Component><MM-DD-YYYY HH:mm:ss.fff+BBB><thread=N (0xHEX)>
const SMS_TAIL =
  /\$\$<([^>]*)><(\d{1,2})-(\d{1,2})-(\d{4}) (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,9}))?([+-]\d{1,4})?><thread=(\d+)[^>]*>\s*$/;

/**
 * `s` at `at` in `t`. A loop, not startsWith(): startsWith with a position
 * took most of the reader's time.
 */
export function same(t: string, s: string, at: number, end = t.length): boolean {
  if (at + s.length > end) return false;
  for (let i = 0; i < s.length; i++) if (t.charCodeAt(at + i) !== s.charCodeAt(i)) return false;
  return true;
}

/** The decimal number in `b` at [from, from+len), or NaN when one is not a digit. */
function digits(b: Uint8Array, from: number, len: number): number {
  let n = 0;
  for (let i = from; i < from + len; i++) {
    const c = (b[i] as number) - 48;
    if (c < 0 || c > 9) return Number.NaN;
    n = n * 10 + c;
  }
  return n;
}

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
/** CCM_OPEN and CCM_CLOSE as bytes, for the readers that search the file's bytes (ndjson.ts, read.ts). */
export const CCM_OPEN_BYTES = latin1(CCM_OPEN);
export const CCM_CLOSE_BYTES = latin1(CCM_CLOSE);
const DATE = latin1('" date="');
const COMPONENT = latin1('" component="');
const CONTEXT = latin1('" context="');
const TYPE = latin1('" type="');
const THREAD = latin1('" thread="');
const FILE = latin1('" file="');

/** The bytes `s` at `at` in `b`, before `end`. */
export function bytesAre(b: Uint8Array, s: Uint8Array, at: number, end: number): boolean {
  if (at + s.length > end) return false;
  for (let i = 0; i < s.length; i++) if (b[at + i] !== s[i]) return false;
  return true;
}

/** The first `"` in `b` at or after `from`, before `end`; -1 when none. */
function quote(b: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) if (b[i] === 34) return i;
  return -1;
}

/**
 * readText's copy of the attributes: one for all readers (it is used only
 * within a call), since `--grep` makes a parser, and a reader, per hit.
 */
const SCRATCH = new Uint8Array(1024);

/**
 * The attributes as cmg and Configuration Manager write them, read by
 * position (`time="HH:mm:ss.fff+BBB" date="MM-DD-YYYY" component="..."
 * context="..." type="N" thread="..." file="..."`): most lines of a large log,
 * at a fraction of the regular expression's cost. read() fills the fields
 * (positions, so that the NDJSON path can copy them from the file's bytes) and
 * says whether the layout was canonical; anything else goes through the
 * regular expression. It reads bytes: the byte path reads the file's own, the
 * parser a copy of the attributes (readText). Reading them as characters of a
 * string cost twice as much.
 */
export class CanonicalReader {
  ms = 0;
  type: SeverityName = 'info';
  component = 0;
  componentEnd = 0;
  thread = 0;
  threadEnd = 0;
  /** Equal to fileEnd when there is no file attribute. */
  file = 0;
  fileEnd = 0;
  private dayKey = Number.NaN;
  private dayMs = 0;

  /** The attributes at `at` in `b`, up to `end` (the line's end: `b` may hold many lines). */
  read(b: Uint8Array, at: number, end: number): boolean {
    if (at + 60 > end) return false; // shorter than any canonical layout
    if (b[at] !== 116 || b[at + 5] !== 34) return false; // time="
    const p = at + 6;
    // HH:mm:ss.fff then a sign and three bias digits, then `" date="`
    if (b[p + 2] !== 58 || b[p + 5] !== 58 || b[p + 8] !== 46) return false;
    const sign = b[p + 12];
    if ((sign !== 43 && sign !== 45) || !bytesAre(b, DATE, p + 16, end)) return false;
    const d = p + 24;
    if (b[d + 2] !== 45 || b[d + 5] !== 45 || !bytesAre(b, COMPONENT, d + 10, end)) return false;
    // The date is the same for most lines: Date.UTC only when it changes.
    const year = digits(b, d + 6, 4);
    const month = digits(b, d, 2);
    const day = digits(b, d + 3, 2);
    const key = (year * 100 + month) * 100 + day;
    if (key !== this.dayKey) {
      const ms = Date.UTC(year, month - 1, day);
      if (Number.isNaN(ms)) return false;
      this.dayKey = key;
      this.dayMs = ms;
    }
    const bias = digits(b, p + 13, 3) * (sign === 45 ? -1 : 1);
    const ms =
      this.dayMs +
      ((digits(b, p, 2) * 60 + digits(b, p + 3, 2)) * 60 + digits(b, p + 6, 2)) * 1000 +
      digits(b, p + 9, 3) +
      bias * 60_000;
    if (Number.isNaN(ms)) return false;
    const c0 = d + 23;
    const c1 = quote(b, c0, end);
    if (c1 === -1 || !bytesAre(b, CONTEXT, c1, end)) return false;
    const x1 = quote(b, c1 + 11, end);
    if (x1 === -1 || !bytesAre(b, TYPE, x1, end)) return false;
    const type = TYPES[(b[x1 + 8] as number) - 48];
    if (!type || !bytesAre(b, THREAD, x1 + 9, end)) return false;
    const h0 = x1 + 19;
    const h1 = quote(b, h0, end);
    if (h1 === -1) return false;
    let f0 = h1;
    let f1 = h1;
    if (bytesAre(b, FILE, h1, end)) {
      f0 = h1 + 8;
      f1 = quote(b, f0, end);
      if (f1 === -1) return false;
    } else if (h1 + 1 < end && b[h1 + 1] !== 62) {
      return false; // something else after the thread (`>` ends the attributes): the regular expression decides
    }
    this.ms = ms;
    this.type = type;
    this.component = c0;
    this.componentEnd = c1;
    this.thread = h0;
    this.threadEnd = h1;
    this.file = f0;
    this.fileEnd = f1;
    return true;
  }

  /** read() for attributes at `at` in a string (the parser's); positions are the string's. */
  readText(t: string, at: number): boolean {
    const n = t.length - at;
    const b = SCRATCH;
    if (n > b.length) return false; // not as cmg or Configuration Manager write them: the regular expression decides
    for (let i = 0; i < n; i++) {
      const c = t.charCodeAt(at + i);
      if (c > 0xff) return false;
      b[i] = c;
    }
    if (!this.read(b, 0, n)) return false;
    this.component += at;
    this.componentEnd += at;
    this.thread += at;
    this.threadEnd += at;
    this.file += at;
    this.fileEnd += at;
    return true;
  }
}

/** Local wall-clock fields and the Windows bias (UTC = local + bias minutes) to a UTC Date. */
function utc(
  y: string,
  mo: string,
  d: string,
  h: string,
  mi: string,
  s: string,
  frac: string | undefined,
  bias: string | undefined,
): Date {
  // Fractions of any length (CMTrace writes 3 digits, some writers 7): milliseconds from the first three.
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  return new Date(local + (bias ? Number(bias) : 0) * 60_000);
}

/**
 * Parses log text as it arrives (chunks split anywhere), both formats in any
 * mix. A CCM entry may span lines (its text holds line breaks) until its
 * `]LOG]!><time=...>` tail; an SMS line is one line, `~~` standing for a line
 * break. A line that fits neither format is never dropped: it joins the text of
 * the entry before it, or becomes an entry of its own when there is none.
 */
export class LogParser {
  private pending = '';
  /** Lines of a CCM entry whose tail has not come yet. */
  private open: string[] | undefined;
  private last: ParsedEntry | undefined;
  /** The entry given out by flush(): plain lines after it inherit its time, component and thread. */
  private previous: ParsedEntry | undefined;
  private seq = 0;
  private started = false;

  /**
   * `keepText`: when given (a --grep), an entry whose text fails it is dropped
   * without reading its attributes, the costly part of parsing; its text is
   * still kept until the next entry, in case a continuation line makes it match.
   */
  constructor(
    readonly source: string,
    private readonly keepText?: (text: string) => boolean,
  ) {}

  /** For a reader that knows the text does not start with a byte order mark (not the file's start, or checked). */
  noByteOrderMark(): void {
    this.started = true;
  }

  /** An entry whose attributes are read only if it is kept (see keepText). */
  private lazy = new WeakMap<ParsedEntry, string>();

  private out(entry: ParsedEntry, out: ParsedEntry[]): void {
    const raw = this.lazy.get(entry);
    if (raw === undefined) {
      out.push(entry);
      return;
    }
    if (!this.keepText?.(entry.text)) return;
    this.pendingFull = undefined;
    this.ccm(raw, out, true);
    const full = this.pendingFull as ParsedEntry | undefined;
    this.pendingFull = undefined;
    if (!full) {
      out.push(entry); // attributes that do not parse: kept as text, as plain lines are
      return;
    }
    full.text = entry.text; // with any continuation lines
    full.seq = entry.seq;
    out.push(full);
  }

  private pendingFull: ParsedEntry | undefined;

  /** Entries completed by this chunk. The last entry is held back until the next line shows it is complete. */
  push(chunk: string): ParsedEntry[] {
    const out: ParsedEntry[] = [];
    // A byte order mark (Windows PowerShell writes one) is not part of the first entry.
    if (!this.started && chunk !== '') {
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    this.pending += chunk;
    let start = 0;
    for (;;) {
      const nl = this.pending.indexOf('\n', start);
      if (nl === -1) break;
      const end = nl > start && this.pending.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      this.line(this.pending.slice(start, end), out);
      start = nl + 1;
    }
    this.pending = this.pending.slice(start);
    return out;
  }

  /** The rest: a last line without a newline, an unfinished CCM entry (kept as text), the held entry. */
  end(): ParsedEntry[] {
    const out: ParsedEntry[] = [];
    if (this.pending !== '') this.line(this.pending, out);
    this.pending = '';
    if (this.open) {
      const text = this.open.join('\n');
      this.open = undefined;
      this.plain(text, out);
    }
    if (this.last) this.out(this.last, out);
    this.last = undefined;
    return out;
  }

  /**
   * Gives out the held entry now (a follower shows it at once rather than
   * waiting for the next line). A plain line arriving later then becomes an
   * entry of its own, with the same time, component and thread.
   */
  flush(): ParsedEntry[] {
    if (!this.last || this.open || this.pending !== '') return [];
    const entry = this.last;
    this.previous = entry;
    this.last = undefined;
    return [entry];
  }

  /** True while a CCM entry's lines are still coming (its `]LOG]!><` tail has not). */
  get inEntry(): boolean {
    return this.open !== undefined || this.pending !== '';
  }

  /**
   * For a reader that handles the next line itself (src/logs/ndjson.ts), a new
   * entry on a line of its own: the held entry is complete and given out now,
   * and nothing held is left for a later line to continue. Only when not
   * inEntry.
   */
  handOff(): ParsedEntry[] {
    const out: ParsedEntry[] = [];
    if (this.last) this.out(this.last, out);
    this.last = undefined;
    this.previous = undefined;
    return out;
  }

  private emit(entry: ParsedEntry, out: ParsedEntry[]): void {
    if (this.last) this.out(this.last, out);
    this.last = entry;
    this.previous = entry;
  }

  private line(line: string, out: ParsedEntry[]): void {
    if (this.open) {
      this.open.push(line);
      if (line.includes(CCM_CLOSE)) {
        const whole = this.open.join('\n');
        this.open = undefined;
        if (!this.ccm(whole, out)) this.plain(whole, out);
      }
      return;
    }
    if (line.startsWith(CCM_OPEN)) {
      if (line.includes(CCM_CLOSE)) {
        if (!this.ccm(line, out)) this.plain(line, out);
      } else {
        this.open = [line];
      }
      return;
    }
    if (line.includes('$$<') && this.sms(line, out)) return;
    if (line !== '') this.plain(line, out);
  }

  private ccm(text: string, out: ParsedEntry[], materialize = false): boolean {
    const close = text.lastIndexOf(CCM_CLOSE);
    const attrs = close + CCM_CLOSE.length;
    if (this.keepText && !materialize && same(text, 'time="', attrs)) {
      // Attributes later, if the text (with any continuation) is kept at all.
      const entry: ParsedEntry = {
        time: undefined,
        type: 'info',
        component: '',
        thread: '',
        file: '',
        text: text.slice(CCM_OPEN.length, close),
        source: this.source,
        seq: this.seq++,
      };
      this.lazy.set(entry, text);
      this.emit(entry, out);
      return true;
    }
    const fast = this.canonical(text, attrs);
    if (fast) {
      fast.text = text.slice(CCM_OPEN.length, close);
      if (materialize) this.pendingFull = fast;
      else this.emit(fast, out);
      return true;
    }
    const m = CCM_ATTRS.exec(text.slice(attrs));
    if (!m) return false;
    const [, h, mi, s, frac, bias, mo, d, y, component = '', type = '1', thread = '', file = ''] = m;
    const entry: ParsedEntry = {
      time: utc(y as string, mo as string, d as string, h as string, mi as string, s as string, frac, bias),
      type: TYPES[Number(type)] ?? 'info',
      component,
      thread,
      file,
      text: text.slice(CCM_OPEN.length, close),
      source: this.source,
      seq: this.seq++,
    };
    if (materialize) this.pendingFull = entry;
    else this.emit(entry, out);
    return true;
  }

  private readonly attributes = new CanonicalReader();

  /** An entry from canonical attributes at `at` (see CanonicalReader), undefined when they are not. */
  private canonical(t: string, at: number): ParsedEntry | undefined {
    const a = this.attributes;
    if (!a.readText(t, at)) return undefined;
    return {
      time: new Date(a.ms),
      type: a.type,
      component: t.slice(a.component, a.componentEnd),
      thread: t.slice(a.thread, a.threadEnd),
      file: a.file === a.fileEnd ? '' : t.slice(a.file, a.fileEnd),
      text: '',
      source: this.source,
      seq: this.seq++,
    };
  }

  private sms(line: string, out: ParsedEntry[]): boolean {
    const at = line.lastIndexOf('$$<');
    const m = SMS_TAIL.exec(line.slice(at));
    if (!m) return false;
    const [, component = '', mo, d, y, h, mi, s, frac, bias, thread = ''] = m;
    // Configuration Manager pads before `$$<` (and often ends the text with a lone `~`); `~~` is a line break.
    const text = line
      .slice(0, at)
      .replace(/\s+$/, '')
      .replace(/(^|[^~])~$/, '$1')
      .replaceAll('~~', '\n');
    this.emit(
      {
        time: utc(y as string, mo as string, d as string, h as string, mi as string, s as string, frac, bias),
        // The simple format has no severity field; ConfigMgr marks errors and warnings in the text only.
        type: 'info',
        component,
        thread,
        file: '',
        text,
        source: this.source,
        seq: this.seq++,
      },
      out,
    );
    return true;
  }

  private plain(text: string, out: ParsedEntry[]): void {
    if (this.last) {
      this.last.text += `\n${text}`;
      return;
    }
    // After flush(), a continuation line stands alone but keeps the time, component and thread of its entry.
    const p = this.previous;
    this.emit(
      {
        time: p?.time,
        type: p?.type ?? 'info',
        component: p?.component ?? '',
        thread: p?.thread ?? '',
        file: p?.file ?? '',
        text,
        source: this.source,
        seq: this.seq++,
      },
      out,
    );
  }
}
