import { Flags } from '@oclif/core';
import type { DemoResult } from '../demo/demo.js';
import { CmgCommand } from './base.js';

export default class Demo extends CmgCommand<typeof Demo> {
  static override summary =
    'Run the whole system on loopback and check it: lab PKI, management point, gateway, two connection points';
  static override description =
    'Creates a lab PKI, starts a stand-in management point, one gateway and two connection points in this process, ' +
    'sends real client requests through it all (MPLIST, CCM_POST to ccm_system/request, content downloads with their ' +
    'hash, a Range request, a request without a client certificate), and prints what happened. Exits 0 when every ' +
    'check passed, 1 otherwise. With --keep it stays up and prints the curl command that reaches it; Ctrl-C stops it.';
  static override examples = [
    '<%= config.bin %> demo',
    '<%= config.bin %> demo --keep',
    '<%= config.bin %> demo --json',
  ];
  static override flags = {
    keep: Flags.boolean({
      description: 'stay up after the checks (Ctrl-C stops), and print the curl command',
    }),
    dir: Flags.string({ description: 'folder for the lab and its logs (default: a new temp folder)' }),
    rounds: Flags.integer({ description: 'requests of each kind', default: 40, min: 1, max: 10000 }),
  };

  private stopRequested: (() => void) | undefined;

  async run(): Promise<DemoResult> {
    const { runDemo } = await import('../demo/demo.js');
    const demo = await runDemo({
      dir: this.flags.dir,
      rounds: this.flags.rounds,
      version: this.config.version,
      open: (dir, file, component) => this.openLog(dir, file, component),
      note: (line) => this.note(line),
    });
    if (this.flags.keep) {
      this.note(`\nup and running; try:\n  ${demo.result.curl}\nCtrl-C stops it.`);
      await new Promise<void>((resolve) => {
        this.stopRequested = resolve;
      });
    }
    await demo.stop();
    return demo.result;
  }

  protected override onSignal(signal: NodeJS.Signals): void {
    if (this.stopRequested) {
      const stop = this.stopRequested;
      this.stopRequested = undefined;
      stop();
      return;
    }
    process.exit(signal === 'SIGINT' ? 130 : 143);
  }

  protected override exitCodeOf(result: DemoResult): number {
    return result.ok ? 0 : 1;
  }

  protected render(r: DemoResult): void {
    const out: string[] = [];
    const pad = (rows: string[][]) => {
      const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
      for (const row of rows)
        out.push(
          `  ${row
            .map((c, i) => c.padEnd(widths[i] ?? 0))
            .join('  ')
            .trimEnd()}`,
        );
    };
    out.push('', `cmg demo: ${r.ok ? 'every check passed' : 'SOME CHECKS FAILED'}`, '');
    pad(r.checks.map((c) => [c.ok ? 'ok  ' : 'FAIL', c.name, c.detail]));
    out.push('', 'Requests through the gateway:');
    pad([
      ['method', 'path', 'status', 'count'],
      ...r.requests.map((q) => [q.method, q.path, String(q.status), String(q.count)]),
    ]);
    out.push(
      '',
      `Latency at the client: p50 ${r.latencyMs.p50} ms, p90 ${r.latencyMs.p90} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms`,
      `Served by: ${Object.entries(r.servedBy)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
      `Lab and configs: ${r.dir}`,
      `Logs (CMTrace format; read them with cmg logs --dir DIR): ${r.logs.join(', ')}`,
      '',
    );
    this.log(out.join('\n'));
  }
}
