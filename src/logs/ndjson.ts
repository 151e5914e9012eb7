import { isAscii } from 'node:buffer';
import type { SeverityName } from './cmtrace-format.js';
import { type LogFilter, matches, matchesTypeAndTime } from './filter.js';
import {
  bytesAre,
  CanonicalReader,
  CCM_CLOSE,
  CCM_OPEN,
  CCM_CLOSE_BYTES as CLOSE,
  LogParser,
  CCM_OPEN_BYTES as OPEN,
  type ParsedEntry,
} from './parse.js';
import { fileChunks, mergeRuns, type Run } from './read.js';
import { isoMinute, jsonLine } from './render.js';

/**
 * `cmg logs --json` straight from the bytes. Most lines of a large log are
 * CCM entries of one line in the canonical layout; for those the NDJSON line
 * is written from the file's bytes (the text, component, thread and file
 * copied with JSON's escapes) without making strings or entry objects, which
 * were most of the time. Every other line (several-line messages, text that
 * continues an entry, the SMS format, anything unreadable, anything not
 * ASCII) goes through LogParser and jsonLine, so the output is byte for byte
 * that of the general path (test/logs/ndjson.test.ts compares them).
 */

/** A batch of NDJSON lines from one log, with each line's end and sort key (its time). */
export class RenderedLines {
  bytes: Buffer;
  used = 0;
  count = 0;
  ends: Int32Array = new Int32Array(1024);
  keys: Float64Array = new Float64Array(1024);

  /** Never from Buffer's shared pool: a batch's memory may be handed to another thread (ndjson-parallel.ts). */
  constructor(bytes = 1 << 20) {
    this.bytes = Buffer.allocUnsafeSlow(bytes);
  }

  /** A batch made elsewhere (another thread), from its parts. */
  static of(bytes: Buffer, used: number, count: number, ends: Int32Array, keys: Float64Array): RenderedLines {
    const b = new RenderedLines(0);
    b.bytes = bytes;
    b.used = used;
    b.count = count;
    b.ends = ends;
    b.keys = keys;
    return b;
  }

  /** Where line i starts. */
  start(i: number): number {
    return i === 0 ? 0 : (this.ends[i - 1] as number);
  }

  /** Room for n more bytes. */
  room(n: number): void {
    if (this.used + n <= this.bytes.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.bytes.length * 2, this.used + n));
    this.bytes.copy(bigger, 0, 0, this.used);
    this.bytes = bigger;
  }

  /** Ends the line being written (its newline included). */
  endLine(key: number): void {
    this.bytes[this.used++] = 10;
    if (this.count === this.ends.length) {
      const ends = new Int32Array(this.count * 2);
      ends.set(this.ends);
      this.ends = ends;
      const keys = new Float64Array(this.count * 2);
      keys.set(this.keys);
      this.keys = keys;
    }
    this.ends[this.count] = this.used;
    this.keys[this.count] = key;
    this.count++;
  }

  /** An entry of the general path, through jsonLine. */
  entry(e: ParsedEntry): void {
    const line = jsonLine(e);
    this.room(line.length * 3 + 1);
    this.used += this.bytes.write(line, this.used, 'utf8');
    this.endLine(e.time?.getTime() ?? Number.NEGATIVE_INFINITY);
  }

  private minute = Number.NaN;
  private minuteOpen = Buffer.alloc(0);

  /**
   * `{"time":"` and the time as iso() writes it (`2026-11-29T03:12:45.123Z`),
   * from a cached minute and digits: making the string and copying it cost
   * half a microsecond.
   */
  timeOpen(ms: number): void {
    const m = Math.floor(ms / 60_000);
    if (m !== this.minute) {
      this.minute = m;
      this.minuteOpen = Buffer.from(`{"time":"${isoMinute(m)}`, 'latin1');
    }
    this.put(this.minuteOpen);
    const rest = ms - m * 60_000;
    const sec = Math.floor(rest / 1000);
    const milli = rest - sec * 1000;
    const out = this.bytes;
    let o = this.used;
    out[o++] = 48 + Math.floor(sec / 10);
    out[o++] = 48 + (sec % 10);
    out[o++] = 46; // .
    out[o++] = 48 + Math.floor(milli / 100);
    out[o++] = 48 + (Math.floor(milli / 10) % 10);
    out[o++] = 48 + (milli % 10);
    out[o++] = 90; // Z
    this.used = o;
  }

  /** Bytes as they are. */
  put(src: Buffer): void {
    // TypedArray set(), not Buffer copy(): copy() makes a view of its source on every call.
    this.bytes.set(src, this.used);
    this.used += src.length;
  }

  /**
   * ASCII bytes as a JSON string's content: what JSON.stringify writes for the
   * same characters. Runs that need no escape are found four bytes at a time
   * (cleanUpTo) and copied whole.
   */
  escaped(src: Buffer, from: number, to: number): void {
    let i = from;
    while (i < to) {
      const j = cleanUpTo(src, i, to);
      if (j > i) {
        this.bytes.set(src.subarray(i, j), this.used);
        this.used += j - i;
      }
      if (j === to) return;
      const b = src[j] as number;
      const out = this.bytes;
      out[this.used++] = 0x5c; // backslash
      const short = SHORT_ESCAPES[b];
      if (short !== undefined) {
        out[this.used++] = short;
      } else {
        // \u00XX, lower-case hex as JSON.stringify writes it
        out[this.used++] = 0x75;
        out[this.used++] = 0x30;
        out[this.used++] = 0x30;
        out[this.used++] = HEX[b >> 4] as number;
        out[this.used++] = HEX[b & 15] as number;
      }
      i = j + 1;
    }
  }
}

