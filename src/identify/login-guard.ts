// Failed password logins, counted so that guessing cannot burn CPU: a client address or a
// username with too many failures in a window is refused (429) before any hashing. The state is
// per process and survives config reloads; the map is bounded, the oldest entries going first.

export interface LoginGuardOptions {
  /** -auth.maxFailedLoginsPerIP: failures per client address per window; 0 disables. */
  readonly maxPerIp: number;
  /** -auth.maxFailedLoginsPerUser: failures per username per window; 0 disables. */
  readonly maxPerUser: number;
  /** -auth.failedLoginWindow */
  readonly windowMs: number;
}

export const DEFAULT_LOGIN_GUARD: LoginGuardOptions = Object.freeze({ maxPerIp: 20, maxPerUser: 20, windowMs: 60_000 });

const MAX_KEYS = 50_000;

interface Window { count: number; readonly start: number }

export class LoginGuard {
  readonly #opts: LoginGuardOptions;
  readonly #windows = new Map<string, Window>();

  constructor(opts: LoginGuardOptions) {
    this.#opts = opts;
  }

  get options(): LoginGuardOptions { return this.#opts; }

  /** Why a login from `ip` as `username` is refused without hashing, or null when it may try. */
  limited(ip: string, username: string, now = Date.now()): string | null {
    const o = this.#opts;
    if (o.maxPerIp > 0 && this.#count(`ip\0${ip}`, now) >= o.maxPerIp) {
      return `too many failed logins from this address (-auth.maxFailedLoginsPerIP=${o.maxPerIp} per -auth.failedLoginWindow=${o.windowMs / 1000}s); retry later`;
    }
    if (o.maxPerUser > 0 && this.#count(`user\0${username}`, now) >= o.maxPerUser) {
      return `too many failed logins for this username (-auth.maxFailedLoginsPerUser=${o.maxPerUser} per -auth.failedLoginWindow=${o.windowMs / 1000}s); retry later`;
    }
    return null;
  }

  /** Seconds until the windows of `ip` and `username` have both ended, for Retry-After. */
  retryAfterSeconds(ip: string, username: string, now = Date.now()): number {
    let until = now;
    for (const k of [`ip\0${ip}`, `user\0${username}`]) {
      const w = this.#windows.get(k);
      if (w !== undefined) until = Math.max(until, w.start + this.#opts.windowMs);
    }
    return Math.max(1, Math.ceil((until - now) / 1000));
  }

  recordFailure(ip: string, username: string, now = Date.now()): void {
    this.#bump(`ip\0${ip}`, now);
    this.#bump(`user\0${username}`, now);
  }

  #count(key: string, now: number): number {
    const w = this.#windows.get(key);
    if (w === undefined) return 0;
    if (now - w.start >= this.#opts.windowMs) { this.#windows.delete(key); return 0; }
    return w.count;
  }

  #bump(key: string, now: number): void {
    const w = this.#windows.get(key);
    if (w !== undefined && now - w.start < this.#opts.windowMs) { w.count++; return; }
    this.#windows.delete(key);
    if (this.#windows.size >= MAX_KEYS) this.#windows.delete(this.#windows.keys().next().value!);
    this.#windows.set(key, { count: 1, start: now });
  }
}

let guard = new LoginGuard(DEFAULT_LOGIN_GUARD);

export function configureLoginGuard(o: LoginGuardOptions): void { guard = new LoginGuard(o); }
export function loginGuard(): LoginGuard { return guard; }
