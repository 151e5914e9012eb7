import { availableParallelism } from 'node:os';
import { getAsset, isSea } from 'node:sea';
import { Worker } from 'node:worker_threads';
import type { SeverityName } from './cmtrace-format.js';
import type { LogFilter } from './filter.js';
import { lineCount, lineKey, ndjsonFilter, ndjsonLines, RenderedLines } from './ndjson.js';
import { mergeRuns, type Run } from './read.js';

/**
 * `cmg logs --json` over several logs on several threads: each worker thread
 * (ndjson-worker.ts) reads and renders whole files, this thread renders its
 * share of them too, and merges all batches in time order and writes.
 * Reading and rendering is nearly all the work, so two logs on two cores take
 * about half the time. (This thread had only merged, beside a worker per
 * core: on two cores that was three busy threads, and 40% more CPU for 10%
 * less time.) One log, one CPU or a small set stay on this thread (a worker
 * costs tens of milliseconds to start).
 */

/** What a worker is given. */
export interface WorkerJob {
  /** What it renders, each with its number (`log`, which its batches carry): a file (`paths` holds one). */
  logs: { log: number; paths: string[] }[];
  ends: [string, number][];
  /** The type and time filters (the only ones this path has). */
  filter: { types?: SeverityName[] | undefined; since?: number | undefined; until?: number | undefined };
  /** Batches each may have in flight before the main thread takes one. */
  ahead: number;
}

/** What a worker sends back, per log. */
export type WorkerMessage =
  | {
      log: number;
      bytes: ArrayBuffer;
      offset: number;
      used: number;
      count: number;
      ends: Int32Array;
      keys: Float64Array;
    }
  | { log: number; done: true }
  | { log: number; error: string; code?: string | undefined };

export interface ParallelOptions {
  /** Threads at most, this one included (default: the CPUs, up to 4). */
  threads?: number;
  /** Below this many bytes in all, the set is read on this thread (default 16 MB). */
  minBytes?: number;
}

/** How a worker is started: from the file beside this one, or from the single binary's asset. */
function startWorker(job: WorkerJob): Worker {
  if (isSea()) {
    // The single executable carries the worker's bundle as an asset (scripts/build-binary.mjs).
    return new Worker(getAsset('logs-worker.cjs', 'utf8'), { eval: true, workerData: job, execArgv: [] });
  }
  // Not the process's own Node options: some (--input-type, --eval) make no sense for a worker and stop it.
  return new Worker(new URL('./ndjson-worker.js', import.meta.url), { workerData: job, execArgv: [] });
}

/** Batches a file may have rendered before the merge takes them, on any thread. */
const AHEAD = 4;

/**
 * The batches of `source`, up to `n` of them asked for before they are
 * taken: this thread renders its own files while the merge waits for a
 * worker's batch (at the start, while the workers load, and whenever a worker
 * falls behind), rather than only when the merge reaches them.
 */
async function* ahead<T>(source: AsyncGenerator<T>, n: number): AsyncGenerator<T> {
  const asked: Promise<IteratorResult<T>>[] = [];
  try {
    for (;;) {
      while (asked.length < n) asked.push(source.next());
      const r = await (asked.shift() as Promise<IteratorResult<T>>);
      if (r.done) return;
      yield r.value;
    }
  } finally {
    // Requests still queued settle (an async generator answers them in turn) before it is closed.
    await Promise.allSettled(asked);
    await source.return(undefined);
  }
}

/** A log's batches as they arrive from its worker. */
class Inbox {
  private readonly items: WorkerMessage[] = [];
  private wake: (() => void) | undefined;

  put(m: WorkerMessage): void {
    this.items.push(m);
    this.wake?.();
    this.wake = undefined;
  }

