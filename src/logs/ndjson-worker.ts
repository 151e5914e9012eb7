/**
 * A thread of `cmg logs --json` (see ndjson-parallel.ts): renders the logs it
 * is given, each as NDJSON batches handed to the main thread with their
 * memory (transferred, not copied), a few batches ahead of what the main
 * thread has merged.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { logLines, ndjsonFilter } from './ndjson.js';
import type { WorkerJob, WorkerMessage } from './ndjson-parallel.js';

const job = workerData as WorkerJob;
const port = parentPort;
if (!port) throw new Error('ndjson-worker runs as a worker thread');
const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

const filter = ndjsonFilter({
  types: job.filter.types ? new Set(job.filter.types) : undefined,
  since: job.filter.since === undefined ? undefined : new Date(job.filter.since),
  until: job.filter.until === undefined ? undefined : new Date(job.filter.until),
});
const ends = new Map(job.ends);

/** Batches each log may have in flight; the main thread gives one back per batch it takes. */
const credits = new Map<number, number>();
const waiting = new Map<number, () => void>();
port.on('message', (m: { credit: number }) => {
  credits.set(m.credit, (credits.get(m.credit) ?? 0) + 1);
  const wake = waiting.get(m.credit);
  waiting.delete(m.credit);
  wake?.();
});

async function pump(log: number, paths: string[]): Promise<void> {
  credits.set(log, job.ahead);
  try {
    for await (const b of logLines(paths, ends, filter)) {
      while ((credits.get(log) ?? 0) === 0) await new Promise<void>((r) => waiting.set(log, r));
      credits.set(log, (credits.get(log) ?? 0) - 1);
      const ab = b.bytes.buffer as ArrayBuffer;
      post(
        {
          log,
          bytes: ab,
          offset: b.bytes.byteOffset,
          used: b.used,
          count: b.count,
          ends: b.ends,
          keys: b.keys,
        },
        [ab, b.ends.buffer as ArrayBuffer, b.keys.buffer as ArrayBuffer],
      );
    }
    post({ log, done: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    post({ log, error: e.message, code: e.code });
  }
}

// Not awaited at the top level: the single binary bundles this file as CommonJS.
void Promise.all(job.logs.map(({ log, paths }) => pump(log, paths)));
