import { EventEmitter } from 'node:events';
import { closeSync, constants, fstatSync, mkdirSync, openSync, renameSync, write, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export const DEFAULT_MAX_LOG_BYTES = 250_000;
/** Past this much unwritten text (a stuck disk), new lines are counted and dropped, not held in memory. */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;
const RETRY_MS = 1000;
/**
 * Writes start at most this often. An asynchronous write costs about 70 µs of CPU here (the
 * thread pool's wake-ups, not the disk); a daemon logging a line per request at thousands of
 * requests a second would spend a tenth of its CPU on them one by one. A line logged after a
 * quiet spell is still written at once (setImmediate); only a busy file waits, and then its
 * lines go out together.
 */
export const WRITE_INTERVAL_MS = 20;

export interface LogFileOptions {
  /** Rotate before a line would take the file past this size. */
  maxBytes?: number;
  /** The line to write once writing resumes after `count` lines were dropped. */
  droppedLine?: (count: number) => string;
}

interface Chunk {
  buf: Buffer;
  /** Logged lines in `buf` (a dropped-lines note counts none), for counting what a failure loses. */
  lines: number;
}

interface PendingWrite extends Chunk {
  fd: number;
  pos: number;
}

/** `CMGService.log` rotates to `CMGService.lo_`, as Configuration Manager does. */
export function rotatedName(path: string): string {
  return /\.log$/i.test(path) ? `${path.slice(0, -4)}.lo_` : `${path}.lo_`;
}

/**
 * One log file, shared by every logger in the process that writes to it.
 *
 * Lines are queued and written in batches by one asynchronous write at a time,
 * so a log line never blocks the event loop and lines from concurrent writers
 * never interleave or tear. Writes are positional (pwrite) rather than O_APPEND
 * so that `flushSync()`, run when the process exits, can repeat a batch still
 * in flight at the same offset: written once or twice, the bytes are the same.
 */
export class LogFile extends EventEmitter {
  readonly path: string;
  readonly rotatedPath: string;
  readonly maxBytes: number;
  private readonly droppedLine: ((count: number) => string) | undefined;
  private fd: number;
  private size: number;
  private queue: Chunk[] = [];
  private queuedBytes = 0;
  /** Lines dropped since the last dropped-lines note was queued. */
  private dropped = 0;
  private droppedTotal = 0;
  private inFlight: PendingWrite | null = null;
  /** Async writes the kernel may still perform, including ones flushSync() already repeated. */
  private readonly outstanding = new Set<PendingWrite>();
  /** File descriptors left behind by a rotation while a write on them was still outstanding. */
  private readonly retired = new Set<number>();
  private scheduled: NodeJS.Immediate | NodeJS.Timeout | null = null;
  /** When the last write started (performance.now()), for WRITE_INTERVAL_MS. */
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  private writesStarted = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private idleWaiters: (() => void)[] = [];
  private closing = false;
  private closed = false;

  constructor(path: string, options: LogFileOptions = {}) {
    super();
    this.path = resolve(path);
    this.rotatedPath = rotatedName(this.path);
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_LOG_BYTES;
    this.droppedLine = options.droppedLine;
    mkdirSync(dirname(this.path), { recursive: true });
    this.fd = this.openFile();
    this.size = fstatSync(this.fd).size;
    liveFiles.add(this);
    ensureExitFlush();
  }

  private openFile(): number {
    return openSync(this.path, constants.O_WRONLY | constants.O_CREAT, 0o644);
  }

  /** Writes started so far (batches, not lines). */
  get writes(): number {
    return this.writesStarted;
  }

  /** Lines that never reached the file: dropped past the memory limit, or given up on by `close()`. */
  get droppedLines(): number {
    return this.droppedTotal;
  }

  /** Queues one complete line (newline included). Never throws for I/O; failures are `error` events. */
  append(line: string): void {
    const buf = Buffer.from(line, 'utf8');
    if (this.closed) {
      this.appendAfterClose(buf);
      return;
    }
    if (this.queuedBytes + buf.length > MAX_QUEUED_BYTES) {
      this.drop(1);
      return;
    }
    const note = this.takeDroppedNote();
    if (note) {
      this.queue.push({ buf: note, lines: 0 });
      this.queuedBytes += note.length;
    }
    this.queue.push({ buf, lines: 1 });
    this.queuedBytes += buf.length;
    this.schedule();
  }

  private drop(lines: number): void {
    this.dropped += lines;
    this.droppedTotal += lines;
  }

  private takeDroppedNote(): Buffer | null {
    if (this.dropped === 0 || !this.droppedLine) return null;
    const note = Buffer.from(this.droppedLine(this.dropped), 'utf8');
    this.dropped = 0;
    return note;
  }

  /**
   * A line logged after `close()` (a late callback during shutdown): the descriptor is gone and
   * its number may belong to another file by now, so open the path again just for this line.
   */
  private appendAfterClose(buf: Buffer): void {
    const unnoted = this.dropped;
    const note = this.takeDroppedNote();
    const lines = note ? Buffer.concat([note, buf]) : buf;
    let fd: number | undefined;
    try {
      fd = openSync(this.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644);
      let off = 0;
      while (off < lines.length) off += writeSync(fd, lines, off, lines.length - off);
    } catch (err) {
      this.dropped = unnoted;
      this.drop(1);
      this.report(err);
    } finally {
      if (fd !== undefined) {
        try {
          closeSync(fd);
        } catch {
          // The line is written or already reported; a failing close adds nothing to act on.
        }
      }
    }
  }

  /** Resolves once every line appended so far is in the file. */
  flush(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === null) return Promise.resolve();
    return new Promise((done) => this.idleWaiters.push(done));
  }

  /**
   * Writes what is queued and closes the file. Once closing, a failed write is not retried
   * (the lines are counted in `droppedLines`), so a shutdown never hangs on a full or broken disk.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    if (this.retryTimer) {
      // Writes are failing: try once more now rather than wait for the retry timer.
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.pump();
    }
    this.pumpNow();
    // A line appended while the last batch was written is written too, before the descriptor goes.
    while (this.queue.length > 0 || this.inFlight) await this.flush();
    if (this.closed) return;
    this.closed = true;
    liveFiles.delete(this);
    // A write that flushSync() repeated may still be outstanding on it: close it as rotation does.
    this.retired.add(this.fd);
    this.release(this.fd);
  }

  private schedule(): void {
    if (this.closed || this.scheduled || this.inFlight || this.retryTimer) return;
    const wait = this.lastWriteAt + WRITE_INTERVAL_MS - performance.now();
    const run = () => {
      this.scheduled = null;
      this.pump();
    };
    // setImmediate gathers every line written in this turn of the event loop into one write; a
    // busy file waits out the interval and gathers more.
    this.scheduled = wait > 0 ? setTimeout(run, wait) : setImmediate(run);
  }

  /** A scheduled write starts now (closing: no reason to wait out the interval). */
  private pumpNow(): void {
    if (!this.scheduled) return;
    clearTimeout(this.scheduled as NodeJS.Timeout);
    clearImmediate(this.scheduled as NodeJS.Immediate);
    this.scheduled = null;
    this.pump();
  }

  /** Rotates when the next line would not fit, then takes as many whole lines as fit. */
  private takeBatch(): Chunk | null {
    const first = this.queue[0];
    if (!first) return null;
    // Never called with a write of ours in flight (flushSync() has just repeated it), so the
    // real size differs only if someone else changed the file: copytruncate, `: > file`.
    // Writing at a stale offset past a truncation would leave a hole of NUL bytes.
    this.size = fstatSync(this.fd).size;
    if (this.size > 0 && this.size + first.buf.length > this.maxBytes) this.rotate();
    let count = 0;
    let bytes = 0;
    let lines = 0;
    for (const chunk of this.queue) {
      if (count > 0 && this.size + bytes + chunk.buf.length > this.maxBytes) break;
      bytes += chunk.buf.length;
      lines += chunk.lines;
      count++;
    }
    const batch = this.queue.splice(0, count);
    this.queuedBytes -= bytes;
    if (batch.length === 1) return batch[0] as Chunk;
    const bufs = batch.map((c) => c.buf);
    return { buf: Buffer.concat(bufs, bytes), lines };
  }

  /** Emits `rotate` once the old file is complete under its `.lo_` name. */
  private rotate(): void {
    try {
      renameSync(this.path, this.rotatedPath);
    } catch (err) {
      // Someone removed the log under us: there is nothing to keep, start the new file.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const old = this.fd;
    this.fd = this.openFile();
    this.size = 0;
    // A write still in flight on the old descriptor lands in the rotated file;
    // closing it now could let the number be reused under that write.
    this.retired.add(old);
    this.release(old);
    // After this call stack, so a listener's own failure is not taken for an I/O error; still
    // before the next write completes, so the rotated file is there, complete, for the listener.
    const rotatedPath = this.rotatedPath;
    process.nextTick(() => this.emit('rotate', rotatedPath));
  }

  private pump(): void {
    if (this.inFlight || this.closed) return;
    let batch: Chunk | null;
    try {
      batch = this.takeBatch();
    } catch (err) {
      this.failed(err);
      return;
    }
    if (!batch) {
      for (const done of this.idleWaiters.splice(0)) done();
      return;
    }
    this.writeAsync({ fd: this.fd, buf: batch.buf, lines: batch.lines, pos: this.size });
  }

  private writeAsync(op: PendingWrite): void {
    this.inFlight = op;
    this.lastWriteAt = performance.now();
    this.writesStarted++;
    this.outstanding.add(op);
    write(op.fd, op.buf, 0, op.buf.length, op.pos, (err, written) => {
      this.outstanding.delete(op);
      if (this.inFlight !== op) return this.release(op.fd); // flushSync already wrote it
      this.inFlight = null;
      if (err) {
        this.queue.unshift({ buf: op.buf, lines: op.lines });
        this.queuedBytes += op.buf.length;
        this.release(op.fd);
        this.failed(err);
        return;
      }
      if (op.fd === this.fd) this.size = Math.max(this.size, op.pos + written);
      if (written < op.buf.length) {
        this.writeAsync({ ...op, buf: op.buf.subarray(written), pos: op.pos + written });
        return;
      }
      this.release(op.fd);
      if (this.queue.length > 0) this.schedule();
      else this.pump();
    });
  }

  /** Closes a rotated-away descriptor once no outstanding write can still use its number. */
  private release(fd: number): void {
    if (!this.retired.has(fd)) return;
    for (const op of this.outstanding) if (op.fd === fd) return;
    this.retired.delete(fd);
    closeSync(fd);
  }

  private report(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private failed(err: unknown): void {
    this.report(err);
    if (this.closing) {
      this.giveUp();
      return;
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.pump();
    }, RETRY_MS);
    this.retryTimer.unref();
  }

  /** Closing, and the disk refuses: count what is queued as dropped and let close() finish. */
  private giveUp(): void {
    this.drop(this.queue.reduce((n, chunk) => n + chunk.lines, 0));
    this.queue = [];
    this.queuedBytes = 0;
    for (const done of this.idleWaiters.splice(0)) done();
  }

  /**
   * Writes everything still queued, synchronously: for `process.on('exit')`,
   * where no callback will run again. A batch in flight is written again at
   * its own offset, so it is in the file whether or not its async write ran.
   */
  flushSync(): void {
    if (this.closed) return;
    const op = this.inFlight;
    if (op) {
      this.inFlight = null;
      writeFully(op.fd, op.buf, op.pos);
      if (op.fd === this.fd) this.size = Math.max(this.size, op.pos + op.buf.length);
    }
    for (let batch = this.takeBatch(); batch; batch = this.takeBatch()) {
      writeFully(this.fd, batch.buf, this.size);
      this.size += batch.buf.length;
    }
    for (const done of this.idleWaiters.splice(0)) done();
  }
}

function writeFully(fd: number, buf: Buffer, pos: number): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off, pos + off);
}

const liveFiles = new Set<LogFile>();
let exitHookInstalled = false;

function ensureExitFlush(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const file of liveFiles) {
      try {
        file.flushSync();
      } catch {
        // Nothing can be reported any more; the other files still get their lines.
      }
    }
  });
}
