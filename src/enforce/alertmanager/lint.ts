// Does an Alertmanager configuration keep tenants apart? Tenants share one Alertmanager and are
// told apart only by their tenant labels (which the gateway stamps on every alert they post), so
// the configuration itself decides whether one tenant's alert can act on another's:
//
//   - an inhibit rule mutes a target alert when a source alert has the same values for the labels
//     in `equal`; unless every tenant label is in `equal` (or both sides pin it to one value),
//     a source alert of one tenant mutes target alerts of another;
//   - a route below the root delivers to its receiver; unless it pins every tenant label to one
//     value (itself or through its parents) it receives alerts of several tenants. The one
//     exception is a route that still delivers to the root's receiver: that receiver already gets
//     every alert no other route takes, so it must be the operator's own, never a tenant's;
//   - alerts are grouped per route by `group_by`; on a route that can receive several tenants'
//     alerts (the root, and the exception above) a group_by without every tenant label (and
//     without `...`) puts alerts of several tenants into one notification.
//
// The lint is pure: it reads a parsed configuration (the YAML file, or `config.original` from
// Alertmanager's GET /api/v2/status) and returns every finding with its path in the document.
import { MatcherSyntaxError, parseMatcherList, pinnedValue, type AmMatcher } from './matchers.ts';

export type FindingKind = 'inhibit_rule' | 'route' | 'group_by' | 'invalid';
export type ConfigPathPart = string | number;

export interface LintFinding {
  readonly kind: FindingKind;
  /** Where in the document, e.g. ['route', 'routes', 1, 'group_by']. */
  readonly path: readonly ConfigPathPart[];
  readonly message: string;
}

