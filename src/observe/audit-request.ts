// What the audit trail says about one proxied request: a refusal (with its reason), or — for a
// route with a `tenant:` section — the tenant, the endpoint's classification and what was
// enforced. Requests on plain vmauth routes that were forwarded are left to the access log.
import { describeTenantScope } from '../enforce/tenant/describe.ts';
import type { RequestContext } from '../gateway/request-context.ts';
import { clientIp, clientPort } from '../listen/client-address.ts';
import { enforcedDigest, enforcedQueries, type AuditLog } from './audit-log.ts';

export function auditRequest(audit: AuditLog, ctx: RequestContext): void {
  const { req } = ctx;
  const policy = ctx.route?.tenant ?? null;
  const tenant = policy !== null ? describeTenantScope(policy) : undefined;
  const remote = `${clientIp(req)}:${clientPort(req)}`;
  const method = req.method ?? '';
  const path = pathOnly(req.url);
  if (ctx.reason !== '') {
    audit.record({ event: 'refusal', user: ctx.user.logName, tenant, method, path, status: ctx.status, reason: ctx.reason, remote_addr: remote });
    return;
  }
  if (policy === null || tenant === undefined) return;
  const body = ctx.body.kind === 'whole' ? ctx.body.data : null;
  audit.record({
    event: 'tenant_request',
    user: ctx.user.logName,
    tenant,
    method,
    path,
    access: ctx.tenantAccess,
    status: ctx.status,
    enforced_sha256: enforcedDigest(ctx.target.rawQuery, body),
    ...(audit.queryText ? { enforced_query: enforcedQueries(ctx.target.rawQuery, body) } : {}),
    remote_addr: remote,
  });
}

/** The request path without its query string, which may carry secrets. */
export function pathOnly(url: string | undefined): string {
  const u = url ?? '';
  const q = u.indexOf('?');
  return q < 0 ? u : u.slice(0, q);
}
