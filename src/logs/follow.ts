import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { LogParser, type ParsedEntry } from './parse.js';

interface Tracked {
  path: string;
  fd: number;
  ino: number;
  offset: number;
  parser: LogParser;
  decoder: StringDecoder;
}

export interface FollowOptions {
  /** Files to follow, with the offset to start from (where reading the history stopped). */
  files: { path: string; offset: number }[];
  /** Also pick up `*.log` files that appear in this folder later. */
  dir?: string | undefined;
  pollMs?: number;
  onEntries(entries: ParsedEntry[]): void;
}

const CHUNK = 1 << 20;

/**
 * `tail -F` for CMTrace logs. Each file is read through an open descriptor,
 * so when a log is rotated (renamed to `.lo_` and started afresh) the rest of
 * the renamed file is still read to its end before the new file is opened
 * from its start: no entry lost, none repeated. Files that do not exist yet,
 * or appear later in the folder, are picked up when they do.
 */
export class LogFollower {
  private readonly tracked = new Map<string, Tracked | null>();
  private timer: NodeJS.Timeout | undefined;
  private readonly buf = Buffer.allocUnsafe(CHUNK);

  constructor(private readonly o: FollowOptions) {
    for (const f of o.files) this.tracked.set(f.path, this.open(f.path, f.offset));
  }

  start(): void {
    const tick = () => {
      this.poll();
      this.timer = setTimeout(tick, this.o.pollMs ?? 100);
    };
    tick();
  }

  stop(): void {
    clearTimeout(this.timer);
    for (const t of this.tracked.values()) if (t) closeSync(t.fd);
    this.tracked.clear();
  }

  private open(path: string, offset: number): Tracked | null {
    try {
      const fd = openSync(path, 'r');
      return {
        path,
        fd,
        ino: fstatSync(fd).ino,
        offset,
        parser: new LogParser(path),
        decoder: new StringDecoder('utf8'),
      };
    } catch {
      return null;
    }
  }

  /** Reads what was appended since the last poll. */
  private drain(t: Tracked): ParsedEntry[] {
    const out: ParsedEntry[] = [];
    for (;;) {
      const n = readSync(t.fd, this.buf, 0, CHUNK, t.offset);
      if (n <= 0) break;
      t.offset += n;
      out.push(...t.parser.push(t.decoder.write(this.buf.subarray(0, n))));
    }
    return out;
  }

  poll(): void {
    if (this.o.dir) {
      try {
        for (const name of readdirSync(this.o.dir)) {
          const path = join(this.o.dir, name);
          if (extname(name).toLowerCase() === '.log' && !this.tracked.has(path))
            this.tracked.set(path, this.open(path, 0));
        }
      } catch {
        // the folder is gone for now
      }
    }
    for (const [path, t0] of this.tracked) {
      let t = t0 ?? this.open(path, 0);
      if (!t) continue;
      this.tracked.set(path, t);
      const entries = this.drain(t);
      let now: { ino: number; size: number } | undefined;
      try {
        now = statSync(path);
      } catch {
        now = undefined; // renamed, its successor not there yet: keep reading the old one
      }
      if (now && now.ino !== t.ino) {
        // Rotated: the old file is read to its end above; what is left in its parser ends with it.
        entries.push(...t.parser.push(t.decoder.end()), ...t.parser.end());
        closeSync(t.fd);
        // Rotated twice since the last poll: the `.lo_` is a file we never saw; read it whole first.
        // (A third rotation in one poll would have deleted the middle file: nothing can read it then.)
        const rotated = path.replace(/\.log$/i, '.lo_');
        try {
          if (statSync(rotated).ino !== t.ino) {
            const middle = this.open(rotated, 0);
            if (middle) {
              entries.push(...this.drain(middle));
              entries.push(...middle.parser.push(middle.decoder.end()), ...middle.parser.end());
              closeSync(middle.fd);
            }
          }
        } catch {
          // no .lo_
        }
        const next = this.open(path, 0);
        this.tracked.set(path, next);
        if (next) {
          t = next;
          entries.push(...this.drain(next));
        }
      } else if (now && now.size < t.offset) {
        // Truncated in place: start again from the top.
        t.offset = 0;
        entries.push(...this.drain(t));
      }
      entries.push(...t.parser.flush());
      if (entries.length > 0) this.o.onEntries(entries);
    }
  }
}
