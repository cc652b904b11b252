// Shared helpers for the tenant policy unit tests.
import assert from 'node:assert/strict';
import { compileTenantPolicy } from '../../../src/enforce/tenant/compile.ts';
import type { TenantDecision, TenantForward, TenantPolicy, TenantRefusal } from '../../../src/enforce/tenant/policy.ts';
import type { VmAccess } from '../../../src/identify/jwt/index.ts';
import { parseVmAccess } from '../../../src/identify/jwt/index.ts';
import { parseQuery } from '../../../src/lib/go-url.ts';

export const policy = (raw: unknown): TenantPolicy => compileTenantPolicy(raw, ['users', 0, 'tenant']);

export interface Req {
  method?: string;
  path: string;
  query?: string;
  body?: string | Buffer | null;
  headers?: Record<string, string>;
  access?: VmAccess | null;
}

export function run(p: TenantPolicy, r: Req): TenantDecision {
  const body = r.body === undefined || r.body === null ? null : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
  return p.enforce({ method: r.method ?? 'GET', path: r.path, rawQuery: r.query ?? '', headers: r.headers ?? {}, body, access: r.access ?? null });
}

export function forwarded(d: TenantDecision): TenantForward {
  assert.equal(d.kind, 'forward', d.kind === 'refuse' ? `refused ${d.status} ${d.reason}: ${d.message}` : '');
  return d as TenantForward;
}

export function refused(d: TenantDecision, status: number, reason?: string): TenantRefusal {
  assert.equal(d.kind, 'refuse', `expected a refusal, got ${JSON.stringify(d)}`);
  const r = d as TenantRefusal;
  assert.equal(r.status, status, r.message);
  if (reason !== undefined) assert.equal(r.reason, reason, r.message);
  return r;
}

/** The forwarded URL args and form body args. */
export function argsOf(f: TenantForward): { url: Map<string, string[]>; form: Map<string, string[]> | null } {
  return { url: parseQuery(f.rawQuery), form: f.body === undefined || f.body === null ? null : parseQuery(f.body.toString('utf8')) };
}

export function token(claim: object): VmAccess {
  const r = parseVmAccess(claim, 'token');
  assert.ok(r.ok, r.ok ? '' : r.detail);
  return r.access;
}
