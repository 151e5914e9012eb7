import { isAscii } from 'node:buffer';
import { readdirSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { bytesAre, CCM_OPEN_BYTES, LogParser, type ParsedEntry } from './parse.js';

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

/**
 * A file's bytes from `start` up to `endOffset`, in chunks read into two
 * buffers used in turn: a chunk is valid only until the next one is asked
 * for. The next chunk is read while this one is used (one read after another
 * left the thread idle for a quarter of a --grep), and the buffers are
 * reused (a fresh buffer per chunk cost page faults and collections).
 */
export async function* fileChunks(
  path: string,
  start = 0,
  endOffset?: number,
  chunkBytes = 1 << 20,
): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  const buffers = [Buffer.allocUnsafeSlow(chunkBytes), Buffer.allocUnsafeSlow(chunkBytes)];
  let at = start;
  let which = 0;
  const readAt = async (into: Buffer, from: number): Promise<number> => {
    const want = endOffset === undefined ? chunkBytes : Math.min(chunkBytes, endOffset - from);
    return want <= 0 ? 0 : (await fh.read(into, 0, want, from)).bytesRead;
  };
  let next = readAt(buffers[0] as Buffer, at);
  try {
    for (;;) {
      const n = await next;
      if (n === 0) return;
      const chunk = (buffers[which] as Buffer).subarray(0, n);
      at += n;
      which ^= 1;
      next = readAt(buffers[which] as Buffer, at);
      yield chunk;
    }
  } finally {
    await next.catch(() => 0); // not closed under a read still running
    await fh.close();
  }
}

