// The background half of the Alertmanager guard: reads the configuration of every Alertmanager a
// tenant route can post alerts to (GET <url_prefix>/api/v2/status, `config.original`) at start,
// after every config swap, and every -tenant.alertmanagerCheckInterval, and records it in the
// guard that tenant policies consult. Unsafe or unreadable configurations are logged loudly and
// exported as tenantgate_alertmanager_unsafe_config{backend=…} 1.
import { request, type Dispatcher } from 'undici';
import type { CompiledConfig, CompiledUser, RouteOptions } from '../../config/model.ts';
import type { Logger } from '../../observe/logger.ts';
import { labelString, type Metrics } from '../../observe/metrics.ts';
import { buildTargetPath } from '../../route/target-url.ts';
import { CompiledTenantPolicy } from '../tenant/compile.ts';
import { alertmanagerGuard, labelSetKey, type AlertmanagerGuard, type BackendStatus } from './guard.ts';
import { formatConfigPath } from './lint.ts';
import { parseAlertmanagerYaml } from './lint-yaml.ts';

/** The largest /api/v2/status answer read (it embeds the whole configuration). */
export const MAX_STATUS_BYTES = 16 * 1024 * 1024;
/** How often the watcher looks for a swapped config and for backends due; reads follow their own schedule. */
const SWAP_POLL_MS = 1000;
/** An unreadable status is read again this soon (or at the interval, if shorter); also the least time between reads an alert post can ask for. */
const UNREAD_RETRY_MS = 5000;

export interface AlertmanagerWatchOptions {
  readonly config: () => CompiledConfig;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly guard?: AlertmanagerGuard;
}

interface StatusRequest {
  readonly key: string;
  readonly url: string;
  readonly dispatcher: Dispatcher;
  readonly headers: Record<string, string>;
  /** Set when the status cannot be requested at all. */
  readonly impossible: string | null;
}

/** Whether a client could post alerts through this url_map entry or fallback. */
function mayCarryAlertPosts(route: RouteOptions & { srcPaths?: readonly { test(v: string): boolean }[] }): boolean {
  if (route.dropSrcPathPrefixParts > 0 || route.srcPaths === undefined || route.srcPaths.length === 0) return true;
  return route.srcPaths.some((m) => m.test('/api/v2/alerts'));
}

/** The routes of a user that alert posts can reach, in matching order. */
function alertRoutes(user: CompiledUser): RouteOptions[] {
  const out: RouteOptions[] = [];
  for (const r of user.routes) {
    if (!mayCarryAlertPosts(r)) continue;
    out.push(r);
    // Matched by path alone: later entries and the fallback never see an alert post.
    if (r.srcPaths.length > 0 && r.srcHosts.length === 0 && r.srcQueryArgs.length === 0 && r.srcHeaders.length === 0 && r.dropSrcPathPrefixParts === 0) return out;
  }
  if (user.fallback !== null) out.push(user.fallback);
  if (user.defaultUrl !== null) out.push(user.defaultUrl);
  return out;
}

function statusRequests(route: RouteOptions): StatusRequest[] {
  return route.backends.backends.map((b) => {
    const t = b.target;
    const withQuery = buildTargetPath(t, { path: '/api/v2/status', rawQuery: '' }, 0, route.mergeQueryArgs);
    const q = withQuery.indexOf('?');
    const key = t.origin + (q < 0 ? withQuery : withQuery.slice(0, q));
    const headers: Record<string, string> = {};
    for (const h of route.requestHeaders) if (h.value !== '') headers[h.lower] = h.value;
    if (route.hostOverride !== null) headers.host = route.hostOverride;
    const impossible = t.template !== null && t.template.hasPlaceholders
      ? 'url_prefix has JWT placeholders, so the Alertmanager behind it is known only per request'
      : null;
    return { key: impossible === null ? key : `${t.display} (placeholders)`, url: t.origin + withQuery, dispatcher: b.dispatcher, headers, impossible };
  });
}

