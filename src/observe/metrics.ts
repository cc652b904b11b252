// /metrics in Prometheus text format with vmauth's metric names, so the vmauth Grafana dashboard
// and alerts keep working. Per-user and per-reason counters are plain numbers bumped on the hot
// path and rendered only when scraped; process and Node runtime metrics come from prom-client.
import { availableParallelism } from 'node:os';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { mergeSnapshots, summarySnapshotLines, type MetricsSnapshot, type StatsSnapshot } from './metrics-snapshot.ts';
import { WindowSummary } from './window-summary.ts';

/** What a cluster worker learns from the primary for one scrape. */
export interface ClusterScrape {
  /** One snapshot per worker that answered in time. */
  readonly snapshots: readonly MetricsSnapshot[];
  /** Series only the primary knows (worker count, restarts). */
  readonly extraSeries: readonly (readonly [string, number])[];
}

const HELP: Record<string, string> = {
  vmauth_config_last_reload_successful: 'Whether the last config reload succeeded (1) or failed (0).',
  vmauth_config_last_reload_success_timestamp_seconds: 'Unix time of the last successful config reload.',
  vmauth_config_last_reload_total: 'Config reload attempts.',
  vmauth_config_last_reload_errors_total: 'Failed config reload attempts.',
  vmauth_concurrent_requests_limit_reached_total: 'Requests refused because -maxConcurrentRequests was reached.',
  vmauth_http_requests_total: 'Requests to built-in endpoints.',
  tenantgate_workers: 'Worker processes configured by -workers.',
  tenantgate_workers_scraped: 'Worker processes whose numbers this scrape includes.',
  tenantgate_worker_restarts_total: 'Worker processes restarted after they exited unexpectedly.',
  tenantgate_worker_requests_total: 'Requests accepted for a user, per worker process.',
  tenantgate_alertmanager_unsafe_config: 'Whether the Alertmanager behind a tenant route can let tenants\' alerts meet, or cannot be read (1): tenant alert posts to it are refused.',
  tenantgate_alertmanager_config_checks_total: 'Reads of Alertmanager configurations behind tenant routes, by result (safe, unsafe, error).',
  tenantgate_user_rate_limited_total: 'Requests refused by a user\'s `limits:`, per user and limit (requests, queries, write_samples, write_bytes, concurrent_queries, store_unavailable).',
  tenantgate_ratelimit_store_connected: 'Processes whose connection to the rate-limit store is up (1 per process; summed over -workers).',
  tenantgate_ratelimit_store_errors_total: 'Rate-limit decisions the store could not make, by store and what -ratelimit.failMode did (admitted or refused).',
};

export class RequestStats {
  requests = 0;
  errors = 0;
  backendRequests = 0;
  backendErrors = 0;
  readonly duration = new WindowSummary();
  limitReached = 0;
  current = 0;
  capacity = 0;
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export function labelString(labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  return '{' + keys.map((k) => `${k}="${escapeLabel(labels[k] as string)}"`).join(',') + '}';
}

export class Metrics {
  readonly #runtime = new Registry();
  /** Keyed by rendered label set; users with equal labels share counters, as in vmauth. */
  readonly #users = new Map<string, RequestStats>();
  readonly unauthorized = new RequestStats();
  readonly #errorsByReason = new Map<string, number>();
  readonly #counters = new Map<string, number>();
  readonly #gauges = new Map<string, () => number>();
  /** vmauth_buffer_request_body_duration_seconds */
  readonly bufferBody = new WindowSummary();
  readonly #startSeconds = Math.floor(Date.now() / 1000);
  #version = '';
  #flags: () => { name: string; value: string; isSet: boolean }[] = () => [];
  hasUnauthorizedUser = false;

  /** Identity lines the vmauth dashboard reads (vm_app_version, flag{…}). */
  describeApp(version: string, flags: () => { name: string; value: string; isSet: boolean }[]): void {
    this.#version = version;
    this.#flags = flags;
  }

