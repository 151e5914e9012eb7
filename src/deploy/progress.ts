import { Listr, ListrLogger, type ListrTask, PRESET_TIMER, ProcessOutput } from 'listr2';

/**
 * Steps shown with listr2 on stderr (stdout stays data): the live renderer
 * on a terminal, one line per step otherwise, each with its elapsed time (a
 * pipeline's log). The first failing step stops the rest; its error is the
 * command's.
 */
export async function runSteps<C extends object>(context: C, steps: ListrTask<C>[]): Promise<C> {
  const output = new ProcessOutput(process.stderr, process.stderr);
  const tty = process.stderr.isTTY === true && !process.env.CI;
  const list = new Listr<C, 'default' | 'simple', 'simple'>(steps, {
    ctx: context,
    exitOnError: true,
    renderer: tty ? 'default' : 'simple',
    fallbackRenderer: 'simple',
    // Both renderers write through their logger: one whose "stdout" is stderr.
    rendererOptions: {
      logger: new ListrLogger({ useIcons: true, processOutput: output }),
      timer: PRESET_TIMER,
    },
    fallbackRendererOptions: {
      logger: new ListrLogger({ useIcons: true, processOutput: output }),
      timer: PRESET_TIMER,
    },
    // cmg reports the error once, its own way (base.ts): listr2 only marks the step.
    collectErrors: false,
  });
  return list.run();
}
