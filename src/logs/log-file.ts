import { EventEmitter } from 'node:events';
import { closeSync, constants, fstatSync, mkdirSync, openSync, renameSync, write, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export const DEFAULT_MAX_LOG_BYTES = 250_000;
/** Past this much unwritten text (a stuck disk), new lines are counted and dropped, not held in memory. */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;
const RETRY_MS = 1000;

export interface LogFileOptions {
  /** Rotate before a line would take the file past this size. */
  maxBytes?: number;
  /** The line to write once writing resumes after `count` lines were dropped. */
  droppedLine?: (count: number) => string;
}

interface PendingWrite {
  fd: number;
  buf: Buffer;
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
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private dropped = 0;
  private inFlight: PendingWrite | null = null;
  /** Async writes the kernel may still perform, including ones flushSync() already repeated. */
  private readonly outstanding = new Set<PendingWrite>();
  /** File descriptors left behind by a rotation while a write on them was still outstanding. */
  private readonly retired = new Set<number>();
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private idleWaiters: (() => void)[] = [];
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

  /** Queues one complete line (newline included). Never throws for I/O; failures are `error` events. */
  append(line: string): void {
    const buf = Buffer.from(line, 'utf8');
    if (this.queuedBytes + buf.length > MAX_QUEUED_BYTES) {
      this.dropped++;
      return;
    }
    if (this.dropped > 0 && this.droppedLine) {
      const note = Buffer.from(this.droppedLine(this.dropped), 'utf8');
      this.queue.push(note);
      this.queuedBytes += note.length;
      this.dropped = 0;
    }
    this.queue.push(buf);
    this.queuedBytes += buf.length;
    if (this.closed) {
      this.flushSync();
      return;
    }
    this.schedule();
  }

  /** Resolves once every line appended so far is in the file. */
  flush(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === null) return Promise.resolve();
    return new Promise((done) => this.idleWaiters.push(done));
  }

  async close(): Promise<void> {
    // While writes are failing (a full disk), try once more now rather than wait for the retry timer.
    let writable = true;
    if (this.retryTimer) {
      try {
        this.flushSync();
      } catch (err) {
        // Still failing: report it and close rather than hang the shutdown on a broken disk.
        writable = false;
        this.report(err);
      }
    }
    if (writable) await this.flush();
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    closeSync(this.fd);
    liveFiles.delete(this);
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight || this.retryTimer) return;
    this.scheduled = true;
    // setImmediate gathers every line written in this turn of the event loop into one write.
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  /** Rotates when the next line would not fit, then takes as many whole lines as fit. */
  private takeBatch(): Buffer | null {
    const first = this.queue[0];
    if (!first) return null;
    if (this.size > 0 && this.size + first.length > this.maxBytes) this.rotate();
    let count = 0;
    let bytes = 0;
    for (const buf of this.queue) {
      if (count > 0 && this.size + bytes + buf.length > this.maxBytes) break;
      bytes += buf.length;
      count++;
    }
    const batch = this.queue.splice(0, count);
    this.queuedBytes -= bytes;
    return batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch, bytes);
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
    if (this.inFlight) return;
    let batch: Buffer | null;
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
    this.writeAsync({ fd: this.fd, buf: batch, pos: this.size });
  }

  private writeAsync(op: PendingWrite): void {
    this.inFlight = op;
    this.outstanding.add(op);
    write(op.fd, op.buf, 0, op.buf.length, op.pos, (err, written) => {
      this.outstanding.delete(op);
      if (this.inFlight !== op) return this.release(op.fd); // flushSync already wrote it
      this.inFlight = null;
      if (err) {
        this.queue.unshift(op.buf);
        this.queuedBytes += op.buf.length;
        this.release(op.fd);
        this.failed(err);
        return;
      }
      if (op.fd === this.fd) this.size = Math.max(this.size, op.pos + written);
      if (written < op.buf.length) {
        this.writeAsync({ fd: op.fd, buf: op.buf.subarray(written), pos: op.pos + written });
        return;
      }
      this.release(op.fd);
      this.pump();
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
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.pump();
    }, RETRY_MS);
    this.retryTimer.unref();
  }

  /**
   * Writes everything still queued, synchronously: for `process.on('exit')`,
   * where no callback will run again. A batch in flight is written again at
   * its own offset, so it is in the file whether or not its async write ran.
   */
  flushSync(): void {
    const op = this.inFlight;
    if (op) {
      this.inFlight = null;
      writeFully(op.fd, op.buf, op.pos);
      if (op.fd === this.fd) this.size = Math.max(this.size, op.pos + op.buf.length);
    }
    for (let batch = this.takeBatch(); batch; batch = this.takeBatch()) {
      writeFully(this.fd, batch, this.size);
      this.size += batch.length;
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
