/**
 * The console view of `cmg status`: one section per source, then a summary
 * line. Pure: it takes the report, a chalk and the time, and returns text.
 */

import { kindLabel } from './format.js';
import { renderConnector } from './render-connector.js';
import { renderGateway } from './render-gateway.js';
import { answered, type FailedSource, isFailed, type StatusReport } from './report.js';
import { INDENT, type RenderOptions } from './view-parts.js';

export { stdoutPaint } from '../paint.js';
export type { RenderOptions } from './view-parts.js';

function renderFailed(source: FailedSource, defaults: boolean, o: RenderOptions): string[] {
  const p = o.paint;
  const what = kindLabel(source.kind);
  if (defaults) return [p.dim(`${source.error} (the default ${what} address)`)];
  const title = what[0]?.toUpperCase() + what.slice(1);
  return [
    `${p.bold(title)} ${p.bold.cyan(source.url)}  ${p.red.bold('NO ANSWER')}`,
    `${' '.repeat(INDENT)}${p.red(source.error)}`,
  ];
}

/** `2 ready, 1 not ready, 1 not answering`, green when all is well. */
export function summaryLine(report: StatusReport, o: RenderOptions): string {
  const p = o.paint;
  const ok = answered(report);
  const ready = ok.filter((s) => s.ready).length;
  const notReady = ok.length - ready;
  const failed = report.sources.filter(isFailed);
  if (report.defaults) {
    if (ok.length === 0)
      return p.red(
        'No gateway or connection point answered at the default admin addresses; pass --gateway URL, --connector URL or --config FILE.',
      );
    const parts = [`${ready} ready`, ...(notReady > 0 ? [`${notReady} not ready`] : [])];
    const text = `${parts.join(', ')} (asked the default admin addresses)`;
    return notReady > 0 ? p.red(text) : p.green(text);
  }
  if (notReady === 0 && failed.length === 0)
    return p.green(ready === 1 ? '1 source, ready' : `All ${ready} sources ready`);
  const parts = [
    `${ready} ready`,
    ...(notReady > 0 ? [`${notReady} not ready`] : []),
    ...(failed.length > 0 ? [`${failed.length} not answering`] : []),
  ];
  return p.red(`${parts.join(', ')} (of ${report.sources.length} sources)`);
}

/** The whole view, ending with a newline. */
export function renderReport(report: StatusReport, o: RenderOptions): string {
  const sections = report.sources.map((s) => {
    if (isFailed(s)) return renderFailed(s, report.defaults, o);
    return s.kind === 'gateway' ? renderGateway(s, o) : renderConnector(s, o);
  });
  const lines = sections.flatMap((section, i) => (i === 0 ? section : ['', ...section]));
  lines.push('', summaryLine(report, o));
  return `${lines.join('\n')}\n`;
}
