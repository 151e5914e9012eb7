import { statSync } from 'node:fs';
import { Flags } from '@oclif/core';
import { OperationError, UsageError } from '../errors.js';
import type { SeverityName } from '../logs/cmtrace-format.js';
import { CmgCommand } from './base.js';

const TYPES = ['info', 'warning', 'error'] as const;

export default class Logs extends CmgCommand<typeof Logs> {
  static override summary = 'Read, filter, merge and follow CMTrace logs';
  static override description =
    'Reads Configuration Manager logs in either format (CCM <![LOG[...]LOG]!> lines, multi-line messages included, and ' +
    'the simple SMS "$$<...>" format), merges several logs into one time order (UTC from each line\'s own bias), and ' +
    'prints aligned columns coloured by severity, or one JSON object per line with --json. With --dir every *.log ' +
    'there is read, each after its rotated .lo_ history. -f keeps printing new entries, across rotations and files ' +
    'that appear later, like tail -F.';
  static override examples = [
    '<%= config.bin %> logs --dir /var/log/cmg/gateway',
    '<%= config.bin %> logs CMGService.log CMGHttpHandler.log --type warning,error --since 15m',
    '<%= config.bin %> logs --dir logs -f --component CMGHttpHandler --grep "-> 5\\d\\d"',
    '<%= config.bin %> logs --dir logs --json | jq .text',
    '<%= config.bin %> logs --dir logs --summary',
  ];
  static override strict = false;
  static override flags = {
    dir: Flags.string({
      char: 'd',
      description: 'read every *.log in this folder (with its .lo_ history)',
      multiple: true,
    }),
    follow: Flags.boolean({ char: 'f', description: 'keep printing new entries (Ctrl-C stops)' }),
    lines: Flags.integer({
      char: 'n',
      description: 'only the last N entries (with -f: 10 unless given)',
      min: 0,
    }),
    type: Flags.string({ description: 'only these types, comma-separated: info,warning,error' }),
    component: Flags.string({ description: 'only these components, comma-separated (case-insensitive)' }),
    thread: Flags.string({ description: 'only these threads, comma-separated' }),
    since: Flags.string({
      description: 'from this time: a duration back from now (15m, 2h, 1d) or a timestamp',
    }),
    until: Flags.string({ description: 'up to this time: a duration back from now or a timestamp' }),
    grep: Flags.string({ description: 'only entries whose text matches this regular expression' }),
    'ignore-case': Flags.boolean({ char: 'i', description: 'with --grep: ignore case' }),
    summary: Flags.boolean({
      description: 'count entries by component and type, with the first and last error of each',
    }),
  };

  private stopFollowing: (() => void) | undefined;

