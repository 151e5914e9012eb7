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
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, ...range })) {
    const entries = parser.push(decoder.write(chunk as Buffer));
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
): AsyncGenerator<ParsedEntry[]> {
  for (const p of paths) yield* fileEntries(p, ends.get(p), keepText);
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
): AsyncGenerator<ParsedEntry[]> {
  const its = groups.map((g) => chained(g, ends, keepText));
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
