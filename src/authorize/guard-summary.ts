// The start-up (and reload) summary of what the route guards refuse: which users are tenant-scoped
// by their url_prefix, and what that costs them, so nobody has to guess from a 403.
import type { CompiledConfig, CompiledUser, RouteOptions } from '../config/model.ts';
import type { TenantDefaults } from './route-guard.ts';

export function describeGuards(config: CompiledConfig, defaults: TenantDefaults): string[] {
  const lines: string[] = [];
  const users: CompiledUser[] = config.unauthorizedUser !== null ? [...config.users, config.unauthorizedUser] : [...config.users];
  for (const u of new Set([...users, ...(config.jwt?.users.values() ?? [])])) {
    const routes: [string, RouteOptions][] = u.routes.map((r) => [`url_map[${r.index}]`, r]);
    if (u.fallback !== null) routes.push(['url_prefix', u.fallback]);
    for (const [where, r] of routes) {
      const g = r.guard;
      if (g === null) continue;
      if (g.tenant !== null) {
        lines.push(`user ${u.logName} (${where}) is tenant-scoped by ${g.tenant.args.join(', ')}: refused (403) the endpoints that ignore those args `
          + '(top_queries, active_queries, series/count, metadata, Graphite metrics/find and tags, targets, config, rules, alerts, VictoriaLogs tenant_ids, …), '
          + 'every admin/debug/snapshot/internal/delete path and /select|insert/multitenant; client AccountID/ProjectID headers are dropped');
      }
      if (g.denyPaths.length > 0) lines.push(`user ${u.logName} (${where}) deny_paths: ${g.denyPaths.map((d) => d.source).join(', ')}`);
    }
  }
  if (defaults === 'vmauth') {
    lines.push('-tenantDefaults=vmauth: users whose url_prefix pins extra_label/extra_filters are NOT protected from the endpoints that ignore those args, '
      + 'nor from admin/debug paths, and their AccountID/ProjectID headers reach the backend (exact vmauth behaviour; see docs/tenancy.md)');
  }
  return lines;
}
