import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CertUsageError } from './errors.js';

interface PlannedFile {
  path: string;
  data: string | Buffer;
  secret: boolean;
}

/**
 * The files a command writes, checked together before any is written: an
 * existing file is never replaced without --force, so a refused run leaves
 * nothing half-made. Secrets (private keys, PFX) are created with mode 0600;
 * each file is written to a temporary name and renamed, so it appears whole.
 */
export class OutputFiles {
  private readonly files: PlannedFile[] = [];

  add(path: string, data: string | Buffer, options: { secret?: boolean } = {}): this {
    this.files.push({ path: resolve(path), data, secret: options.secret ?? false });
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
    const written: { path: string; mode: string }[] = [];
    for (const f of this.files) {
      mkdirSync(dirname(f.path), { recursive: true });
      const mode = f.secret ? 0o600 : 0o644;
      const temp = `${f.path}.tmp-${process.pid}`;
      try {
        writeFileSync(temp, f.data, { mode, flag: 'wx' });
        chmodSync(temp, mode); // the umask narrows the mode given at creation; the listed mode must be the real one
        renameSync(temp, f.path);
      } catch (err) {
        rmSync(temp, { force: true });
        throw err;
      }
      written.push({ path: f.path, mode: mode.toString(8).padStart(4, '0') });
    }
    return written;
  }
}
