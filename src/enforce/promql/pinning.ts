/**
 * "Pinned to the tenant": a label set or a rule expression that can only
 * concern the tenant's own data. Used to decide which rules and alerts of a
 * shared Prometheus a tenant may see.
 */
import { collectSelectors } from './inject.ts';
import { parsePromql } from './parse.ts';
import type { CompiledTenant } from './tenant.ts';

/** Every tenant label is present with one of the tenant's values. */
export function labelsPinTenant(labels: unknown, tenant: CompiledTenant): boolean {
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) return false;
  const record = labels as Record<string, unknown>;
  return tenant.matchers.every((m) => {
    const v = Object.hasOwn(record, m.label) ? record[m.label] : undefined;
    return typeof v === 'string' && m.values.includes(v);
  });
}

/**
 * The expression has at least one selector, and every selector has, for each
 * tenant label, an equality matcher (`=`) with one of the tenant's values.
 * Regex and negative matchers do not pin. Unparsable expressions do not pin.
 */
export function expressionPinsTenant(query: unknown, tenant: CompiledTenant): boolean {
  if (typeof query !== 'string') return false;
  let selectors;
  try {
    selectors = collectSelectors(parsePromql(query));
  } catch {
    return false;
  }
  if (selectors.length === 0) return false;
  return selectors.every((s) =>
    tenant.matchers.every((tm) => s.matchers.some((m) => m.name === tm.label && m.op === '=' && tm.values.includes(m.value))),
  );
}
