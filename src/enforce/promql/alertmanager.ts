/**
 * Alertmanager API v2 helpers: the `filter=` matchers to force onto
 * GET /api/v2/alerts, /api/v2/alerts/groups and /api/v2/silences, and the
 * ownership rule for creating, updating or expiring a silence.
 */
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

/**
 * A silence belongs to the tenant only if, for every tenant label, it has a
 * positive equality matcher (isRegex false, isEqual true or absent) whose
 * value is one of the tenant's values. Matchers are ANDed by Alertmanager, so
 * such a silence can only mute the tenant's alerts. Regex and negative
 * matchers never count. Works on PostableSilence and GettableSilence JSON.
 */
export function checkSilenceOwnership(silence: unknown, tenant: CompiledTenant): SilenceOwnership {
  if (!isObject(silence) || !Array.isArray(silence.matchers)) return { owned: false, reason: 'silence has no matchers array' };
  const matchers = silence.matchers.filter(isObject);
  for (const tm of tenant.matchers) {
    const ok = matchers.some(
      (m) =>
        m.name === tm.label &&
        m.isRegex === false &&
        (m.isEqual === undefined || m.isEqual === true) &&
        typeof m.value === 'string' &&
        tm.values.includes(m.value),
    );
    if (!ok) {
      return {
        owned: false,
        reason: `silence needs a matcher ${tm.label}="<value>" (equality, not regex or negative) with one of the tenant's values`,
      };
    }
  }
  return { owned: true, reason: '' };
}