/** `route.routes[1].group_by` */
export function formatConfigPath(path: readonly ConfigPathPart[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

class Lint {
  readonly findings: LintFinding[] = [];
  readonly labels: readonly string[];
  constructor(labels: readonly string[]) { this.labels = labels; }

  add(kind: FindingKind, path: readonly ConfigPathPart[], message: string): void {
    this.findings.push({ kind, path, message });
  }

  /** Matchers of a route or one side of an inhibit rule, from its map and list forms. */
  matchers(node: Obj, path: readonly ConfigPathPart[], eqKey: string, reKey: string, listKey: string): AmMatcher[] {
    const out: AmMatcher[] = [];
    for (const [key, op] of [[eqKey, '='], [reKey, '=~']] as const) {
      const map = node[key];
      if (map === undefined || map === null) continue;
      if (!isObj(map)) { this.add('invalid', [...path, key], `${key} must be a mapping of label names to values`); continue; }
      for (const [name, value] of Object.entries(map)) out.push({ name, op, value: String(value) });
    }
    const list = node[listKey];
    if (list !== undefined && list !== null) {
      if (!Array.isArray(list)) {
        this.add('invalid', [...path, listKey], `${listKey} must be a list of matcher strings`);
      } else {
        list.forEach((entry, i) => {
          try {
            if (typeof entry !== 'string') throw new MatcherSyntaxError('expected a matcher string such as name="value"');
            out.push(...parseMatcherList(entry));
          } catch (err) {
            if (!(err instanceof MatcherSyntaxError)) throw err;
            this.add('invalid', [...path, listKey, i], err.message);
          }
        });
      }
    }
    return out;
  }

  /** tenant label → the one value these matchers pin it to (several pins: the last one; such a route matches nothing else anyway). */
  pins(ms: readonly AmMatcher[], into: Map<string, string>): Map<string, string> {
    for (const m of ms) {
      if (!this.labels.includes(m.name)) continue;
      const v = pinnedValue(m);
      if (v !== null) into.set(m.name, v);
    }
    return into;
  }

  inhibitRules(raw: unknown): void {
    if (raw === undefined || raw === null) return;
    if (!Array.isArray(raw)) { this.add('invalid', ['inhibit_rules'], 'inhibit_rules must be a list'); return; }
    raw.forEach((rule, i) => {
      const path = ['inhibit_rules', i];
      if (!isObj(rule)) { this.add('invalid', path, 'an inhibit rule must be a mapping'); return; }
      const equal = Array.isArray(rule.equal) ? rule.equal.map(String) : [];
      const source = this.pins(this.matchers(rule, path, 'source_match', 'source_match_re', 'source_matchers'), new Map());
      const target = this.pins(this.matchers(rule, path, 'target_match', 'target_match_re', 'target_matchers'), new Map());
      const missing = this.labels.filter((l) => !equal.includes(l) && !(source.has(l) && source.get(l) === target.get(l)));
      if (missing.length > 0) {
        this.add('inhibit_rule', path,
          `inhibit rule without ${list(missing)} in equal: an alert of one tenant can mute alerts of another; add ${list(missing)} to equal`);
      }
    });
  }

  groupBy(node: Obj, path: readonly ConfigPathPart[], isRoot: boolean): void {
    const g = node.group_by;
    if (g === undefined || g === null) {
      if (isRoot) this.add('group_by', [...path], `the root route has no group_by, so all its alerts (of every tenant) form one group; set group_by to include ${list(this.labels)}`);
      return;
    }
    if (!Array.isArray(g)) { this.add('invalid', [...path, 'group_by'], 'group_by must be a list of label names'); return; }
    const names = g.map(String);
    if (names.includes('...')) return;
    const missing = this.labels.filter((l) => !names.includes(l));
    if (missing.length > 0) {
      this.add('group_by', [...path, 'group_by'],
        `group_by [${names.join(', ')}] drops ${list(missing)} on a route that receives alerts of several tenants, so one notification can hold several tenants' alerts; add ${list(missing)} to group_by`);
    }
  }

  /**
   * The children of a route. `pins` are the tenant labels every alert reaching this route has
   * (from ancestors' matchers); `toRoot` says whether the route delivers to the root's receiver.
   */
  children(node: Obj, path: readonly ConfigPathPart[], pins: ReadonlyMap<string, string>, toRoot: boolean, rootReceiver: unknown): void {
    const routes = node.routes;
    if (routes === undefined || routes === null) return;
    if (!Array.isArray(routes)) { this.add('invalid', [...path, 'routes'], 'routes must be a list'); return; }
    for (let i = 0; i < routes.length; i++) {
      const child: unknown = routes[i];
      const p = [...path, 'routes', i];
      if (!isObj(child)) { this.add('invalid', p, 'a route must be a mapping'); continue; }
      const ms = this.matchers(child, p, 'match', 'match_re', 'matchers');
      const own = this.pins(ms, new Map(pins));
      const childToRoot = child.receiver === undefined || child.receiver === null ? toRoot : child.receiver === rootReceiver;
      const missing = this.labels.filter((l) => !own.has(l));
      if (missing.length > 0) {
        if (!childToRoot) {
          this.add('route', p,
            `route to receiver ${JSON.stringify(String(child.receiver ?? '(inherited)'))} can receive alerts of several tenants: neither it nor its parents pin ${list(missing)} with an equality matcher`);
        }
        this.groupBy(child, p, false);
      }
      this.children(child, p, own, childToRoot, rootReceiver);
      // A sibling without matchers and without `continue` takes every alert: later siblings never see one.
      if (ms.length === 0 && child.continue !== true) break;
    }
  }
}

function list(labels: readonly string[]): string {
  return labels.map((l) => JSON.stringify(l)).join(', ');
}

/**
 * Every way the configuration lets an alert of one tenant act on another tenant's alerts or reach
 * another tenant's receiver, for tenants told apart by `tenantLabels`. Empty means safe.
 */
export function lintAlertmanagerConfig(config: unknown, tenantLabels: readonly string[]): LintFinding[] {
  if (tenantLabels.length === 0) throw new Error('lintAlertmanagerConfig needs at least one tenant label');
  const lint = new Lint([...new Set(tenantLabels)].sort());
  if (!isObj(config)) {
    lint.add('invalid', [], 'the configuration must be a mapping');
    return lint.findings;
  }
  lint.inhibitRules(config.inhibit_rules);
  const root = config.route;
  if (!isObj(root)) {
    lint.add('invalid', ['route'], 'the configuration has no root route');
    return lint.findings;
  }
  lint.groupBy(root, ['route'], true);
  lint.children(root, ['route'], new Map(), true, root.receiver);
  return lint.findings;
}