  async run(): Promise<undefined> {
    const [
      { logFilesIn, groupRotated, mergedEntries, plainLiteral },
      { matches, parseWhen },
      render,
      { LogFollower },
      { stdoutPaint },
    ] = await Promise.all([
      import('../logs/read.js'),
      import('../logs/filter.js'),
      import('../logs/render.js'),
      import('../logs/follow.js'),
      import('../paint.js'),
    ]);
    const f = this.flags;
    const files = [...this.operands];
    for (const d of f.dir ?? []) {
      try {
        files.push(...logFilesIn(d));
      } catch (err) {
        throw new UsageError(
          `cannot read the folder ${d}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        );
      }
    }
    for (const file of files) {
      try {
        if (!statSync(file).isFile()) throw new Error('not a file');
      } catch {
        throw new UsageError(`cannot read the log ${file}: no such file`, {
          hint: 'Give log files, or a folder with --dir.',
        });
      }
    }
    if (files.length === 0 && !(f.follow && f.dir)) {
      throw new UsageError('no log files to read', {
        hint: 'Give one or more log files, or a folder with --dir DIR.',
      });
    }
    const list = (v: string | undefined) =>
      v
        ? new Set(
            v
              .split(',')
              .map((x) => x.trim())
              .filter(Boolean),
          )
        : undefined;
    const types = list(f.type);
    for (const t of types ?? []) {
      if (!(TYPES as readonly string[]).includes(t)) {
        throw new UsageError(`--type ${t}: expected info, warning or error (comma-separated)`);
      }
    }
    const when = (name: string, v: string | undefined) => {
      if (v === undefined) return undefined;
      const d = parseWhen(v);
      if (!d)
        throw new UsageError(
          `--${name} ${v}: expected a duration such as 15m, 2h, 1d or a timestamp such as 2026-11-29T03:00`,
        );
      return d;
    };
    let grep: RegExp | undefined;
    if (f.grep !== undefined) {
      try {
        grep = new RegExp(f.grep, f['ignore-case'] ? 'i' : '');
      } catch (err) {
        throw new UsageError(`--grep ${f.grep}: not a valid regular expression (${(err as Error).message})`);
      }
    }
    const filter = {
      types: types as Set<SeverityName> | undefined,
      components: list(f.component?.toLowerCase()),
      threads: list(f.thread),
      since: when('since', f.since),
      until: when('until', f.until),
      grep,
    };

    const json = this.jsonEnabled();
    const paint = stdoutPaint();
    const out = new Output();
    // Wide enough for the components and thread ids cmg and ConfigMgr write (SMS_CLOUD_PROXYCONNECTOR, 7-digit pids).
    const widths = { component: 24, thread: 7 };
    const print = (e: import('../logs/parse.js').ParsedEntry) => {
      widths.component = Math.max(widths.component, e.component.length);
      widths.thread = Math.max(widths.thread, e.thread.length);
      out.write(json ? render.jsonLine(e) : render.humanLine(e, paint, widths));
    };

    // Where the history stops, so that following starts exactly there: nothing lost, nothing twice.
    const ends = new Map(files.map((p) => [p, statSync(p).size]));
    const groups = groupRotated(files);
    const limit = f.lines ?? (f.follow ? 10 : undefined);
    const summary = f.summary ? new render.Summary() : undefined;
    const ring: import('../logs/parse.js').ParsedEntry[] = [];
    let kept = 0;
    const keepText = grep ? (text: string) => (grep as RegExp).test(text) : undefined;
    const literal = grep ? plainLiteral(grep) : undefined;
    if (json && !summary && limit === undefined && !filter.components && !filter.threads && !grep) {
      // Every entry printed whole: NDJSON written from the logs' bytes (src/logs/ndjson.ts).
      const [{ mergedNdjson, ndjsonFilter }, { parallelNdjson }] = await Promise.all([
        import('../logs/ndjson.js'),
        import('../logs/ndjson-parallel.js'),
      ]);
      const merged = parallelNdjson(groups, ends, filter) ?? mergedNdjson(groups, ends, ndjsonFilter(filter));
      for await (const runs of merged) {
        for (const r of runs)
          out.bytes(r.batch.bytes, r.batch.start(r.from), r.batch.ends[r.to - 1] as number);
        await out.maybeFlush();
        if (out.closed) break; // ends the merge, and its threads
      }
    } else if (limit !== 0 || summary) {
      // (`-n 0` prints no history: nothing to read, so `-f -n 0` follows at once, however large the logs.)
      for await (const batch of mergedEntries(groups, ends, keepText, literal)) {
        for (const e of batch) {
          if (!matches(e, filter)) continue;
          if (summary) summary.add(e);
          else if (limit === undefined) print(e);
          else if (limit > 0) {
            // The last `limit` entries: a ring, overwritten in place (shift() would copy it every entry).
            if (ring.length < limit) ring.push(e);
            else ring[kept % limit] = e;
            kept++;
          }
        }
        await out.maybeFlush();
        if (out.closed) break;
      }
    }
    // Oldest first: once the ring is full, the oldest is where the next would have gone.
    const start = ring.length === limit ? kept % (limit as number) : 0;
    for (let i = 0; i < ring.length; i++) print(ring[(start + i) % ring.length] as (typeof ring)[number]);
    if (summary) {
      const result = summary.result();
      if (json) out.write(JSON.stringify({ components: result }, null, 2));
      else out.write(render.summaryTable(result, paint));
    }
    await out.flush();
    if (!f.follow) return undefined;

    this.installSignalHandlers();
    const follower = new LogFollower({
      files: files.filter((p) => /\.log$/i.test(p)).map((p) => ({ path: p, offset: ends.get(p) ?? 0 })),
      dir: f.dir?.[0],
      onEntries: (entries) => {
        for (const e of entries) if (matches(e, filter)) print(e);
        // The reader gone, or the output failing, stops following as Ctrl-C does (a failure is then reported).
        out.flush().then(
          () => {
            if (out.closed) this.stopFollowing?.();
          },
          (err: unknown) => {
            outputFailure = err;
            this.stopFollowing?.();
          },
        );
      },
    });
    let outputFailure: unknown;
    follower.start();
    await new Promise<void>((resolve) => {
      this.stopFollowing = resolve;
    });
    follower.stop();
    if (outputFailure) throw outputFailure;
    await out.flush();
    return undefined;
  }

  protected override onSignal(signal: NodeJS.Signals): void {
    if (this.stopFollowing) {
      this.stopFollowing();
      this.stopFollowing = undefined;
      return;
    }
    process.exit(signal === 'SIGINT' ? 130 : 143);
  }

  protected render(): void {}
}

/**
 * Batched stdout writes with backpressure: a log of millions of lines is printed without holding it.
 * Lines are encoded straight into a buffer: joining them into one string first, then encoding that,
 * copied every byte twice and was the largest part of --json's time.
 */
class Output {
  private static readonly SIZE = 1 << 20;
  private buf = Buffer.allocUnsafe(Output.SIZE);
  private used = 0;
  /** Set when the reader has gone (`| head` closed the pipe): reading stops and the command ends quietly. */
  closed = false;
  private failed: NodeJS.ErrnoException | undefined;
  private wake: (() => void) | undefined;

  constructor() {
    // oclif's own listener throws any error but EPIPE, which would end the command with a stack trace.
    process.stdout.removeAllListeners('error');
    process.stdout.on('error', (err: NodeJS.ErrnoException) => this.fail(err));
  }

  private fail(err: NodeJS.ErrnoException): void {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') this.closed = true;
    else this.failed ??= err;
    this.wake?.();
  }

  /** To stdout; a file stdout writes at once and throws (ENOSPC), a pipe fails later with an error event. */
  private send(chunk: string | Buffer): boolean {
    if (this.closed || this.failed) return true;
    try {
      return process.stdout.write(chunk);
    } catch (err) {
      this.fail(err as NodeJS.ErrnoException);
      return true;
    }
  }

  write(text: string): void {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8 (a surrogate pair, two units, takes 4).
    if (this.used + text.length * 3 + 1 > this.buf.length) {
      this.push();
      if (text.length * 3 + 1 > this.buf.length) {
        this.send(`${text}\n`);
        return;
      }
    }
    this.used += this.buf.write(text, this.used, 'utf8');
    this.buf[this.used++] = 10;
  }

  /** Bytes already encoded (NDJSON from src/logs/ndjson.ts). */
  bytes(src: Buffer, from: number, to: number): void {
    if (this.used + (to - from) > this.buf.length) {
      this.push();
      if (to - from > this.buf.length >> 2) {
        this.send(src.subarray(from, to)); // large: handed over as it is (the batch is not reused)
        return;
      }
    }
    this.used += src.copy(this.buf, this.used, from, to);
  }

  async maybeFlush(): Promise<void> {
    if (this.used > 1 << 16) await this.flush();
  }

  async flush(): Promise<void> {
    if (!this.closed && !this.failed && !this.push()) {
      // Until stdout drains, or fails (a closed pipe never drains).
      await new Promise<void>((resolve) => {
        const done = () => {
          process.stdout.off('drain', done);
          this.wake = undefined;
          resolve();
        };
        process.stdout.once('drain', done);
        this.wake = done;
      });
    }
    if (this.failed) {
      const e = this.failed;
      throw new OperationError('CMG_OUTPUT', `cannot write the output: ${e.message}`, {
        hint: 'Check where the output goes (a full disk, a closed file).',
      });
    }
  }

  /** Hands what is written to stdout (which keeps it); false when stdout asks to wait. */
  private push(): boolean {
    if (this.used === 0 || this.closed) {
      this.used = 0;
      return true;
    }
    const full = this.buf.subarray(0, this.used);
    // The rest of the buffer carries on (stdout owns the written part now).
    const rest = this.buf.length - this.used;
    this.buf = rest >= 1 << 17 ? this.buf.subarray(this.used) : Buffer.allocUnsafe(Output.SIZE);
    this.used = 0;
    return this.send(full);
  }
}