/** A log's entries in file order, read in chunks (a log is never held whole), from `start` (a line's start). */
export async function* fileEntries(
  path: string,
  endOffset?: number,
  keepText?: (text: string) => boolean,
  start = 0,
): AsyncGenerator<ParsedEntry[]> {
  const parser = new LogParser(path, keepText);
  if (start > 0) parser.noByteOrderMark();
  const decoder = new StringDecoder('utf8');
  // Logs are mostly ASCII: such a chunk is copied into a string rather than decoded (a tenth of --json's time).
  // After the first chunk that is not, the decoder keeps any character split across chunks.
  let ascii = true;
  for await (const buf of fileChunks(path, start, endOffset)) {
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

/** Entries [from, to) of one log's batch, next in the merged order. */
export interface Run<B> {
  batch: B;
  from: number;
  to: number;
}

/**
 * Merges logs into one time order: a k-way merge holding one batch per log.
 * Equal times keep the order of the logs given, then file order. What comes
 * out is runs (a log's entries that come before every other log's next one),
 * a few thousand entries' worth at a time: one promise per entry would cost
 * more than parsing it, and runs let rendered bytes be copied in one go.
 */
export async function* mergeRuns<B>(
  logs: AsyncIterator<B>[],
  size: (batch: B) => number,
  keyAt: (batch: B, i: number) => number,
): AsyncGenerator<Run<B>[]> {
  const heads: (Run<B> | undefined)[] = [];
  const fill = async (k: number): Promise<void> => {
    for (;;) {
      const next = await (logs[k] as AsyncIterator<B>).next();
      if (next.done) {
        heads[k] = undefined;
        return;
      }
      const n = size(next.value);
      if (n > 0) {
        heads[k] = { batch: next.value, from: 0, to: n };
        return;
      }
    }
  };
  await Promise.all(logs.map((_, k) => fill(k)));
  let out: Run<B>[] = [];
  let taken = 0;
  for (;;) {
    // The log whose next entry comes first (ties: the log given first), and the one after it.
    let best = -1;
    let bestKey = Number.POSITIVE_INFINITY;
    let second = -1;
    let secondKey = Number.POSITIVE_INFINITY;
    for (let k = 0; k < heads.length; k++) {
      const h = heads[k];
      if (!h) continue;
      const v = keyAt(h.batch, h.from);
      if (best === -1 || v < bestKey) {
        second = best;
        secondKey = bestKey;
        best = k;
        bestKey = v;
      } else if (second === -1 || v < secondKey) {
        second = k;
        secondKey = v;
      }
    }
    if (best === -1) break;
    const h = heads[best] as Run<B>;
    // Take entries from it while they still come first: before the runner-up, or tied with one given later.
    let i = h.from + 1;
    if (second === -1) i = h.to;
    else {
      while (i < h.to) {
        const v = keyAt(h.batch, i);
        if (v < secondKey || (v === secondKey && best < second)) i++;
        else break;
      }
    }
    out.push({ batch: h.batch, from: h.from, to: i });
    taken += i - h.from;
    h.from = i;
    if (taken >= 4096) {
      yield out;
      out = [];
      taken = 0;
    }
    if (h.from >= h.to) await fill(best);
  }
  if (out.length > 0) yield out;
}

/** mergeRuns for entries: merged batches of entries. */
export async function* mergedEntries(
  groups: string[][],
  ends: Map<string, number> = new Map(),
  /** A text filter (--grep) the parser applies before reading attributes. */
  keepText?: (text: string) => boolean,
  /** The --grep pattern as a plain word, when it is one: the byte-level search of literalEntries. */
  literal?: string,
): AsyncGenerator<ParsedEntry[]> {
  const logs = groups.map((g) => chained(g, ends, keepText, literal));
  for await (const runs of mergeRuns(
    logs,
    (b) => b.length,
    (b, i) => key(b[i] as ParsedEntry),
  )) {
    const out: ParsedEntry[] = [];
    for (const r of runs) for (let i = r.from; i < r.to; i++) out.push(r.batch[i] as ParsedEntry);
    yield out;
  }
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

const NEXT_ENTRY = Buffer.from('\n<![LOG[');
const SMS_MARK = Buffer.from('$$<');

/** `<![LOG[` at `at`, compared in place (Buffer compare() cost more than the rest of the line's checks). */
const startsEntry = (b: Buffer, at: number) => bytesAre(b, CCM_OPEN_BYTES, at, b.length);

/**
 * `--grep` with a plain word: most of a large log never needs decoding. The
 * raw bytes are searched for the word (as grep does); only the entry around
 * each hit (from the line where it starts with `<![LOG[` to the next such
 * line, continuation lines included) is decoded and parsed, and the text
 * filter then decides as usual. A hit in an attribute is parsed and dropped
 * there. From a chunk with a line in the SMS format, or a hit with no entry
 * start before it, the full parser takes over at the first byte not yet
 * searched, so the answer is the same either way.
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
  let seq = 0;
  let out: ParsedEntry[] = [];
  const parse = (buf: Buffer, from: number, to: number) => {
    const parser = new LogParser(path, keepText);
    for (const e of [...parser.push(buf.toString('utf8', from, to)), ...parser.end()]) {
      e.seq = seq++;
      out.push(e);
    }
  };
  /**
   * Entries of buf[from, to) holding the word, `from` being a line's start. `final`: the last entry ends at
   * `to`. The answer: where the search stopped (the start of the entry not finished in buf), or a fallback.
   */
  const search = (
    buf: Buffer,
    from: number,
    to: number,
    final: boolean,
  ): { stop: number; fallback: boolean } => {
    let pos = from;
    for (;;) {
      const hit = buf.indexOf(needle, pos);
      if (hit === -1 || hit + needle.length > to) {
        if (final) return { stop: to, fallback: false };
        // Keep the last entry: a hit may come in the next chunk's part of it.
        const last = buf.lastIndexOf(NEXT_ENTRY, to - 1);
        return {
          stop:
            last !== -1 && last + 1 >= pos ? last + 1 : pos === from && startsEntry(buf, from) ? from : to,
          fallback: false,
        };
      }
      const nl = buf.lastIndexOf(NEXT_ENTRY, hit - 1);
      const start = nl + 1 >= pos && nl !== -1 ? nl + 1 : startsEntry(buf, pos) ? pos : -1;
      if (start === -1) return { stop: pos, fallback: true }; // no entry start seen before the hit
      const next = buf.indexOf(NEXT_ENTRY, hit);
      if (next === -1 || next >= to) {
        if (!final) return { stop: start, fallback: false }; // the entry continues in the next chunk
        parse(buf, start, to);
        return { stop: to, fallback: false };
      }
      parse(buf, start, next + 1);
      pos = next + 1;
    }
  };

  let carry: Buffer | undefined; // a copy: an entry the last chunk did not finish
  let offset = 0; // of the chunk in the file
  for await (const chunk of fileChunks(path, 0, endOffset, chunkBytes)) {
    const carryAt = offset - (carry?.length ?? 0);
    let fallbackAt = -1;
    let from = 0;
    if (chunk.includes(SMS_MARK)) {
      fallbackAt = carryAt; // not only CCM: the full parser from here on
    } else if (carry) {
      // The carried entry, finished by the chunk's lines up to its first entry start.
      const next = chunk.indexOf(NEXT_ENTRY);
      if (next === -1) {
        carry = Buffer.concat([carry, chunk]); // an entry longer than a chunk
        offset += chunk.length;
        continue;
      }
      const head = Buffer.concat([carry, chunk.subarray(0, next + 1)]);
      carry = undefined;
      const r = search(head, 0, head.length, true);
      if (r.fallback) fallbackAt = carryAt + r.stop;
      from = next + 1;
    }
    if (fallbackAt === -1) {
      const r = search(chunk, from, chunk.length, false);
      if (r.fallback) fallbackAt = offset + r.stop;
      else if (r.stop < chunk.length) carry = Buffer.from(chunk.subarray(r.stop));
    }
    if (out.length > 0) {
      yield out;
      out = [];
    }
    if (fallbackAt !== -1) {
      for await (const batch of fileEntries(path, endOffset, keepText, fallbackAt)) {
        for (const e of batch) e.seq = seq++;
        yield batch;
      }
      return;
    }
    offset += chunk.length;
  }
  if (carry?.includes(needle)) search(carry, 0, carry.length, true);
  if (out.length > 0) yield out;
}

/** A --grep pattern that is a plain word (no regular expression syntax), for literalEntries; undefined otherwise. */
export function plainLiteral(pattern: RegExp): string | undefined {
  if (pattern.flags.includes('i')) return undefined;
  const src = pattern.source;
  return src.length >= 3 && !/[\\^$.*+?()[\]{}|/]/.test(src) ? src : undefined;
}
