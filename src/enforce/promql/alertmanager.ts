/**
 * Alertmanager API v2 helpers: the `filter=` matchers to force onto
 * GET /api/v2/alerts, /api/v2/alerts/groups and /api/v2/silences, and the
 * ownership rule for creating, updating or expiring a silence.
 */
import type { LabelMatcher, MatchOp } from './ast.ts';
import { selectorConflict, type TenantConflict } from './conflict.ts';
import { PromqlTenantError } from './errors.ts';
import type { CompiledTenant } from './tenant.ts';

/**
 * Quotes a value for Alertmanager's matcher syntax. Both its classic parser
 * and its UTF-8 parser understand \\, \" and \n; any other control character
 * has no escape both accept, so it is refused rather than guessed.
 */
function quoteAlertmanagerValue(value: string, label: string): string {
  let out = '"';
  for (const ch of value) {
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch < ' ' || ch === '\u007f') throw new PromqlTenantError(`matchers(${label})`, 'value has a control character Alertmanager matchers cannot express');
    else out += ch;
  }
  return out + '"';
}

/**
 * One matcher per tenant label, e.g. `namespace="a"` or `namespace=~"a|b"`
 * (values regex-escaped; Alertmanager anchors regexes). The proxy appends
 * these to the user's own `filter` parameters; Alertmanager ANDs them, so a
 * user filter can only narrow the result. Tenant filters (extra series
 * selectors) are not applied to alerts.
 */
export function alertmanagerFilterParams(tenant: CompiledTenant): string[] {
  return tenant.tenantMatchers.map((m) => `${m.name}${m.op}${quoteAlertmanagerValue(m.value, m.name)}`);
}

export interface SilenceOwnership {
  readonly owned: boolean;
  /** Why the silence is not the tenant's; empty when owned. */
  readonly reason: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const REGEX_META = new Set([...'\\.+*?()|[]{}^$']);

/**
 * The one string an (anchored) regex matches when it is a plain literal, such as `team-a` or
 * `team\.a`; null for anything with an operator, a class or an escape that is not punctuation.
 */
export function regexLiteral(pattern: string): string | null {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      const next = pattern[i + 1];
      // RE2 takes `\` before ASCII punctuation as that character; any other escape is an operator or an error.
      if (next === undefined || !/[!-/:-@[-`{-~]/.test(next)) return null;
      out += next;
      i++;
    } else if (REGEX_META.has(ch)) {
      return null;
    } else {
      out += ch;
    }
  }
  return out;
}

/**
 * A silence belongs to the tenant only if, for every tenant label, it has
 * exactly one matcher on that label, and that matcher is a positive equality
 * (isEqual true or absent) on one of the tenant's values; a regex counts only
 * when it is that literal value. Any second matcher on a tenant label, even
 * one that only narrows, is refused: a silence naming two tenants' values
 * would otherwise be listed for both. Works on PostableSilence and
 * GettableSilence JSON.
 */
export function checkSilenceOwnership(silence: unknown, tenant: CompiledTenant): SilenceOwnership {
  if (!isObject(silence) || !Array.isArray(silence.matchers)) return { owned: false, reason: 'silence has no matchers array' };
  const matchers = silence.matchers.filter(isObject);
  if (matchers.length !== silence.matchers.length) return { owned: false, reason: 'every silence matcher must be an object' };
  for (const tm of tenant.matchers) {
    const own = tm.values.length === 1 ? `${tm.label}="${tm.values[0]!}"` : `${tm.label}="<one of this tenant's values>"`;
    const onLabel = matchers.filter((m) => m.name === tm.label);
    if (onLabel.length === 0) return { owned: false, reason: `the silence needs a matcher ${own}` };
    if (onLabel.length > 1) {
      return { owned: false, reason: `the silence has ${onLabel.length} matchers on the tenant label ${tm.label}; exactly one is allowed: ${own}` };
    }
    const m = onLabel[0]!;
    if (m.isEqual !== undefined && m.isEqual !== true) return { owned: false, reason: `the matcher on ${tm.label} must be an equality (=), not a negative matcher; use ${own}` };
    if (typeof m.isRegex !== 'boolean' || typeof m.value !== 'string') return { owned: false, reason: `the matcher on ${tm.label} needs a string value and a boolean isRegex` };
    const value = m.isRegex ? regexLiteral(m.value) : m.value;
    if (value === null) return { owned: false, reason: `the regex matcher on ${tm.label} must be exactly the tenant's value (${own})` };
    if (!tm.values.includes(value)) return { owned: false, reason: `the matcher on ${tm.label} must name this tenant's value: ${own}` };
  }
  return { owned: true, reason: '' };
}

const AM_MATCHER = /^\s*("(?:[^"\\]|\\.)*"|[^\s"=!~,{}]+)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|[^,"{}]*?)\s*(?:,|$)/s;

function unquoteAlertmanager(s: string): string | null {
  if (!s.startsWith('"')) return s;
  let out = '';
  for (let i = 1; i < s.length - 1; i++) {
    const ch = s[i]!;
    if (ch !== '\\') { out += ch; continue; }
    const next = s[++i];
    if (next === 'n') out += '\n';
    else if (next === '\\' || next === '"') out += next;
    else return null;
  }
  return out;
}

/**
 * The matchers of one Alertmanager `filter` value (`a="b"`, `{a="b", c=~"d"}`), or null when it
 * is not in a form this reader is sure of (Alertmanager then judges it itself; the tenant's own
 * filter is appended either way, so an unread filter can only narrow the answer).
 */
export function parseAlertmanagerFilter(filter: string): LabelMatcher[] | null {
  let rest = filter.trim();
  if (rest.startsWith('{')) {
    if (!rest.endsWith('}')) return null;
    rest = rest.slice(1, -1);
  }
  const out: LabelMatcher[] = [];
  while (rest.trim() !== '') {
    const m = AM_MATCHER.exec(rest);
    if (m === null) return null;
    const name = unquoteAlertmanager(m[1]!);
    const value = unquoteAlertmanager(m[3]!);
    if (name === null || value === null) return null;
    out.push({ name, op: m[2] as MatchOp, value });
    rest = rest.slice(m[0].length);
  }
  return out;
}

/** Whether the `filter` values together (Alertmanager ANDs them) rule out every tenant value of a tenant label. */
export function alertmanagerFilterConflict(filters: readonly string[], tenant: CompiledTenant): TenantConflict | null {
  const all: LabelMatcher[] = [];
  for (const f of filters) all.push(...(parseAlertmanagerFilter(f) ?? []));
  return selectorConflict(all, tenant);
}
