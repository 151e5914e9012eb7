import { isAscii } from 'node:buffer';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { LogParser, type ParsedEntry } from './parse.js';

/**
 * The logs of a folder, each with its rotated history first: `X.lo_` (the
 * older part) before `X.log`, so that one log reads in order. A `.lo_` whose
 * `.log` is gone is still read.
 */
export function logFilesIn(dir: string): string[] {
  const names = readdirSync(dir).filter((n) => {
    const ext = extname(n).toLowerCase();
    return (ext === '.log' || ext === '.lo_') && statSync(join(dir, n)).isFile();
  });
  const stems = [...new Set(names.map((n) => basename(n, extname(n))))].sort((a, b) => a.localeCompare(b));
  const out: string[] = [];
  for (const stem of stems) {
    for (const ext of ['.lo_', '.log']) {
      const name = names.find((n) => n.toLowerCase() === `${stem}${ext}`.toLowerCase());
      if (name) out.push(join(dir, name));
    }
  }
  return out;
}

/** A log's entries in file order, read in chunks (a log is never held whole). */
export async function* fileEntries(
  path: string,
  endOffset?: number,
  keepText?: (text: string) => boolean,
): AsyncGenerator<ParsedEntry[]> {
  const parser = new LogParser(path, keepText);
  const decoder = new StringDecoder('utf8');
  if (endOffset === 0) return;
  const range = endOffset === undefined ? {} : { end: endOffset - 1 };
  // Logs are mostly ASCII: such a chunk is copied into a string rather than decoded (a tenth of --json's time).
  // After the first chunk that is not, the decoder keeps any character split across chunks.
  let ascii = true;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, ...range })) {
    const buf = chunk as Buffer;
    ascii &&= isAscii(buf);
    const entries = parser.push(ascii ? buf.toString('latin1') : decoder.write(buf));
    if (entries.length > 0) yield entries;
  }
  const rest = parser.push(decoder.end());
  rest.push(...parser.end());
  if (rest.length > 0) yield rest;
}

/** Several logs read as one: a `.lo_` and its `.log` continue each other. */
async function* chained(
  paths: string[],
  ends: Map<string, number>,
  keepText?: (text: string) => boolean,
  literal?: string,
): AsyncGenerator<ParsedEntry[]> {
  for (const p of paths) {
    if (literal && keepText) yield* literalEntries(p, literal, keepText, ends.get(p));
    else yield* fileEntries(p, ends.get(p), keepText);
  }
}

/** Sort key: entries without a time (plain text before any entry) sort first, in file order. */
const key = (e: ParsedEntry) => e.time?.getTime() ?? Number.NEGATIVE_INFINITY;

/**
 * Merges logs into one time order (each log is in time order already, so
 * this is a k-way merge holding one batch per log). Equal times keep the
 * order of the logs given, then file order. Yields batches: one promise per
 * entry would cost more than parsing it.
 */
export async function* mergedEntries(
  groups: string[][],
  ends: Map<string, number> = new Map(),
  /** A text filter (--grep) the parser applies before reading attributes. */
  keepText?: (text: string) => boolean,
  /** The --grep pattern as a plain word, when it is one: the byte-level search of literalEntries. */
  literal?: string,
): AsyncGenerator<ParsedEntry[]> {
  const its = groups.map((g) => chained(g, ends, keepText, literal));
  if (its.length === 1) {
    yield* its[0] as AsyncGenerator<ParsedEntry[]>;
    return;
  }
  const heads: { batch: ParsedEntry[]; i: number }[] = [];
  const fill = async (k: number): Promise<boolean> => {
    const next = await (its[k] as AsyncGenerator<ParsedEntry[]>).next();
    if (next.done) return false;
    heads[k] = { batch: next.value, i: 0 };
    return true;
  };
  // In the order the logs were given, so that equal times keep that order (the scan below keeps the first).
  const filled = await Promise.all(groups.map((_, k) => fill(k)));
  const live = new Set<number>(filled.flatMap((ok, k) => (ok ? [k] : [])));
  let out: ParsedEntry[] = [];
  while (live.size > 0) {
    let best = -1;
    let bestKey = Number.POSITIVE_INFINITY;
    for (const k of live) {
      const h = heads[k] as { batch: ParsedEntry[]; i: number };
      const v = key(h.batch[h.i] as ParsedEntry);
      if (best === -1 || v < bestKey) {
        best = k;
        bestKey = v;
      }
    }
    const h = heads[best] as { batch: ParsedEntry[]; i: number };
    out.push(h.batch[h.i++] as ParsedEntry);
    if (out.length >= 4096) {
      yield out;
      out = [];
    }
    if (h.i >= h.batch.length && !(await fill(best))) live.delete(best);
  }
  if (out.length > 0) yield out;
}