  constructor() {
    collectDefaultMetrics({ register: this.#runtime });
  }

  userStats(labels: Readonly<Record<string, string>>): RequestStats {
    const key = labelString(labels);
    let s = this.#users.get(key);
    if (s === undefined) { s = new RequestStats(); this.#users.set(key, s); }
    return s;
  }

  /** vmauth_http_request_errors_total{reason=…} and tenantgate_requests_denied_total{reason=…}. */
  requestError(reason: string): void {
    this.#errorsByReason.set(reason, (this.#errorsByReason.get(reason) ?? 0) + 1);
  }

  /** The current value of a counter set with inc/set (0 when never set). */
  counter(name: string): number {
    return this.#counters.get(name) ?? 0;
  }

  inc(name: string, by = 1): void {
    this.#counters.set(name, (this.#counters.get(name) ?? 0) + by);
  }

  set(name: string, value: number): void {
    this.#counters.set(name, value);
  }

  gauge(name: string, read: () => number): void {
    this.#gauges.set(name, read);
  }

  /** Where /metrics gets the numbers of every worker from (cluster mode); unset: this process only. */
  #cluster: (() => Promise<ClusterScrape>) | null = null;

  useClusterSource(source: () => Promise<ClusterScrape>): void {
    this.#cluster = source;
  }

  /** This process's numbers as plain data (for rendering, or for another process to merge). */
  snapshot(worker?: { slot: number; pid: number }): MetricsSnapshot {
    const now = Date.now();
    const stats = (s: RequestStats): StatsSnapshot => ({
      requests: s.requests, errors: s.errors, backendRequests: s.backendRequests, backendErrors: s.backendErrors,
      limitReached: s.limitReached, current: s.current, capacity: s.capacity,
      duration: { quantiles: s.duration.quantiles(now), sum: s.duration.sum, count: s.duration.count },
    });
    return {
      users: [...this.#users.entries()].map(([k, s]): [string, StatsSnapshot] => [k, stats(s)]),
      unauthorized: this.hasUnauthorizedUser ? stats(this.unauthorized) : null,
      errorsByReason: [...this.#errorsByReason.entries()],
      series: [...this.#counters.entries(), ...[...this.#gauges.entries()].map(([k, read]): [string, number] => [k, read()])],
      bufferBody: { quantiles: this.bufferBody.quantiles(now), sum: this.bufferBody.sum, count: this.bufferBody.count },
      startSeconds: this.#startSeconds,
      ...(worker !== undefined ? { worker } : {}),
    };
  }

  async render(): Promise<string> {
    let snap: MetricsSnapshot;
    if (this.#cluster === null) {
      snap = this.snapshot();
    } else {
      const scrape = await this.#cluster();
      const merged = mergeSnapshots(scrape.snapshots);
      snap = { ...merged, series: [...merged.series, ...scrape.extraSeries] };
    }
    const out: string[] = [];
    const family = (name: string, type: string, help: string, rows: readonly (readonly [string, number])[]) => {
      if (rows.length === 0) return;
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of rows) out.push(`${name}${labels} ${v}`);
    };
    const users = snap.users;
    const perUser = (pick: (s: StatsSnapshot) => number): [string, number][] => users.map(([k, s]) => [k, pick(s)]);
    family('vmauth_user_requests_total', 'counter', 'Requests served per user.', perUser((s) => s.requests));
    family('vmauth_user_request_errors_total', 'counter', 'Request errors per user.', perUser((s) => s.errors));
    family('vmauth_user_request_backend_requests_total', 'counter', 'Backend requests per user.', perUser((s) => s.backendRequests));
    family('vmauth_user_request_backend_errors_total', 'counter', 'Backend request errors per user.', perUser((s) => s.backendErrors));
    family('vmauth_user_concurrent_requests_limit_reached_total', 'counter', 'Requests refused per user because of its concurrency limit.', perUser((s) => s.limitReached));
    family('vmauth_user_concurrent_requests_capacity', 'gauge', 'Concurrency limit per user.', perUser((s) => s.capacity));
    family('vmauth_user_concurrent_requests_current', 'gauge', 'Requests in flight per user.', perUser((s) => s.current));
    if (users.length > 0) {
      out.push('# HELP vmauth_user_request_duration_seconds Request duration per user.', '# TYPE vmauth_user_request_duration_seconds summary');
      for (const [k, s] of users) out.push(...summarySnapshotLines('vmauth_user_request_duration_seconds', k, s.duration));
    }
    const u = snap.unauthorized;
    if (u !== null) {
      family('vmauth_unauthorized_user_requests_total', 'counter', 'Requests served for unauthorized_user.', [['', u.requests]]);
      family('vmauth_unauthorized_user_request_errors_total', 'counter', 'Request errors for unauthorized_user.', [['', u.errors]]);
      family('vmauth_unauthorized_user_request_backend_requests_total', 'counter', 'Backend requests for unauthorized_user.', [['', u.backendRequests]]);
      family('vmauth_unauthorized_user_request_backend_errors_total', 'counter', 'Backend request errors for unauthorized_user.', [['', u.backendErrors]]);
      family('vmauth_unauthorized_user_concurrent_requests_limit_reached_total', 'counter', 'Requests refused for unauthorized_user because of its concurrency limit.', [['', u.limitReached]]);
      family('vmauth_unauthorized_user_concurrent_requests_capacity', 'gauge', 'Concurrency limit for unauthorized_user.', [['', u.capacity]]);
      family('vmauth_unauthorized_user_concurrent_requests_current', 'gauge', 'Requests in flight for unauthorized_user.', [['', u.current]]);
      out.push('# HELP vmauth_unauthorized_user_request_duration_seconds Request duration for unauthorized_user.', '# TYPE vmauth_unauthorized_user_request_duration_seconds summary');
      out.push(...summarySnapshotLines('vmauth_unauthorized_user_request_duration_seconds', '', u.duration));
    }
    const reasons = snap.errorsByReason.map(([r, v]): [string, number] => [`{reason="${escapeLabel(r)}"}`, v]);
    family('vmauth_http_request_errors_total', 'counter', 'Requests refused or failed, by reason.', reasons);
    family('tenantgate_requests_denied_total', 'counter', 'Requests refused by tenantgate, by reason.', reasons);
    // Counters and gauges registered by series name (`name{labels}`), grouped into families.
    const families = new Map<string, [string, number][]>();
    for (const [key, v] of [...snap.series].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const brace = key.indexOf('{');
      const name = brace < 0 ? key : key.slice(0, brace);
      let rows = families.get(name);
      if (rows === undefined) { rows = []; families.set(name, rows); }
      rows.push([brace < 0 ? '' : key.slice(brace), v]);
    }
    for (const [name, rows] of families) {
      family(name, name.endsWith('_total') || name.endsWith('timestamp_seconds') ? 'counter' : 'gauge', HELP[name] ?? name.replaceAll('_', ' ') + '.', rows);
    }
    out.push('# HELP vmauth_buffer_request_body_duration_seconds Time spent reading the start of request bodies.', '# TYPE vmauth_buffer_request_body_duration_seconds summary');
    out.push(...summarySnapshotLines('vmauth_buffer_request_body_duration_seconds', '', snap.bufferBody));
    const short = this.#version.replace(/^v/, '');
    family('vm_app_version', 'gauge', 'Application version.', [[`{version="tenantgate-v${escapeLabel(short)}",short_version="v${escapeLabel(short)}"}`, 1]]);
    family('vm_app_start_timestamp', 'gauge', 'Unix time the process started.', [['', snap.startSeconds]]);
    family('process_cpu_cores_available', 'gauge', 'CPU cores available to the process.', [['', availableParallelism()]]);
    family('flag', 'gauge', 'Command-line flags (secrets masked).', this.#flags().map((f): [string, number] => [`{name="${escapeLabel(f.name)}",value="${escapeLabel(f.value)}",is_set="${f.isSet}"}`, 0]));
    out.push(await this.#runtime.metrics());
    return out.join('\n') + '\n';
  }
}
