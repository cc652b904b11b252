// A `url_prefix` / `default_url` list: its backends, their health, and vmauth's load balancing
// policies. This is the one piece of the compiled config with runtime state (in-flight counts,
// "broken until" times, discovered addresses), which is why it lives here rather than in the
// frozen config model.
import type { Dispatcher } from 'undici';
import type { QueryValues } from '../lib/go-url.ts';
import type { CompiledUrlPrefix } from '../identify/jwt/index.ts';
import type { Probe } from './health-probe.ts';

export type LoadBalancingPolicy = 'least_loaded' | 'first_available';

export interface BackendTarget {
  /** `http://host:port` */
  readonly origin: string;
  /** The Host header vmauth sends by default (the URL's host[:port]). */
  readonly host: string;
  /** Decoded path of the URL prefix (Go's url.URL.Path). */
  readonly basePath: string;
  /** Raw query of the URL prefix, sent as-is when the client sends no query args. */
  readonly rawQuery: string;
  readonly query: QueryValues;
  /** The prefix as written in the config, for messages. */
  readonly display: string;
  /** For JWT users: the url_prefix with `{{.Placeholders}}`, rendered per request from vm_access. */
  readonly template: CompiledUrlPrefix | null;
}

export class Backend {
  readonly target: BackendTarget;
  readonly dispatcher: Dispatcher;
  inFlight = 0;
  /** 0 = healthy; otherwise skipped until then, and afterwards until a health probe succeeds. */
  brokenUntil = 0;
  probing = false;
  /** Why the backend was last taken out of rotation, and when (epoch ms), for the status page. */
  lastError = '';
  lastErrorAt = 0;
  /** The health probe scheduled for when -failTimeout has passed, or null. */
  probeTimer: NodeJS.Timeout | null = null;
  /** Dropped from its set (re-discovery, retired config): its pool lease goes back once idle. */
  retired = false;
  readonly #releasePool: (() => void) | null;

  constructor(target: BackendTarget, dispatcher: Dispatcher, releasePool: (() => void) | null = null) {
    this.target = target;
    this.dispatcher = dispatcher;
    this.#releasePool = releasePool;
  }

  retire(): void {
    this.retired = true;
    this.releaseIfIdle();
  }

  releaseIfIdle(): void {
    if (this.retired && this.inFlight === 0) this.#releasePool?.();
  }
}

/** Where a discovering set gets its current backends from (see discovery.ts). */
export interface BackendSource {
  /** Whether a re-resolution is due at `now` (and, if so, claims it). */
  claimRefresh(now: number): boolean;
  /** The backends to balance over, reusing objects of `current` whose address did not change; null = unchanged. */
  refresh(current: readonly Backend[]): Promise<readonly Backend[] | null>;
}

export interface BackendSetOptions {
  /** Confirms a broken backend is reachable before it gets traffic again; null = plain -failTimeout deadline. */
  readonly probe?: Probe | null;
  readonly source?: BackendSource | null;
}

export class BackendSet {
  readonly policy: LoadBalancingPolicy;
  readonly retryStatusCodes: ReadonlySet<number>;
  readonly failTimeoutMs: number;
  #backends: readonly Backend[];
  #next = 0;
  readonly #probe: Probe | null;
  readonly #source: BackendSource | null;
  #refreshing: Promise<void> | null = null;
  #retired = false;