/** Groups paths so that a `.lo_` and its `.log` form one log. */
export function groupRotated(paths: string[]): string[][] {
  const groups = new Map<string, string[]>();
  for (const p of paths) {
    const stem = p.replace(/\.(log|lo_)$/i, '').toLowerCase();
    const g = groups.get(stem) ?? [];
    g.push(p);
    groups.set(stem, g);
  }
  return [...groups.values()].map((g) =>
    g.sort((a, b) => (/\.lo_$/i.test(a) ? -1 : /\.lo_$/i.test(b) ? 1 : 0)),
  );
}

const OPEN_BYTES = Buffer.from('<![LOG[');
const NEXT_ENTRY = Buffer.from('\n<![LOG[');
const SMS_MARK = Buffer.from('$$<');

/**
 * `--grep` with a plain word: most of a large log never needs decoding. The
 * raw bytes are searched for the word (as grep does); only the entry around
 * each hit (from its `<![LOG[` to the next entry's, continuation lines
 * included) is decoded and parsed, and the text filter then decides as
 * usual. A hit in an attribute is parsed and dropped there. A file in the SMS
 * format (or a chunk with no entry start before a hit) falls back to the full
 * parser, so the answer is the same either way.
 */
export async function* literalEntries(
  path: string,
  literal: string,
  keepText: (text: string) => boolean,
  endOffset?: number,
  chunkBytes = 1 << 20,
): AsyncGenerator<ParsedEntry[]> {
  if (endOffset === 0) return;
  const needle = Buffer.from(literal, 'utf8');
  const range = endOffset === undefined ? {} : { end: endOffset - 1 };
  let carry: Buffer = Buffer.alloc(0);
  let seq = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: chunkBytes, ...range })) {
    const buf = carry.length > 0 ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    carry = Buffer.alloc(0);
    if (buf.includes(SMS_MARK)) {
      yield* fileEntries(path, endOffset, keepText); // not only CCM: the whole file through the full parser
      return;
    }
    const out: ParsedEntry[] = [];
    let pos = 0;
    for (;;) {
      const hit = buf.indexOf(needle, pos);
      if (hit === -1) {
        // Keep the last partial entry: a hit may come in the next chunk's part of it.
        const lastStart = buf.lastIndexOf(OPEN_BYTES);
        carry = lastStart >= pos ? buf.subarray(lastStart) : Buffer.alloc(0);
        break;
      }
      const start = buf.lastIndexOf(OPEN_BYTES, hit);
      if (start < pos) {
        // The hit is before any entry start we can see: let the full parser decide.
        yield* fileEntries(path, endOffset, keepText);
        return;
      }
      const next = buf.indexOf(NEXT_ENTRY, hit);
      if (next === -1) {
        carry = buf.subarray(start); // the entry continues in the next chunk
        break;
      }
      const parser = new LogParser(path, keepText);
      for (const e of [...parser.push(buf.toString('utf8', start, next + 1)), ...parser.end()]) {
        e.seq = seq++;
        out.push(e);
      }
      pos = next + 1;
    }
    if (out.length > 0) yield out;
  }
  if (carry.length > 0 && carry.includes(needle)) {
    const parser = new LogParser(path, keepText);
    const rest = [...parser.push(carry.toString('utf8')), ...parser.end()];
    for (const e of rest) e.seq = seq++;
    if (rest.length > 0) yield rest;
  }
}

/** A --grep pattern that is a plain word (no regular expression syntax), for literalEntries; undefined otherwise. */
export function plainLiteral(pattern: RegExp): string | undefined {
  if (pattern.flags.includes('i')) return undefined;
  const src = pattern.source;
  return src.length >= 3 && !/[\\^$.*+?()[\]{}|/]/.test(src) ? src : undefined;
}
