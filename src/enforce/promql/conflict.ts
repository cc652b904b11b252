/**
 * Conflicts between a user's matchers on a tenant label and the tenant's own
 * values. Enforcement ANDs the two, so a conflicting selector simply selects
 * nothing; a tenant configured with `on_conflict: error` asks to be told
 * instead. A selector conflicts when no tenant value satisfies every user
 * matcher on that label (`{ns="b"}`, `{ns!="a"}`, `{ns=""}` as tenant `a`).
 */
import { RE2JS } from 're2js';
import type { LabelMatcher, MatchOp } from './ast.ts';
import { collectSelectors } from './inject.ts';
import type { ParseLimits } from './parse.ts';
import { DEFAULT_PARSE_LIMITS, parsePromql } from './parse.ts';
import type { CompiledTenant } from './tenant.ts';

export interface TenantConflict {
  readonly label: string;
  /** The user's matchers on the label, as written in PromQL (`ns!="a"`). */
  readonly matchers: readonly string[];
}

/** Whether `value` satisfies one matcher, with Prometheus semantics (regexes anchored, `.` matches newlines). */
export function matcherAccepts(op: MatchOp, pattern: string, value: string): boolean {
  switch (op) {
    case '=': return value === pattern;
    case '!=': return value !== pattern;
    case '=~':
    case '!~': {
      let re: RE2JS;
      try {
        re = RE2JS.compile(`^(?:${pattern})$`, RE2JS.DOTALL);
      } catch {
        // The backend refuses a regex that does not compile; that is an error, not a conflict.
        return op === '=~';
      }
      return re.matches(value) === (op === '=~');
    }
  }
}

/** The first tenant label on which `matchers` rule out every tenant value, or null. */
export function selectorConflict(matchers: readonly LabelMatcher[], tenant: CompiledTenant): TenantConflict | null {
  for (const tm of tenant.matchers) {
    const mine = matchers.filter((m) => m.name === tm.label);
    if (mine.length === 0) continue;
    const someValueFits = tm.values.some((v) => mine.every((m) => matcherAccepts(m.op, m.value, v)));
    if (!someValueFits) return { label: tm.label, matchers: mine.map((m) => `${m.name}${m.op}${JSON.stringify(m.value)}`) };
  }
  return null;
}

/** Conflicts in a PromQL query (every selector) or a match[] selector. Throws PromqlEnforceError when it does not parse. */
export function findQueryConflict(query: string, tenant: CompiledTenant, limits: ParseLimits = DEFAULT_PARSE_LIMITS): TenantConflict | null {
  for (const s of collectSelectors(parsePromql(query, limits))) {
    const c = selectorConflict(s.matchers, tenant);
    if (c !== null) return c;
  }
  return null;
}

/** A human-readable reason for a conflict, naming the tenant label but not other tenants. */
export function describeConflict(c: TenantConflict): string {
  return `the matchers ${c.matchers.join(', ')} exclude every value of the tenant label ${c.label} this user may read, so the query would return nothing`;
}