/** The last buffer's memory as 32-bit words (cleanUpTo). */
let wordsOf: ArrayBufferLike | undefined;
let words: Int32Array<ArrayBufferLike> = new Int32Array(0);

/**
 * Where the first byte JSON must escape (a control character, `"` or `\\`)
 * is in the ASCII bytes b[from, to), or `to`. Four bytes at a time, as
 * 32-bit words with the bit tricks of "Bit Twiddling Hacks" (a byte below n
 * in a word: (w - n*0x01010101) & ~w & 0x80808080, exact for bytes below
 * 0x80): three times as fast as a loop over the bytes, which was the largest
 * part of --json.
 */
function cleanUpTo(b: Buffer, from: number, to: number): number {
  if (b.buffer !== wordsOf) {
    wordsOf = b.buffer;
    words = new Int32Array(b.buffer, 0, b.buffer.byteLength >> 2);
  }
  // Word k holds the bytes at 4k..4k+3 of the buffer's memory, which starts at b.byteOffset.
  const base = b.byteOffset;
  let i = from;
  while (i < to && ((base + i) & 3) !== 0) {
    const c = b[i] as number;
    if (c < 0x20 || c === 0x22 || c === 0x5c) return i;
    i++;
  }
  if (i === to) return to; // (or the word below would start before `from`)
  let k = (base + i) >> 2;
  const kEnd = (base + to) >> 2;
  for (; k < kEnd; k++) {
    const w = words[k] as number;
    const q = w ^ 0x22222222;
    const s = w ^ 0x5c5c5c5c;
    if ((((w - 0x20202020) & ~w) | ((q - 0x01010101) & ~q) | ((s - 0x01010101) & ~s)) & 0x80808080) break;
  }
  for (i = (k << 2) - base; i < to; i++) {
    const c = b[i] as number;
    if (c < 0x20 || c === 0x22 || c === 0x5c) return i;
  }
  return to;
}

const SHORT_ESCAPES: Record<number, number> = {
  8: 0x62, // \b
  9: 0x74, // \t
  10: 0x6e, // \n
  12: 0x66, // \f
  13: 0x72, // \r
  34: 0x22, // \"
  92: 0x5c, // \\
};
const HEX = Buffer.from('0123456789abcdef');

/**
 * From the time's closing quote to the text's opening one
 * (`","type":"info","component":"CMGService","thread":"2417","file":"","text":"`),
 * kept by the fields it is made of: most lines of a log repeat a few. (A list
 * of recent ones compared in turn cost a microsecond a line: they share long
 * prefixes.)
 */
class Middles {
  /** By a hash of the four fields; a slot holds the last seen with that hash. */
  private readonly slots: (Middle | undefined)[] = new Array(1024);

  /** The middle for the fields `a` read in `b`. */
  of(b: Buffer, a: CanonicalReader): Buffer {
    let h = a.type.charCodeAt(0);
    h = hashRange(h, b, a.component, a.componentEnd);
    h = hashRange(h, b, a.thread, a.threadEnd);
    h = hashRange(h, b, a.file, a.fileEnd);
    const slot = h & 1023;
    const m = this.slots[slot];
    if (
      m &&
      m.type === a.type &&
      sameField(b, m.component, a.component, a.componentEnd) &&
      sameField(b, m.thread, a.thread, a.threadEnd) &&
      sameField(b, m.file, a.file, a.fileEnd)
    ) {
      return m.bytes;
    }
    const component = b.subarray(a.component, a.componentEnd);
    const thread = b.subarray(a.thread, a.threadEnd);
    const file = b.subarray(a.file, a.fileEnd);
    const text = (f: Uint8Array) => JSON.stringify(Buffer.from(f).toString('latin1'));
    const bytes = Buffer.from(
      `","type":"${a.type}","component":${text(component)},"thread":${text(thread)},"file":${text(file)},"text":"`,
      'latin1',
    );
    // Copies: the fields' bytes are in a buffer about to be reused.
    this.slots[slot] = {
      type: a.type,
      component: Uint8Array.from(component),
      thread: Uint8Array.from(thread),
      file: Uint8Array.from(file),
      bytes,
    };
    return bytes;
  }
}

