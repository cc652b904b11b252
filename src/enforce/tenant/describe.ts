// A tenant section in one short line for people (status page, explain, audit trail):
// `tenant=team-a`, `tenant=team-a|team-b,env=prod`, `logs=1:5`, or `(from token)` when the
// labels come only from a JWT.
import { CompiledTenantPolicy } from './compile.ts';
import type { TenantPolicy } from './policy.ts';

export function describeTenantScope(policy: TenantPolicy): string {
  if (!(policy instanceof CompiledTenantPolicy)) return '';
  const parts: string[] = [];
  for (const [name, values] of policy.config.labels) parts.push(`${name}=${values.join('|')}`);
  if (policy.config.logs !== null) parts.push(`logs=${policy.config.logs.accountId ?? '-'}:${policy.config.logs.projectId ?? '-'}`);
  return parts.length > 0 ? parts.join(',') : '(from token)';
}

export function tenantEnforceKind(policy: TenantPolicy): string {
  return policy instanceof CompiledTenantPolicy ? policy.config.enforce : '';
}
