import { availableParallelism } from 'node:os';
import { getAsset, isSea } from 'node:sea';
import { Worker } from 'node:worker_threads';
import type { SeverityName } from './cmtrace-format.js';
import type { LogFilter } from './filter.js';
import { lineCount, lineKey, RenderedLines } from './ndjson.js';
import { mergeRuns, type Run } from './read.js';

/**
 * `cmg logs --json` over several logs on several threads: each worker thread
 * (ndjson-worker.ts) reads and renders whole logs, the main thread merges
 * their batches in time order and writes. Reading and rendering is nearly all
 * the work, so two logs on two cores take about half the time. One log, one
 * CPU or a small set stay on this thread (a worker costs tens of
 * milliseconds to start).
 */

/** What a worker is given. */
export interface WorkerJob {
  /** The logs it renders: `log` is the log's place in the merge. */
  logs: { log: number; paths: string[] }[];
  ends: [string, number][];
  /** The type and time filters (the only ones this path has). */
  filter: { types?: SeverityName[] | undefined; since?: number | undefined; until?: number | undefined };
  /** Batches a log may have in flight before the main thread takes one. */
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
  /** Threads at most (default: the CPUs, up to 4). */
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
  const sizes = groups.map((g) => g.reduce((n, p) => n + (ends.get(p) ?? 0), 0));
  const total = sizes.reduce((a, b) => a + b, 0);
  if (threads < 2 || total < (options.minBytes ?? 16 << 20)) return undefined;

  // Largest log first, each to the least loaded thread.
  const load = new Array<number>(threads).fill(0);
  const jobs: WorkerJob['logs'][] = Array.from({ length: threads }, () => []);
  for (const k of groups.map((_, k) => k).sort((a, b) => (sizes[b] as number) - (sizes[a] as number))) {
    const t = load.indexOf(Math.min(...load));
    (jobs[t] as WorkerJob['logs']).push({ log: k, paths: groups[k] as string[] });
    load[t] = (load[t] as number) + (sizes[k] as number);
  }
  const serialFilter = {
    types: filter.types ? [...filter.types] : undefined,
    since: filter.since?.getTime(),
    until: filter.until?.getTime(),
  };
  return (async function* () {
    const inboxes = groups.map(() => new Inbox());
    const workers: Worker[] = [];
    const ownerOf = new Map<number, Worker>();
    try {
      for (const logs of jobs) {
        const w = startWorker({ logs, ends: [...ends], filter: serialFilter, ahead: 4 });
        workers.push(w);
        for (const { log } of logs) ownerOf.set(log, w);
        w.on('message', (m: WorkerMessage) => inboxes[m.log]?.put(m));
        // A worker that dies fails its logs (with what it said), rather than leaving the merge waiting.
        const fail = (message: string) => {
          for (const { log } of logs) inboxes[log]?.put({ log, error: message });
        };
        w.on('error', (err) => fail(`reading the logs failed: ${err.message}`));
        w.on('exit', (code) => {
          if (code !== 0) fail(`reading the logs failed: its thread ended with ${code}`);
        });
      }
      const streams = inboxes.map((box, k) =>
        box.batches(() => (ownerOf.get(k) as Worker).postMessage({ credit: k })),
      );
      yield* mergeRuns(streams, lineCount, lineKey);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  })();
}