interface Middle {
  type: SeverityName;
  component: Uint8Array;
  thread: Uint8Array;
  file: Uint8Array;
  bytes: Buffer;
}

/** FNV-1a over b[from, to), continuing from h. */
function hashRange(h: number, b: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) h = Math.imul(h ^ (b[i] as number), 16777619);
  return h >>> 0;
}

const sameField = (b: Uint8Array, field: Uint8Array, from: number, to: number) =>
  field.length === to - from && bytesAre(b, field, from, to);

/**
 * Where the last `]LOG]!><` in b[from, end) starts, or -1: what lastIndexOf
 * finds, searched from the end with Horspool's skips (most bytes of the
 * attributes are not in the tail, so it moves 8 bytes at a time). lastIndexOf
 * on the string was a call into the runtime per line.
 */
function lastClose(b: Uint8Array, from: number, end: number): number {
  for (let k = end - CLOSE.length; k >= from; k -= CLOSE_SKIP[b[k] as number] as number) {
    if (bytesAre(b, CLOSE, k, end)) return k;
  }
  return -1;
}
/** For the byte at the window's start: how far the window may move back without passing a match. */
const CLOSE_SKIP = new Uint8Array(256).fill(CLOSE.length);
for (let i = CLOSE.length - 1; i >= 1; i--) CLOSE_SKIP[CLOSE[i] as number] = i;

/** Which entries to print, from what the byte path knows without making an entry: its time and type. */
export interface NdjsonFilter {
  /** For entries of the byte path. */
  keep(ms: number, type: SeverityName): boolean;
  /** For entries of the general path. */
  keepEntry(e: ParsedEntry): boolean;
}

/**
 * The one-line canonical CCM entry read last, held until the next line shows
 * that nothing continues it (a line that does not start a new entry would be
 * part of its text).
 */
class Held {
  has = false;
  buf: Buffer = Buffer.alloc(0);
  /** The line, without its line break. */
  start = 0;
  end = 0;
  /** Its text: from after `<![LOG[` to its `]LOG]!><`. */
  text = 0;
  textEnd = 0;
  ms = 0;
  type: SeverityName = 'info';
  middle: Buffer = Buffer.alloc(0);

  take(
    buf: Buffer,
    start: number,
    end: number,
    close: number,
    ms: number,
    type: SeverityName,
    middle: Buffer,
  ): void {
    this.has = true;
    this.buf = buf;
    this.start = start;
    this.end = end;
    this.text = start + CCM_OPEN.length;
    this.textEnd = close;
    this.ms = ms;
    this.type = type;
    this.middle = middle;
  }

  /** Its line copied out of a buffer about to be reused. */
  own(): void {
    const shift = this.start;
    this.buf = Buffer.from(this.buf.subarray(this.start, this.end));
    this.start -= shift;
    this.end -= shift;
    this.text -= shift;
    this.textEnd -= shift;
  }

  /** The entry's NDJSON line, as jsonLine writes it. `tail`: `","source":"..."}`. */
  render(out: RenderedLines, tail: Buffer): void {
    out.room((this.textEnd - this.text) * 6 + this.middle.length + tail.length + 40);
    out.timeOpen(this.ms);
    out.put(this.middle);
    out.escaped(this.buf, this.text, this.textEnd);
    out.put(tail);
    out.endLine(this.ms);
  }
}

/**
 * A log's entries as NDJSON lines, in file order, in batches (one per chunk
 * read). `endOffset`: where to stop (where following takes over).
 */
