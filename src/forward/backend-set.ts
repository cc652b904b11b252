// A `url_prefix` / `default_url` list: its backends, their health, and vmauth's load balancing
// policies. This is the one piece of the compiled config with runtime state (in-flight counts and
// "broken until" times), which is why it lives here rather than in the frozen config model.
import type { Dispatcher } from 'undici';
import type { QueryValues } from '../lib/go-url.ts';
import type { CompiledUrlPrefix } from '../identify/jwt/index.ts';

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
  brokenUntil = 0;
  constructor(target: BackendTarget, dispatcher: Dispatcher) {
    this.target = target;
    this.dispatcher = dispatcher;
  }
  isBroken(now: number): boolean {
    return this.brokenUntil > now;
  }
}

export class BackendSet {
  readonly backends: readonly Backend[];
  readonly policy: LoadBalancingPolicy;
  readonly retryStatusCodes: ReadonlySet<number>;
  readonly failTimeoutMs: number;
  #next = 0;

  constructor(backends: readonly Backend[], policy: LoadBalancingPolicy, retryStatusCodes: ReadonlySet<number>, failTimeoutMs: number) {
    this.backends = backends;
    this.policy = policy;
    this.retryStatusCodes = retryStatusCodes;
    this.failTimeoutMs = failTimeoutMs;
  }

  /**
   * Picks a backend and counts the request against it (call `release` when done).
   * Broken backends are skipped; when all are broken the first one is tried anyway, as vmauth
   * does, because failing at once helps nobody.
   */
  acquire(now: number): Backend {
    const list = this.backends;
    const first = list[0] as Backend;
    let chosen: Backend | undefined;
    if (list.length === 1) {
      chosen = first;
    } else if (this.policy === 'first_available') {
      chosen = list.find((b) => !b.isBroken(now)) ?? first;
    } else {
      const n = this.#next++;
      if (this.#next > 0x3fffffff) this.#next = 0;
      let min: Backend | undefined;
      for (let i = 0; i < list.length; i++) {
        const b = list[(n + i) % list.length] as Backend;
        if (b.isBroken(now)) continue;
        if (b.inFlight === 0) { chosen = b; break; }
        if (min === undefined || b.inFlight < min.inFlight) min = b;
      }
      chosen ??= min ?? first;
    }
    chosen.inFlight++;
    return chosen;
  }

  release(b: Backend): void {
    b.inFlight--;
  }

  markBroken(b: Backend, now: number): void {
    b.brokenUntil = now + this.failTimeoutMs;
  }
}