  async *batches(credit: () => void): AsyncGenerator<RenderedLines> {
    for (;;) {
      while (this.items.length === 0) await new Promise<void>((r) => (this.wake = r));
      const m = this.items.shift() as WorkerMessage;
      if ('done' in m) return;
      if ('error' in m) throw Object.assign(new Error(m.error), m.code ? { code: m.code } : {});
      credit();
      yield RenderedLines.of(Buffer.from(m.bytes, m.offset, m.used), m.used, m.count, m.ends, m.keys);
    }
  }
}

/**
 * The merged NDJSON of `groups` (each a log: its `.lo_` then its `.log`)
 * rendered on worker threads, or undefined when this set is better read on
 * this thread (then use mergedNdjson).
 */
export function parallelNdjson(
  groups: string[][],
  ends: Map<string, number>,
  filter: LogFilter,
  options: ParallelOptions = {},
): AsyncGenerator<Run<RenderedLines>[]> | undefined {
  const threads = Math.min(options.threads ?? Math.min(availableParallelism(), 4), groups.length);
  // The files are the units of work (a log's .lo_ and .log are read apart anyway): finer than logs, so that the
  // threads' shares come out nearer equal. A unit's number is its place in `files`.
  const files = groups.flat();
  const sizes = files.map((p) => ends.get(p) ?? 0);
  const total = sizes.reduce((a, b) => a + b, 0);
  if (threads < 2 || total < (options.minBytes ?? 16 << 20)) return undefined;

  // Largest file first, each to the least loaded thread. Thread 0 is this one, which also merges and writes:
  // about a third of what rendering its share costs (measured on two cores), counted as its load to begin with.
  const load = new Array<number>(threads).fill(0);
  load[0] = total / threads / 3;
  const jobs: WorkerJob['logs'][] = Array.from({ length: threads }, () => []);
  for (const u of files.map((_, u) => u).sort((a, b) => (sizes[b] as number) - (sizes[a] as number))) {
    const t = load.indexOf(Math.min(...load));
    (jobs[t] as WorkerJob['logs']).push({ log: u, paths: [files[u] as string] });
    load[t] = (load[t] as number) + (sizes[u] as number);
  }
  const [here = [], ...elsewhere] = jobs;
  const mine = new Set(here.map((j) => j.log));
  const serialFilter = {
    types: filter.types ? [...filter.types] : undefined,
    since: filter.since?.getTime(),
    until: filter.until?.getTime(),
  };
  return (async function* () {
    const inboxes = files.map(() => new Inbox());
    const workers: Worker[] = [];
    const ownerOf = new Map<number, Worker>();
    try {
      for (const logs of elsewhere) {
        if (logs.length === 0) continue;
        const w = startWorker({ logs, ends: [...ends], filter: serialFilter, ahead: AHEAD });
        workers.push(w);
        for (const { log } of logs) ownerOf.set(log, w);
        w.on('message', (m: WorkerMessage) => inboxes[m.log]?.put(m));
        // A worker that dies fails its files (with what it said), rather than leaving the merge waiting.
        const fail = (message: string) => {
          for (const { log } of logs) inboxes[log]?.put({ log, error: message });
        };
        w.on('error', (err) => fail(`reading the logs failed: ${err.message}`));
        w.on('exit', (code) => {
          if (code !== 0) fail(`reading the logs failed: its thread ended with ${code}`);
        });
      }
      const local = ndjsonFilter(filter);
      /** A file's batches: rendered here, or as they come from its worker. */
      const unit = (u: number) =>
        mine.has(u)
          ? ahead(ndjsonLines(files[u] as string, local, ends.get(files[u] as string)), AHEAD)
          : (inboxes[u] as Inbox).batches(() => (ownerOf.get(u) as Worker).postMessage({ credit: u }));
      // One stream per log, its files in order.
      let first = 0;
      const streams = groups.map((g) => {
        const units = g.map((_, i) => first + i);
        first += g.length;
        return (async function* () {
          for (const u of units) yield* unit(u);
        })();
      });
      yield* mergeRuns(streams, lineCount, lineKey);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  })();
}
