// The CA, client certificate and key files of an HTTPS backend, re-read when they change (as
// vmauth does, checking at most once a second) so rotated certificates are used by new
// connections without a restart. Established connections keep the material they started with.
import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';

export type TlsFileOption = 'caFile' | 'certFile' | 'keyFile';

/** A TLS file named in the config or flags cannot be read. */
export class BackendTlsFileError extends Error {
  readonly code = 'ERR_BACKEND_TLS_FILE';
  readonly option: TlsFileOption;
  readonly file: string;
  constructor(option: TlsFileOption, file: string, cause: Error) {
    super(`cannot read backend TLS ${OPTION_NAMES[option]} ${JSON.stringify(file)}: ${cause.message}`);
    this.option = option;
    this.file = file;
  }
}

const OPTION_NAMES: Record<TlsFileOption, string> = { caFile: 'CA file', certFile: 'certificate file', keyFile: 'key file' };

export interface TlsFiles {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  /** Bumped whenever any file's content changes. */
  readonly version: number;
}

interface Watched { readonly option: TlsFileOption; readonly path: string; stamp: string; data: Buffer }

const CHECK_INTERVAL_MS = 1000;

export class TlsMaterial {
  readonly #files: Watched[] = [];
  #current: TlsFiles;
  #checkedAt: number;
  #checking: Promise<TlsFiles> | null = null;
  /** The last re-read failure (the previous material stays in use), for diagnostics. */
  lastError: BackendTlsFileError | null = null;

  constructor(caFile: string, certFile: string, keyFile: string, now = Date.now()) {
    for (const [option, path] of [['caFile', caFile], ['certFile', certFile], ['keyFile', keyFile]] as const) {
      if (path === '') continue;
      try {
        const st = statSync(path);
        this.#files.push({ option, path, stamp: stampOf(st), data: readFileSync(path) });
      } catch (err) {
        throw new BackendTlsFileError(option, path, err as Error);
      }
    }
    this.#current = this.#build(0);
    this.#checkedAt = now;
  }

  get hasFiles(): boolean { return this.#files.length > 0; }

  /** The current material; files are checked for changes at most once per second. */
  get(now = Date.now()): Promise<TlsFiles> | TlsFiles {
    if (this.#files.length === 0 || now - this.#checkedAt < CHECK_INTERVAL_MS) return this.#current;
    this.#checking ??= this.#check().finally(() => { this.#checking = null; this.#checkedAt = Date.now(); });
    return this.#checking;
  }

  async #check(): Promise<TlsFiles> {
    let changed = false;
    for (const f of this.#files) {
      try {
        const stamp = stampOf(await stat(f.path));
        if (stamp === f.stamp) continue;
        const data = await readFile(f.path);
        f.stamp = stamp;
        if (!data.equals(f.data)) { f.data = data; changed = true; }
      } catch (err) {
        // A file being replaced may be missing for a moment: keep using what worked.
        this.lastError = new BackendTlsFileError(f.option, f.path, err as Error);
      }
    }
    if (changed) this.#current = this.#build(this.#current.version + 1);
    return this.#current;
  }

  #build(version: number): TlsFiles {
    const get = (o: TlsFileOption) => this.#files.find((f) => f.option === o)?.data;
    const ca = get('caFile');
    const cert = get('certFile');
    const key = get('keyFile');
    return { version, ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  }
}

function stampOf(st: { mtimeMs: number; size: number; ino: number }): string {
  return `${st.mtimeMs}:${st.size}:${st.ino}`;
}
