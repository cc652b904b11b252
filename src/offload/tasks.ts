// The work that may leave the main thread, as plain data in and out, so the same function runs
// inline for small requests and in a worker thread for large ones.
import bcrypt from 'bcryptjs';
import { compileTenantPolicy } from '../enforce/tenant/compile.ts';
import type { TenantDecision, TenantPolicy, TenantPolicySource, TenantRequest } from '../enforce/tenant/policy.ts';

export type Task =
  /** `returnBody`: the request body was transferred here and goes back with any decision that needs it. */
  | { readonly kind: 'tenant'; readonly source: TenantPolicySource; readonly req: TenantRequest; readonly returnBody?: boolean }
  | { readonly kind: 'filter'; readonly source: TenantPolicySource; readonly req: TenantRequest; readonly status: number; readonly contentType: string | undefined; readonly body: Uint8Array; readonly lookup: Uint8Array | undefined }
  | { readonly kind: 'bcrypt'; readonly password: string; readonly hash: string };

/**
 * A tenant decision as it crosses threads: a response filter is a function and cannot, so a
 * decision that needs one comes back as `inline` and the caller enforces on its own thread
 * (only small requests to filtered endpoints get there: their bodies are bounded by the read bound).
 */
export type TenantTaskResult = TenantDecision | { readonly kind: 'inline'; readonly body?: Uint8Array | null };


/** Policies compiled in this thread, by source key; bounded, as reloads bring new sources. */
const policies = new Map<string, TenantPolicy>();
const POLICY_CACHE_SIZE = 256;

function policyFor(source: TenantPolicySource): TenantPolicy {
  let p = policies.get(source.key);
  if (p === undefined) {
    p = compileTenantPolicy(source.raw, ['tenant'], { dropSrcPathPrefixParts: source.dropSrcPathPrefixParts });
    if (policies.size >= POLICY_CACHE_SIZE) policies.delete(policies.keys().next().value!);
    policies.set(source.key, p);
  }
  return p;
}

export function runTenantTask(source: TenantPolicySource, req: TenantRequest, returnBody = false): TenantTaskResult {
  // Structured clone turns Buffers into Uint8Arrays; the policy reads Buffers.
  const body = req.body === null ? null : Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength);
  const d = policyFor(source).enforce({ ...req, body });
  // Functions (a response filter, a lookup's decision) cannot cross threads: decided again on the
  // main thread, which then needs the body back if it gave its own away.
  if ((d.kind === 'forward' && d.responseFilter !== undefined) || d.kind === 'lookup') return returnBody ? { kind: 'inline', body } : { kind: 'inline' };
  // A decision that keeps the request's body forwards this thread's copy of it.
  if (returnBody && d.kind === 'forward' && d.body === undefined) return { ...d, body };
  return d;
}

/**
 * Filters a backend response in this thread: the request is enforced again here (cheap: it was
 * small enough to need a filter) to get the same filter the main thread holds.
 */
export function runFilterTask(source: TenantPolicySource, req: TenantRequest, status: number, contentType: string | undefined, body: Uint8Array, lookup?: Uint8Array): Uint8Array | Promise<Uint8Array> {
  const b = req.body === null ? null : Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength);
  const d = policyFor(source).enforce({ ...req, body: b });
  if (d.kind !== 'forward' || d.responseFilter === undefined) throw new Error('internal: the request no longer has a response filter');
  const l = lookup === undefined ? undefined : Buffer.from(lookup.buffer, lookup.byteOffset, lookup.byteLength);
  return d.responseFilter.filter(status, contentType, Buffer.from(body.buffer, body.byteOffset, body.byteLength), l);
}

export function runTask(task: Task): unknown {
  switch (task.kind) {
    case 'tenant': return runTenantTask(task.source, task.req, task.returnBody === true);
    case 'filter': return runFilterTask(task.source, task.req, task.status, task.contentType, task.body, task.lookup);
    case 'bcrypt': return bcrypt.compareSync(task.password, task.hash);
  }
}
