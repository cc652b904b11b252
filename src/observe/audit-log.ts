// The audit log: one JSON line per security-relevant decision — every refusal, every
// tenant-enforced request, every config reload, every rejected JWT — so an operator can answer
// "what happened, to whom, and why?". Lines never hold a secret: paths only (query strings are
// left out), enforced queries as a SHA-256 unless the full text is opted in, and no header values.
//
// Writes go through sonic-boom asynchronously with a bounded buffer: a slow disk drops lines
// (counted) rather than blocking a request or growing memory. Several worker processes may append
// to one file; each line is written whole with O_APPEND. Rotation: reopen on SIGHUP/reload (for
// logrotate), or by size — the first process (worker slot 0) renames FILE to FILE.1 past
// -auditLog.maxSize, and every process reopens when the path stops naming the file it holds.
import { createHash } from 'node:crypto';
import { fstatSync, renameSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { SonicBoom } from 'sonic-boom';

// sonic-boom is CommonJS whose class node's ESM loader does not see as a named export.
const SonicBoomClass = createRequire(import.meta.url)('sonic-boom') as typeof SonicBoom;

export type AuditEvent =
  | {
    readonly event: 'refusal';
    readonly user: string;
    readonly tenant?: string | undefined;
    readonly method: string;
    readonly path: string;
    readonly status: number;
    readonly reason: string;
    readonly remote_addr: string;
  }
  | {
    readonly event: 'tenant_request';
    readonly user: string;
    readonly tenant: string;
    readonly method: string;
    readonly path: string;
    readonly access: string;
    readonly status: number;
    /** SHA-256 of the enforced query arguments (and form body) as forwarded. */
    readonly enforced_sha256: string;
    /** The enforced query text (`query`, `match[]`, …), only with -auditLog.queryText. */
    readonly enforced_query?: readonly string[];
    readonly remote_addr: string;
  }
  | {
    readonly event: 'reload';
    readonly trigger: string;
    readonly client_ip?: string | undefined;
    readonly result: 'applied' | 'unchanged' | 'failed';
    readonly old_sha256: string;
    readonly new_sha256?: string | undefined;
    readonly error?: string | undefined;
  }
  | {
    readonly event: 'jwt_rejected';
    readonly reason_code: string;
    readonly method: string;
    readonly path: string;
    readonly remote_addr: string;
  };

export interface AuditLogOptions {
  /** `stdout` or a file path. */
  readonly destination: string;
  /** Rotate a file past this many bytes (0: never; rely on reopen). */
  readonly maxSizeBytes: number;
  /** Include enforced query text, not only its hash. */
  readonly queryText: boolean;
  /** Whether this process renames the file when it is too big (one process of a gateway). */
  readonly rotates: boolean;
}

/** At most this many bytes wait in memory for the disk; more are dropped and counted. */
const BUFFER_MAX = 4 * 1024 * 1024;
/** How often a file's size and identity are checked for rotation. */
const CHECK_MS = 1_000;

export class AuditLog {
  readonly queryText: boolean;
  readonly #opts: AuditLogOptions;
  readonly #out: SonicBoom;
  readonly #timer: NodeJS.Timeout | null;
  dropped = 0;
  written = 0;

  constructor(opts: AuditLogOptions) {
    this.#opts = opts;
    this.queryText = opts.queryText;
    const toStdout = opts.destination === 'stdout';
    this.#out = toStdout
      ? new SonicBoomClass({ fd: 1, sync: false, maxLength: BUFFER_MAX })
      : new SonicBoomClass({ dest: opts.destination, append: true, mkdir: true, sync: false, maxLength: BUFFER_MAX });
    this.#out.on('drop', (data: string) => { this.dropped += countLines(data); });
    this.#out.on('error', () => { /* counted as drops by the next failed write; never crash a request */ });
    this.#timer = toStdout ? null : setInterval(() => this.#checkRotation(), CHECK_MS);
    this.#timer?.unref();
  }

  record(e: AuditEvent): void {
    this.written++;
    this.#out.write(JSON.stringify({ ts: new Date().toISOString(), ...e }) + '\n');
  }

  /** Re-opens the file (after logrotate moved it). */
  reopen(): void {
    if (this.#opts.destination === 'stdout') return;
    try { this.#out.reopen(); } catch { /* the directory may be gone; writes will drop */ }
  }

  close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    return new Promise((resolve) => {
      const out = this.#out;
      const done = () => resolve();
      out.once('close', done);
      out.once('error', done);
      try { out.end(); } catch { resolve(); }
    });
  }

  #checkRotation(): void {
    const path = this.#opts.destination;
    let onDisk: { ino: number; size: number };
    let held: { ino: number };
    try {
      onDisk = statSync(path);
      held = fstatSync((this.#out as unknown as { fd: number }).fd);
    } catch {
      this.reopen();
      return;
    }
    if (onDisk.ino !== held.ino) { this.reopen(); return; }
    if (this.#opts.rotates && this.#opts.maxSizeBytes > 0 && onDisk.size > this.#opts.maxSizeBytes) {
      try { renameSync(path, `${path}.1`); } catch { return; }
      this.reopen();
    }
  }
}

/** SHA-256 of what enforcement produced, so two identical enforced queries compare equal. */
export function enforcedDigest(rawQuery: string, body: Buffer | null): string {
  const h = createHash('sha256').update(rawQuery);
  // A write body (up to tenant.max_body_size) is not hashed on the event loop for an audit line:
  // only bodies the size of a query form are; a larger one contributes its length.
  if (body !== null) h.update('\n').update(body.length <= AUDITED_BODY_MAX ? body : `body of ${body.length} bytes`);
  return h.digest('hex');
}

/** Bodies up to this size (the default tenant.bounds.max_read_body_size) are read for the audit line. */
const AUDITED_BODY_MAX = 256 * 1024;

/** The query-language arguments of an enforced request (`query`, `match[]`, …), decoded. */
export function enforcedQueries(rawQuery: string, body: Buffer | null): string[] {
  const out: string[] = [];
  const take = (s: string) => {
    for (const [k, v] of new URLSearchParams(s)) if (QUERY_ARGS.has(k)) out.push(`${k}=${v}`);
  };
  take(rawQuery);
  if (body !== null && body.length <= AUDITED_BODY_MAX) take(body.toString('utf8'));
  return out;
}

const QUERY_ARGS = new Set(['query', 'match[]', 'extra_label', 'extra_filters', 'extra_filters[]', 'filter']);

function countLines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}