async function readStatus(r: StatusRequest, timeoutMs: number): Promise<BackendStatus> {
  if (r.impossible !== null) return { kind: 'unread', error: r.impossible, answered: true };
  let text: string;
  try {
    const res = await request(r.url, { method: 'GET', dispatcher: r.dispatcher, headers: { accept: 'application/json', ...r.headers }, signal: AbortSignal.timeout(timeoutMs) });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return { kind: 'unread', error: `GET /api/v2/status answered ${res.statusCode}${res.statusCode === 404 ? ' (not an Alertmanager?)' : ''}`, answered: res.statusCode >= 400 && res.statusCode < 500 };
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of res.body as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > MAX_STATUS_BYTES) {
        res.body.destroy();
        return { kind: 'unread', error: `GET /api/v2/status answered more than ${MAX_STATUS_BYTES} bytes`, answered: false };
      }
      chunks.push(c);
    }
    text = Buffer.concat(chunks, size).toString('utf8');
  } catch (err) {
    return { kind: 'unread', error: `GET /api/v2/status failed: ${(err as Error).message}`, answered: false };
  }
  let original: unknown;
  try {
    original = (JSON.parse(text) as { config?: { original?: unknown } }).config?.original;
  } catch {
    return { kind: 'unread', error: 'GET /api/v2/status did not answer JSON (not an Alertmanager?)', answered: true };
  }
  if (typeof original !== 'string') return { kind: 'unread', error: 'GET /api/v2/status has no config.original (not an Alertmanager?)', answered: true };
  const parsed = parseAlertmanagerYaml(original);
  if (!parsed.ok) return { kind: 'unread', error: `config.original is not valid YAML: ${parsed.error}`, answered: false };
  return { kind: 'read', config: parsed.config };
}

export class AlertmanagerWatch {
  readonly #opts: AlertmanagerWatchOptions;
  readonly #guard: AlertmanagerGuard;
  /** The config whose routes are registered in the guard. */
  #adopted: CompiledConfig | null = null;
  #requests = new Map<string, StatusRequest>();
  /** Per backend: label sets to lint for, from the configured tenants. */
  #labelSets = new Map<string, Set<string>>();
  /** Per backend: when to read its status next (Infinity: only when an alert post asks). */
  readonly #due = new Map<string, number>();
  readonly #lastRead = new Map<string, number>();
  #sweeping: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  /** Last verdict logged per backend, so each change is logged once. */
  readonly #logged = new Map<string, string>();
  /** Resolves after the first read of every backend. */
  readonly ready: Promise<void>;

  constructor(opts: AlertmanagerWatchOptions) {
    this.#opts = opts;
    this.#guard = opts.guard ?? alertmanagerGuard;
    // A policy of a config swapped in since the last look is registered on its first alert post.
    this.#guard.onUnknownPolicy = () => this.adopt();
    this.#guard.onUnread = (key) => this.#demand(key);
    this.ready = this.sweep();
    this.#timer = setInterval(() => this.#tick(), Math.min(SWAP_POLL_MS, opts.intervalMs));
    this.#timer.unref();
  }

