// What the gateway knows about the Alertmanagers behind tenant routes: for each route's tenant
// policy, the Alertmanager backends it forwards to, and for each backend the last configuration
// read from it (or why none could be read). The background watcher (watch.ts) writes it; the
// tenant policy reads it synchronously for every alert post. Unknown means refused: a route
// nobody has checked yet, a backend whose status could not be read, a config that is unsafe.
import { formatConfigPath, lintAlertmanagerConfig, type LintFinding } from './lint.ts';

export type BackendStatus =
  /** answered: the backend answered, but not with an Alertmanager status (a 4xx, not JSON, no config). */
  | { readonly kind: 'unread'; readonly error: string; readonly answered: boolean }
  | { readonly kind: 'read'; readonly config: unknown };

export interface GuardRefusal {
  readonly status: number;
  readonly reason: 'tenant_alertmanager_unsafe' | 'tenant_alertmanager_unchecked';
  readonly message: string;
}

/** Findings per tenant label set, computed once per configuration read. */
interface Read {
  readonly status: BackendStatus;
  readonly lint: Map<string, readonly LintFinding[]>;
}

/** What a client is told about a finding: where, and what kind; never another tenant's values. */
const KIND_TEXT: Record<LintFinding['kind'], string> = {
  inhibit_rule: 'an inhibit rule does not keep tenants apart (the tenant labels must be in equal)',
  route: 'a route can receive alerts of several tenants (it must pin the tenant labels with equality matchers)',
  group_by: 'group_by can put several tenants\' alerts into one notification (it must include the tenant labels)',
  invalid: 'the configuration cannot be read',
};

export function describeFinding(f: LintFinding): string {
  return `${formatConfigPath(f.path) || '(document)'}: ${KIND_TEXT[f.kind]}`;
}

export function labelSetKey(labels: Iterable<string>): string {
  return [...new Set(labels)].sort().join(',');
}

export class AlertmanagerGuard {
  /**
   * Called when a policy nobody registered asks (a config swapped in since the watcher last
   * looked); the watcher registers the current config's routes, synchronously.
   */
  onUnknownPolicy: (() => void) | null = null;
  /** Called when an alert post is refused because a backend's status is unread: the watcher may read it again sooner. */
  onUnread: ((statusUrl: string) => void) | null = null;
  /** Per tenant policy: the Alertmanager status URLs of its route's backends. */
  #routes = new WeakMap<object, readonly string[]>();
  readonly #backends = new Map<string, Read>();
  /** Per backend: the tenant label-name sets (sorted, joined) of the configured tenants using it. */
  readonly #labelSets = new Map<string, ReadonlySet<string>>();

  /** Records which backends a policy forwards alert posts to (replacing what was recorded). */
  watch(policy: object, statusUrls: readonly string[]): void {
    this.#routes.set(policy, [...statusUrls]);
  }

  /**
   * Records the tenant label names of the configured tenants using a backend. Tenants told apart
   * by different label names cannot be kept apart: each could set the labels it is not pinned to
   * on its own alerts, including another tenant's value.
   */
  labelSets(statusUrl: string, keys: ReadonlySet<string>): void {
    this.#labelSets.set(statusUrl, keys);
  }

  record(statusUrl: string, status: BackendStatus): void {
    this.#backends.set(statusUrl, { status, lint: new Map() });
  }

  /** Drops backends no route uses any more. */
  retain(statusUrls: ReadonlySet<string>): void {
    for (const url of this.#backends.keys()) if (!statusUrls.has(url)) this.#backends.delete(url);
    for (const url of this.#labelSets.keys()) if (!statusUrls.has(url)) this.#labelSets.delete(url);
  }

  status(statusUrl: string): BackendStatus | undefined {
    return this.#backends.get(statusUrl)?.status;
  }

  findings(statusUrl: string, tenantLabels: readonly string[]): readonly LintFinding[] | null {
    const read = this.#backends.get(statusUrl);
    if (read === undefined || read.status.kind !== 'read') return null;
    const key = labelSetKey(tenantLabels);
    let f = read.lint.get(key);
    if (f === undefined) {
      f = lintAlertmanagerConfig(read.status.config, tenantLabels);
      read.lint.set(key, f);
    }
    return f;
  }

  /** Why an alert post through this policy must be refused, or null when every backend is safe for these labels. */
  refusal(policy: object, tenantLabels: readonly string[]): GuardRefusal | null {
    let urls = this.#routes.get(policy);
    if (urls === undefined && this.onUnknownPolicy !== null) {
      this.onUnknownPolicy();
      urls = this.#routes.get(policy);
    }
    if (urls === undefined || urls.length === 0) {
      return { status: 503, reason: 'tenant_alertmanager_unchecked', message: 'alert posts are refused until tenantgate has read the Alertmanager configuration of this route and found it safe for tenants; retry shortly' };
    }
    for (const url of urls) {
      const read = this.#backends.get(url);
      if (read === undefined || read.status.kind === 'unread') {
        this.onUnread?.(url);
        return { status: 503, reason: 'tenant_alertmanager_unchecked', message: 'alert posts are refused: tenantgate cannot read the Alertmanager configuration (GET /api/v2/status) to check that it keeps tenants apart; ask the operator to check the gateway log' };
      }
      const sets = this.#labelSets.get(url);
      if (sets !== undefined && sets.size > 0 && (sets.size > 1 || !sets.has(labelSetKey(tenantLabels)))) {
        return { status: 403, reason: 'tenant_alertmanager_unsafe', message: 'alert posts are refused: the tenants sharing this Alertmanager are told apart by different tenant label names, so one tenant could set another\'s label on its alerts; ask the operator to give every tenant of one Alertmanager the same tenant label names' };
      }
      const f = this.findings(url, tenantLabels)!;
      if (f.length > 0) {
        const more = f.length > 1 ? ` (and ${f.length - 1} more)` : '';
        return { status: 403, reason: 'tenant_alertmanager_unsafe', message: `alert posts are refused: the Alertmanager configuration lets one tenant's alerts act on another's: ${describeFinding(f[0]!)}${more}; ask the operator to fix it (tenantgate check alertmanager)` };
      }
    }
    return null;
  }
}

/** The process's guard: the watcher writes it, every tenant policy reads it. */
export const alertmanagerGuard = new AlertmanagerGuard();
