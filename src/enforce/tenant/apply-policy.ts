// Applies a route's tenant policy to a request: reads the whole body (bounded in size and time),
// asks the pure policy for a decision, and turns a forward decision into the rewritten request
// the forward stage sends.
import type { IncomingMessage } from 'node:http';
import type { HeaderOp } from '../../config/model.ts';
import type { RefusalCode } from '../../errors/catalogue.ts';
import type { VmAccess } from '../../identify/jwt/index.ts';
import type { RequestTarget } from '../../route/request-target.ts';
import { readWholeBody, type BufferedBody } from '../../gateway/request-body.ts';
import { enforceTenant } from '../../offload/offload.ts';
import type { ClientWatch } from '../../limit/client-watch.ts';
import type { ResponseFilter, TenantDecision, TenantForward, TenantPolicy, TenantRefusal } from './policy.ts';

export interface EnforcedRequest {
  readonly kind: 'forward';
  readonly target: RequestTarget;
  readonly body: BufferedBody;
  readonly headerOps: readonly HeaderOp[];
  readonly responseFilter: ResponseFilter | undefined;
  /** The endpoint's classification, for the audit trail. */
  readonly access: string;
  /** Remote-write samples the policy decoded, for write_samples limits. */
  readonly samples: number | undefined;
}

/** A body that could not be read whole: the gateway's own refusal, or the policy's body bound. */
export interface BodyRefusal { readonly kind: 'body'; readonly code: RefusalCode; readonly message: string; readonly bound?: TenantRefusal }

export interface PolicyInput {
  readonly req: IncomingMessage;
  readonly target: RequestTarget;
  readonly body: BufferedBody;
  readonly headerOps: readonly HeaderOp[];
  readonly access: VmAccess | null;
  /** Milliseconds left to finish reading the body. */
  readonly bodyDeadlineMs: number;
  /** Whose queue large enforcement work waits in (offload/fair-queue.ts). */
  readonly userKey: string;
  /** Set when the client leaves: its large work then leaves the queue instead of running. */
  readonly gone?: ClientWatch;
}

/**
 * Turns a decision that needs the backend (a lookup) into a final one; the gateway fetches, and
 * `tenantgate explain`, which contacts no backend, reports what would be looked up.
 */
export type DecisionResolver = (d: TenantDecision) => Promise<TenantRefusal | TenantForward | NeedsLookup>;

/** Explain only: the decision depends on a backend answer that was not fetched. */
export interface NeedsLookup { readonly kind: 'needs_lookup'; readonly path: string }

export async function applyTenantPolicy(policy: TenantPolicy, input: PolicyInput, resolve: DecisionResolver): Promise<EnforcedRequest | TenantRefusal | BodyRefusal | NeedsLookup> {
  const limit = policy.bodyLimit(input.req.method ?? 'GET', input.target.path);
  const read = readWholeBody(input.body, limit.bytes, input.bodyDeadlineMs);
  const whole = read instanceof Promise ? await read : read;
  if (whole === 'too-large') return { kind: 'body', code: 'body_read_error', message: limit.refusal.message, bound: limit.refusal };
  if (whole === 'timeout') return { kind: 'body', code: 'reject_slow_client', message: 'the request body was not received within -maxQueueDuration' };
  if (whole === 'error') return { kind: 'body', code: 'body_read_error', message: 'cannot read request body' };
  const { req, target, headerOps } = input;
  const decided = enforceTenant(policy, { method: req.method ?? 'GET', path: target.path, rawQuery: target.rawQuery, headers: req.headers, body: whole, access: input.access }, input.userKey, input.gone);
  const d = await resolve(decided instanceof Promise ? await decided : decided);
  if (d.kind === 'refuse' || d.kind === 'needs_lookup') return d;
  const ops: HeaderOp[] = [];
  const overridden = new Set<string>();
  for (const [name, value] of d.setHeaders ?? []) { ops.push({ name, lower: name.toLowerCase(), value }); overridden.add(name.toLowerCase()); }
  // removeHeaders drops what the client sent; a header the route itself sets (e.g. Mimir's
  // X-Scope-OrgID from `headers:`) stays, because route ops are applied after client headers.
  for (const lower of d.removeHeaders ?? []) {
    if (!overridden.has(lower) && !headerOps.some((h) => h.lower === lower)) ops.push({ name: lower, lower, value: '' });
  }
  // A filtered response must arrive uncompressed.
  if (d.responseFilter !== undefined && !overridden.has('accept-encoding')) { ops.push({ name: 'accept-encoding', lower: 'accept-encoding', value: '' }); overridden.add('accept-encoding'); }
  const newBody = d.body !== undefined ? d.body : whole;
  return {
    kind: 'forward',
    target: { path: d.path ?? target.path, rawQuery: d.rawQuery },
    body: newBody === null ? NO_BODY : { kind: 'whole', data: newBody },
    headerOps: [...headerOps.filter((h) => !overridden.has(h.lower)), ...ops],
    responseFilter: d.responseFilter,
    access: d.access ?? 'unknown',
    samples: d.writeSamples,
  };
}

const NO_BODY: BufferedBody = { kind: 'none' };