  constructor(backends: readonly Backend[], policy: LoadBalancingPolicy, retryStatusCodes: ReadonlySet<number>, failTimeoutMs: number, opts: BackendSetOptions = {}) {
    if (backends.length === 0) throw new Error('a backend set needs at least one backend');
    this.#backends = backends;
    this.policy = policy;
    this.retryStatusCodes = retryStatusCodes;
    this.failTimeoutMs = failTimeoutMs;
    this.#probe = opts.probe ?? null;
    this.#source = opts.source ?? null;
    if (this.#source !== null) void this.refresh().catch(() => {});
  }

  /** The current backends. With discovery the list is replaced as DNS changes; requests keep the Backend they hold. */
  get backends(): readonly Backend[] { return this.#backends; }

  /**
   * Picks a backend and counts the request against it (call `release` when done).
   * Broken backends and those in `tried` (already failed for this request) are skipped; when
   * none is left the first configured one not yet tried is used anyway, as vmauth does, because
   * failing at once helps nobody.
   */
  acquire(now: number, tried?: ReadonlySet<Backend>): Backend {
    if (this.#source !== null && !this.#retired && this.#refreshing === null && this.#source.claimRefresh(now)) void this.refresh().catch(() => {});
    const list = this.#backends;
    const usable = (b: Backend) => (tried === undefined || !tried.has(b)) && this.#healthy(b, now);
    let chosen: Backend | undefined;
    if (list.length === 1) {
      chosen = list[0];
    } else if (this.policy === 'first_available') {
      chosen = list.find(usable);
    } else {
      const n = this.#next;
      let min: Backend | undefined;
      for (let i = 0; i < list.length; i++) {
        const idx = (n + i) % list.length;
        const b = list[idx] as Backend;
        if (!usable(b)) continue;
        if (b.inFlight === 0) { chosen = b; this.#next = idx + 1; break; }
        if (min === undefined || b.inFlight < min.inFlight) min = b;
      }
      if (chosen === undefined && min !== undefined) { chosen = min; this.#next = (list.indexOf(min) + 1) % list.length; }
      if (chosen === undefined) this.#next = (n + 1) % list.length;
    }
    chosen ??= (tried === undefined ? undefined : list.find((b) => !tried.has(b))) ?? (list[0] as Backend);
    chosen.inFlight++;
    return chosen;
  }

  release(b: Backend): void {
    b.inFlight--;
    b.releaseIfIdle();
  }

  markBroken(b: Backend, now: number, why = ''): void {
    b.brokenUntil = now + this.failTimeoutMs;
    b.lastErrorAt = now;
    b.lastError = why;
    this.#scheduleProbe(b);
  }

  /**
   * As vmauth's health check: a broken backend is probed once -failTimeout has passed, whether
   * or not requests arrive, so a recovered first backend gets the next request (first_available)
   * instead of the request that happened to notice the deadline.
   */
  #scheduleProbe(b: Backend): void {
    if (this.#probe === null || this.#retired || b.retired) return;
    if (b.probeTimer !== null) clearTimeout(b.probeTimer);
    b.probeTimer = setTimeout(() => { b.probeTimer = null; this.#startProbe(b); }, this.failTimeoutMs);
    b.probeTimer.unref();
  }

  #startProbe(b: Backend): void {
    const probe = this.#probe;
    if (probe === null || b.probing || b.brokenUntil === 0 || this.#retired || b.retired) return;
    b.probing = true;
    const until = b.brokenUntil;
    void probe(b.target.origin).then((ok) => {
      b.probing = false;
      // A failure reported while probing keeps its own, later deadline.
      if (b.brokenUntil !== until) return;
      if (ok) { b.brokenUntil = 0; return; }
      b.brokenUntil = Date.now() + this.failTimeoutMs;
      this.#scheduleProbe(b);
    });
  }

  /** Healthy, or broken past -failTimeout and confirmed reachable by a probe. */
  #healthy(b: Backend, now: number): boolean {
    if (b.brokenUntil === 0) return true;
    if (b.brokenUntil > now) return false;
    if (this.#probe === null) { b.brokenUntil = 0; return true; }
    this.#startProbe(b);
    return false;
  }

  /** Re-resolves discovered backends now; resolves when the new list is in place. */
  refresh(): Promise<void> {
    const source = this.#source;
    if (source === null || this.#retired) return Promise.resolve();
    this.#refreshing ??= (async () => {
      try {
        const next = await source.refresh(this.#backends);
        if (next === null || next.length === 0 || this.#retired) return;
        const kept = new Set(next);
        const prev = this.#backends;
        this.#backends = next;
        for (const b of prev) if (!kept.has(b)) b.retire();
      } finally {
        this.#refreshing = null;
      }
    })();
    return this.#refreshing;
  }

  /** The config snapshot holding this set was replaced: stop discovery, give pools back once idle. */
  retire(): void {
    this.#retired = true;
    for (const b of this.#backends) {
      if (b.probeTimer !== null) { clearTimeout(b.probeTimer); b.probeTimer = null; }
      b.retire();
    }
  }
}