  #tick(): void {
    if (this.#sweeping !== null) return;
    if (this.#opts.config() !== this.#adopted) this.adopt();
    const now = Date.now();
    if ([...this.#due.values()].some((t) => t <= now)) void this.sweep();
  }

  /**
   * A refused alert post asks for a backend that is not (yet) readable to be read again: one
   * that did not look like an Alertmanager is otherwise only read again on a config swap.
   */
  #demand(key: string): void {
    if (!this.#requests.has(key)) return;
    const last = this.#lastRead.get(key) ?? 0;
    this.#due.set(key, Math.min(this.#due.get(key) ?? Infinity, last + Math.min(UNREAD_RETRY_MS, this.#opts.intervalMs)));
  }

  /** Registers the current config's tenant routes and their Alertmanager backends in the guard (synchronous, no I/O). */
  adopt(): void {
    const config = this.#opts.config();
    if (config === this.#adopted) return;
    const requests = new Map<string, StatusRequest>();
    const labelSets = new Map<string, Set<string>>();
    const users = [...config.users, ...(config.unauthorizedUser !== null ? [config.unauthorizedUser] : []), ...(config.jwt?.users.values() ?? [])];
    for (const user of users) {
      for (const route of alertRoutes(user)) {
        const policy = route.tenant;
        if (!(policy instanceof CompiledTenantPolicy) || policy.config.enforce !== 'promql') continue;
        const reqs = statusRequests(route);
        for (const r of reqs) {
          if (!requests.has(r.key)) requests.set(r.key, r);
          let sets = labelSets.get(r.key);
          if (sets === undefined) { sets = new Set(); labelSets.set(r.key, sets); }
          if (policy.config.labels.size > 0) sets.add(labelSetKey(policy.config.labels.keys()));
        }
        this.#guard.watch(policy, reqs.map((r) => r.key));
      }
    }
    for (const [key, sets] of labelSets) this.#guard.labelSets(key, sets);
    const keys = new Set(requests.keys());
    this.#guard.retain(keys);
    for (const map of [this.#logged, this.#due, this.#lastRead]) for (const key of map.keys()) if (!keys.has(key)) map.delete(key);
    // A new config is checked at once, every backend of it.
    for (const key of keys) this.#due.set(key, 0);
    this.#requests = requests;
    this.#labelSets = labelSets;
    this.#adopted = config;
  }

  /** Reads the status of every backend that is due (all of them after a config swap); one sweep at a time. */
  sweep(): Promise<void> {
    if (this.#sweeping !== null) return this.#sweeping;
    this.#sweeping = this.#sweep().finally(() => { this.#sweeping = null; });
    return this.#sweeping;
  }

  async #sweep(): Promise<void> {
    this.adopt();
    const now = Date.now();
    const due = [...this.#requests.values()].filter((r) => (this.#due.get(r.key) ?? 0) <= now);
    for (const r of due) this.#due.set(r.key, Infinity);
    await Promise.all(due.map(async (r) => {
      const status = await readStatus(r, this.#opts.timeoutMs);
      if (this.#requests.get(r.key) !== r) return; // a newer config replaced it meanwhile
      this.#lastRead.set(r.key, Date.now());
      this.#guard.record(r.key, status);
      // Unreachable or failing: again soon. Answered, but not with an Alertmanager status (e.g. the
      // Prometheus of a route that also serves queries, 404): again only when an alert post
      // through it asks, or on a config swap, so such backends are not polled.
      const next = status.kind === 'read' ? this.#opts.intervalMs : status.answered ? Infinity : Math.min(UNREAD_RETRY_MS, this.#opts.intervalMs);
      this.#due.set(r.key, Math.min(this.#due.get(r.key) ?? Infinity, Date.now() + next));
      this.#report(r.key, status);
    }));
  }

  #report(key: string, status: BackendStatus): void {
    const { log, metrics } = this.#opts;
    let verdict: string;
    if (status.kind === 'unread') {
      verdict = `cannot read the Alertmanager configuration at ${key}: ${status.error}; tenant alert posts to it are refused until it can be read`;
    } else {
      const sets = [...(this.#labelSets.get(key) ?? [])];
      const problems: string[] = [];
      if (sets.length > 1) problems.push(`its tenants are told apart by different label names (${sets.map((s) => `[${s}]`).join(' vs ')}); give every tenant of one Alertmanager the same tenant label names`);
      for (const set of sets) {
        for (const f of this.#guard.findings(key, set.split(',')) ?? []) problems.push(`${formatConfigPath(f.path) || '(document)'}: ${f.message}`);
      }
      verdict = problems.length === 0 ? '' : `the Alertmanager configuration at ${key} does not keep tenants apart; tenant alert posts to it are refused until it is fixed:\n  ${[...new Set(problems)].join('\n  ')}`;
    }
    metrics.set(metricName(key), verdict === '' ? 0 : 1);
    metrics.inc(`tenantgate_alertmanager_config_checks_total{result="${status.kind === 'unread' ? 'error' : verdict === '' ? 'safe' : 'unsafe'}"}`);
    if (this.#logged.get(key) === verdict) return;
    this.#logged.set(key, verdict);
    if (verdict === '') log.info(`the Alertmanager configuration at ${key} keeps tenants apart; tenant alert posts to it are accepted`);
    else if (status.kind === 'unread' && status.answered) log.warn(verdict);
    else log.error(verdict);
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#guard.onUnknownPolicy = null;
    this.#guard.onUnread = null;
  }
}

function metricName(key: string): string {
  return `tenantgate_alertmanager_unsafe_config${labelString({ backend: key })}`;
}

/** Checks -tenant.alertmanagerCheckInterval / -tenant.alertmanagerCheckTimeout; a message when out of bounds. */
export function validateAlertmanagerWatchFlags(intervalMs: number, timeoutMs: number): string | null {
  if (intervalMs < 1000 || intervalMs > 600_000) return `invalid value for flag -tenant.alertmanagerCheckInterval: ${intervalMs / 1000}s; must be between 1s and 10m`;
  if (timeoutMs < 100 || timeoutMs > 60_000) return `invalid value for flag -tenant.alertmanagerCheckTimeout: ${timeoutMs / 1000}s; must be between 100ms and 1m`;
  return null;
}

export function startAlertmanagerWatch(opts: AlertmanagerWatchOptions): AlertmanagerWatch {
  return new AlertmanagerWatch(opts);
}
