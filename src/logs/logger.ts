import { join, resolve } from 'node:path';
import { type BiasOf, formatCmtraceLine, localBias, type SeverityName } from './cmtrace-format.js';
import { LogFile, type LogFileOptions } from './log-file.js';

export interface LoggerOptions extends LogFileOptions {
  clock?: () => Date;
  biasOf?: BiasOf;
  /** The CMTrace thread column; defaults to the process id, which tells processes apart. */
  thread?: number;
}

export interface LineMeta {
  thread?: number;
  file?: string;
}

/** Writes CMTrace lines for one component into a shared log file. */
export class CmtraceLogger {
  constructor(
    readonly sink: LogFile,
    readonly component: string,
    private readonly options: Pick<LoggerOptions, 'clock' | 'biasOf' | 'thread'> = {},
  ) {}

  log(type: SeverityName, text: string, meta: LineMeta = {}): void {
    this.sink.append(
      formatCmtraceLine(
        {
          time: this.options.clock?.() ?? new Date(),
          text,
          component: this.component,
          type,
          thread: meta.thread ?? this.options.thread ?? process.pid,
          ...(meta.file === undefined ? {} : { file: meta.file }),
        },
        this.options.biasOf ?? localBias,
      ),
    );
  }

  info(text: string, meta?: LineMeta): void {
    this.log('info', text, meta);
  }

  warning(text: string, meta?: LineMeta): void {
    this.log('warning', text, meta);
  }

  error(text: string, meta?: LineMeta): void {
    this.log('error', text, meta);
  }

  /** Another component writing into the same file. */
  forComponent(component: string): CmtraceLogger {
    return new CmtraceLogger(this.sink, component, this.options);
  }
}

const openFiles = new Map<string, LogFile>();

/**
 * A logger for `component` writing to `dir/name`. Every logger of one file in
 * this process shares one LogFile, so their lines are ordered and never torn,
 * and rotation happens once.
 */
export function openLogger(
  dir: string,
  name: string,
  component: string,
  options: LoggerOptions = {},
): CmtraceLogger {
  const path = resolve(join(dir, name));
  let sink = openFiles.get(path);
  if (!sink) {
    sink = new LogFile(path, {
      ...options,
      droppedLine:
        options.droppedLine ??
        ((count) =>
          formatCmtraceLine(
            {
              time: new Date(),
              text: `${count} log lines were dropped while the log file could not be written`,
              component,
              type: 'warning',
              thread: process.pid,
            },
            options.biasOf ?? localBias,
          )),
    });
    openFiles.set(path, sink);
  }
  return new CmtraceLogger(sink, component, options);
}

/** Flushes and closes every log file this process opened (a daemon's last step before exit). */
export async function closeAllLogs(): Promise<void> {
  const files = [...openFiles.values()];
  openFiles.clear();
  await Promise.all(files.map((f) => f.close()));
}
