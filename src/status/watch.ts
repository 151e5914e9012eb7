/**
 * `cmg status --watch`: ask, draw, wait, again, until stopped. The clock and
 * the sleep are injectable so that the loop is tested without waiting.
 */
import type { ChalkInstance } from 'chalk';

/** Home the cursor and clear the screen: each frame replaces the last one on a terminal. */
export const CLEAR_SCREEN = '\x1b[H\x1b[2J';
/** Between frames when stdout is not a terminal (a file, a pipe): nothing to clear there. */
export const SEPARATOR = '-'.repeat(72);

export interface WatchLoop<T> {
  /** Seconds between the starts of two rounds. */
  everyMs: number;
  /** Aborted on Ctrl-C: the loop ends without drawing what was being asked. */
  signal: AbortSignal;
  collect(signal: AbortSignal): Promise<T>;
  draw(result: T, round: number): void;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  clock?: () => number;
}

/** Waits `ms`, or less if `signal` aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Runs rounds until the signal aborts; returns the last result drawn (undefined if none was). */
export async function watchLoop<T>(w: WatchLoop<T>): Promise<T | undefined> {
  const clock = w.clock ?? Date.now;
  const wait = w.sleep ?? sleep;
  let last: T | undefined;
  for (let round = 0; !w.signal.aborted; round++) {
    const started = clock();
    const result = await w.collect(w.signal);
    if (w.signal.aborted) break;
    w.draw(result, round);
    last = result;
    await wait(Math.max(0, started + w.everyMs - clock()), w.signal);
  }
  return last;
}

/** `14:03:22` in local time. */
function clockTime(at: number): string {
  const d = new Date(at);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

export interface FrameOptions {
  paint: ChalkInstance;
  /** Is stdout a terminal: clear it; else separate frames with a line. */
  tty: boolean;
  round: number;
  everySeconds: number;
  now: number;
}

/** A frame of the watch: how to start it (clear or separate), a header, then the view. */
export function watchFrame(view: string, o: FrameOptions): string {
  const start = o.tty ? CLEAR_SCREEN : o.round === 0 ? '' : `${SEPARATOR}\n`;
  const header = o.paint.dim(`cmg status at ${clockTime(o.now)}, every ${o.everySeconds} s; Ctrl-C to stop`);
  return `${start}${header}\n\n${view}`;
}
