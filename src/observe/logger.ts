// Process logger. The default format follows VictoriaMetrics' text lines
// (`<ts>\t<level>\t<caller>\t<message>`) so existing log pipelines keep parsing them;
// `-loggerFormat=json` writes one JSON object per line. Writes are synchronous: log lines are
// rare off the hot path, and a crash must not lose the line that explains it.
import { writeSync } from 'node:fs';
import { redactUrlsIn } from './secrets.ts';

export type LogLevel = 'info' | 'warn' | 'error' | 'fatal';
const RANK: Record<LogLevel, number> = { info: 0, warn: 1, error: 2, fatal: 3 };

export interface LoggerOptions {
  readonly level: string;
  readonly format: string;
  readonly output: string;
  readonly disableTimestamps: boolean;
  /** -loggerErrorsPerSecondLimit / -loggerWarnsPerSecondLimit; 0 means unlimited. */
  readonly errorsPerSecond?: number;
  readonly warnsPerSecond?: number;
  /** Where lines go instead of stdout/stderr (tests). */
  readonly sink?: (line: string) => void;
}

export class Logger {
  readonly #min: number;
  readonly #json: boolean;
  readonly #fd: number;
  readonly #ts: boolean;
  /** Lines written per level, for vm_log_messages_total. */
  readonly counts: Record<LogLevel, number> = { info: 0, warn: 0, error: 0, fatal: 0 };
  readonly #limits: Partial<Record<LogLevel, number>>;
  readonly #sink: ((line: string) => void) | undefined;
  readonly #window: Record<LogLevel, { second: number; used: number; dropped: number }> = {
    info: { second: 0, used: 0, dropped: 0 }, warn: { second: 0, used: 0, dropped: 0 }, error: { second: 0, used: 0, dropped: 0 }, fatal: { second: 0, used: 0, dropped: 0 },
  };

  constructor(opts: LoggerOptions) {
    const lvl = opts.level.toLowerCase();
    const map: Record<string, LogLevel> = { info: 'info', warn: 'warn', error: 'error', fatal: 'fatal', panic: 'fatal' };
    const level = map[lvl];
    if (level === undefined) throw new Error(`invalid -loggerLevel=${JSON.stringify(opts.level)}; expected INFO, WARN, ERROR, FATAL or PANIC`);
    if (opts.format !== 'default' && opts.format !== 'json') throw new Error(`invalid -loggerFormat=${JSON.stringify(opts.format)}; expected default or json`);
    if (opts.output !== 'stderr' && opts.output !== 'stdout') throw new Error(`invalid -loggerOutput=${JSON.stringify(opts.output)}; expected stderr or stdout`);
    this.#min = RANK[level];
    this.#json = opts.format === 'json';
    this.#fd = opts.output === 'stdout' ? 1 : 2;
    this.#ts = !opts.disableTimestamps;
    this.#limits = { error: opts.errorsPerSecond ?? 0, warn: opts.warnsPerSecond ?? 0 };
    this.#sink = opts.sink;
  }

  /** Per-second budget for warnings and errors, so a flood of bad requests cannot flood the log. */
  #allowed(level: LogLevel): boolean {
    const limit = this.#limits[level] ?? 0;
    if (limit <= 0) return true;
    const w = this.#window[level];
    const second = Math.floor(Date.now() / 1000);
    if (second !== w.second) {
      const dropped = w.dropped;
      w.second = second; w.used = 0; w.dropped = 0;
      if (dropped > 0) this.#write(level, `suppressed ${dropped} ${level} messages in the previous second because of -logger${level === 'error' ? 'Errors' : 'Warns'}PerSecondLimit=${limit}`);
    }
    if (w.used >= limit) { w.dropped++; return false; }
    w.used++;
    return true;
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.#min;
  }

  log(level: LogLevel, msg: string, fields?: Readonly<Record<string, unknown>>): void {
    if (RANK[level] < this.#min) return;
    this.counts[level]++;
    if (!this.#allowed(level)) return;
    this.#write(level, msg, fields);
  }

  #write(level: LogLevel, rawMsg: string, rawFields?: Readonly<Record<string, unknown>>): void {
    // Last line of defence: a URL anywhere in a message (a config URL, a backend URL in an
    // error) never shows its password or secret query args.
    const msg = redactUrlsIn(rawMsg);
    const fields = rawFields === undefined ? undefined : redactFields(rawFields);
    let line: string;
    if (this.#json) {
      line = JSON.stringify({ ...(this.#ts ? { ts: new Date().toISOString() } : {}), level, caller: 'tenantgate', msg, ...fields });
    } else {
      const extra = fields ? ' ' + logfmt(fields) : '';
      line = `${this.#ts ? new Date().toISOString() + '\t' : ''}${level}\ttenantgate\t${msg}${extra}`;
    }
    if (this.#sink !== undefined) { this.#sink(line); return; }
    try { writeSync(this.#fd, line + '\n'); } catch { /* the log sink is gone; nothing better to do */ }
  }

  info(msg: string, fields?: Readonly<Record<string, unknown>>): void { this.log('info', msg, fields); }
  warn(msg: string, fields?: Readonly<Record<string, unknown>>): void { this.log('warn', msg, fields); }
  error(msg: string, fields?: Readonly<Record<string, unknown>>): void { this.log('error', msg, fields); }
}

function redactFields(fields: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = typeof v === 'string' && v.includes('://') ? redactUrlsIn(v) : v;
  return out;
}

/** `key="value" key2=3` with Go %q-style quoting for strings. */
export function logfmt(fields: Readonly<Record<string, unknown>>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(fields)) {
    parts.push(`${k}=${typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(String(v ?? ''))}`);
  }
  return parts.join(' ');
}
