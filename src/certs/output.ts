import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CertError, CertUsageError } from './errors.js';

interface PlannedFile {
  path: string;
  data: string | Buffer;
  secret: boolean;
}

/**
 * The files a command writes, checked together before any is written: an
 * existing file is never replaced without --force, two outputs never share a
 * path, and a refused or failed run leaves nothing half-made. Secrets (private
 * keys, PFX) get mode 0600, set explicitly so the umask cannot change it. All
 * files are first written under temporary names, then renamed into place.
 */
export class OutputFiles {
  private readonly files: PlannedFile[] = [];

  add(path: string, data: string | Buffer, options: { secret?: boolean } = {}): this {
    const abs = resolve(path);
    if (this.files.some((f) => f.path === abs)) {
      throw new CertUsageError('CMG_USAGE', `two outputs of this command would both be written to ${abs}`, {
        hint: 'Give each output its own name.',
      });
    }
    this.files.push({ path: abs, data, secret: options.secret ?? false });
    return this;
  }

  get paths(): string[] {
    return this.files.map((f) => f.path);
  }

  /** Writes every file, or none when one exists and `force` is not set. */
  commit(force: boolean): { path: string; mode: string }[] {
    const existing = this.files.filter((f) => existsSync(f.path)).map((f) => f.path);
    if (existing.length > 0 && !force) {
      throw new CertUsageError('CMG_FILE_EXISTS', `refusing to overwrite ${existing.join(', ')}`, {
        hint: 'Choose another output name, or pass --force to replace them.',
      });
    }
    for (const f of this.files) {
      if (existsSync(f.path) && statSync(f.path).isDirectory()) {
        throw new CertUsageError('CMG_USAGE', `${f.path} is a folder; an output file cannot replace it`);
      }
    }
    const temps: string[] = [];
    try {
      for (const f of this.files) {
        mkdirSync(dirname(f.path), { recursive: true });
        const temp = `${f.path}.tmp-${process.pid}`;
        temps.push(temp);
        const mode = f.secret ? 0o600 : 0o644;
        writeFileSync(temp, f.data, { mode, flag: 'wx' });
        chmodSync(temp, mode);
      }
    } catch (err) {
      for (const t of temps) rmSync(t, { force: true });
      const e = err as NodeJS.ErrnoException;
      throw new CertError(
        'CMG_FILE_WRITE_FAILED',
        `cannot write ${e.path ?? 'an output file'} (${e.code ?? e.message})`,
        {
          cause: err,
          hint: 'Check that the output folder exists (or can be created) and is writable.',
        },
      );
    }
    // Renames within one folder are atomic; done last, so a failure above leaves the old files as they were.
    return this.files.map((f, i) => {
      renameSync(temps[i] as string, f.path);
      return { path: f.path, mode: (f.secret ? 0o600 : 0o644).toString(8).padStart(4, '0') };
    });
  }
}