export async function* ndjsonLines(
  path: string,
  filter: NdjsonFilter,
  endOffset?: number,
  chunkBytes = 1 << 20,
): AsyncGenerator<RenderedLines> {
  if (endOffset === 0) return;
  const parser = new LogParser(path);
  const reader = new CanonicalReader();
  const held = new Held();
  const middles = new Middles();
  const tail = Buffer.from(`","source":${JSON.stringify(path)}}`, 'utf8');
  let batch = new RenderedLines(chunkBytes + (chunkBytes >> 1));

  const general = (entries: ParsedEntry[]) => {
    for (const e of entries) if (filter.keepEntry(e)) batch.entry(e);
  };
  const renderHeld = () => {
    if (filter.keep(held.ms, held.type)) held.render(batch, tail);
    held.has = false;
  };
  /** Lines [from, to) to the parser, after the held entry (which they may continue). */
  const toParser = (buf: Buffer, from: number, to: number, utf8: boolean) => {
    if (held.has) {
      general(parser.push(`${held.buf.toString('latin1', held.start, held.end)}\n`));
      held.has = false;
    }
    if (to > from) general(parser.push(buf.toString(utf8 ? 'utf8' : 'latin1', from, to)));
  };

  /** Complete lines [from, limit) of buf (limit just after a line break, or the end of the file). */
  const lines = (buf: Buffer, from: number, limit: number) => {
    // Bytes are copied as characters only when they are ASCII: checked for the whole region, or else line by line.
    const ascii = isAscii(buf.subarray(from, limit));
    // Positions are the buffer's. (The region had been made a latin1 string, to find lines with the string
    // built-ins: making it cost three times what Buffer's indexOf costs per line.)
    let slow = from; // the start of lines not yet given to the parser
    let pos = from;
    while (pos < limit) {
      let nl = buf.indexOf(10, pos);
      if (nl === -1 || nl >= limit) nl = limit; // the last line of the file, without a line break
      const end = nl > pos && buf[nl - 1] === 13 ? nl - 1 : nl;
      // Searched backwards from the line's end: the attributes are short.
      const close =
        end - pos > 15 && bytesAre(buf, OPEN, pos, end) && (ascii || isAscii(buf.subarray(pos, end)))
          ? lastClose(buf, pos + CCM_OPEN.length, end)
          : -1;
      if (close !== -1 && reader.read(buf, close + CCM_CLOSE.length, end)) {
        if (slow < pos) toParser(buf, slow, pos, !ascii);
        slow = pos;
        if (!parser.inEntry) {
          // A new entry: whatever was held is complete.
          if (held.has) renderHeld();
          else general(parser.handOff());
          const middle = middles.of(buf, reader);
          held.take(buf, pos, end, close, reader.ms, reader.type, middle);
          slow = pos = nl + 1;
          continue;
        }
      }
      pos = nl + 1;
    }
    if (slow < limit) toParser(buf, slow, Math.min(pos, limit), !ascii);
  };

  // The chunks share one buffer: what outlives a chunk (its unfinished last line, the held entry) is copied.
  let carry: Buffer | undefined;
  let first = true;
  for await (const chunk of fileChunks(path, 0, endOffset, chunkBytes)) {
    if (first) {
      first = false;
      // A byte order mark goes to the parser with the first line (not ASCII), which drops it; otherwise the
      // parser must not take a U+FEFF at the start of the first text it sees for one.
      if (!(chunk[0] === 0xef && (chunk.length < 2 || chunk[1] === 0xbb))) parser.noByteOrderMark();
    }
    let from = 0;
    if (carry) {
      const nl = chunk.indexOf(10);
      if (nl === -1) {
        carry = Buffer.concat([carry, chunk]); // a line longer than a chunk
        continue;
      }
      const line = Buffer.concat([carry, chunk.subarray(0, nl + 1)]);
      carry = undefined;
      lines(line, 0, line.length);
      from = nl + 1;
    }
    const lastNl = chunk.lastIndexOf(10);
    if (lastNl >= from) lines(chunk, from, lastNl + 1);
    const rest = Math.max(from, lastNl + 1);
    if (rest < chunk.length) carry = Buffer.from(chunk.subarray(rest));
    if (held.has && held.buf === chunk) held.own();
    if (batch.count > 0) {
      yield batch;
      batch = new RenderedLines(chunkBytes + (chunkBytes >> 1));
    }
  }
  if (carry && carry.length > 0) lines(carry, 0, carry.length);
  if (held.has) renderHeld();
  general(parser.end());
  if (batch.count > 0) yield batch;
}

/** One log's lines: its parts in order (a `.lo_`, then its `.log`), each up to its end offset. */
export async function* logLines(
  paths: string[],
  ends: Map<string, number>,
  filter: NdjsonFilter,
): AsyncGenerator<RenderedLines> {
  for (const p of paths) yield* ndjsonLines(p, filter, ends.get(p));
}

/** The filters the byte path applies (type and time; the others need the general path). */
export function ndjsonFilter(f: LogFilter): NdjsonFilter {
  return { keep: (ms, type) => matchesTypeAndTime(type, ms, f), keepEntry: (e) => matches(e, f) };
}

/** Sort key of a rendered line. */
export const lineKey = (b: RenderedLines, i: number) => b.keys[i] as number;
export const lineCount = (b: RenderedLines) => b.count;

/** Logs read as one stream each (a `.lo_` and its `.log`), merged in time order: runs of NDJSON lines. */
export function mergedNdjson(
  groups: string[][],
  ends: Map<string, number>,
  filter: NdjsonFilter,
): AsyncGenerator<Run<RenderedLines>[]> {
  return mergeRuns(
    groups.map((g) => logLines(g, ends, filter)),
    lineCount,
    lineKey,
  );
}
