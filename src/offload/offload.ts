// Where CPU-heavy work runs. Small requests are enforced inline on the event loop, where they
// cost less than a hop to another thread; requests whose work (body, query, decoded write) is at
// least -enforce.offloadThreshold bytes go to a bounded pool of worker threads, queued per user so
// one user's backlog waits behind its own requests. bcrypt always runs in its own small pool.
// Pools are per process: with -workers=N each worker process has its own.
import type { ResponseFilter, TenantDecision, TenantPolicy, TenantRequest } from '../enforce/tenant/policy.ts';
import type { TenantTaskResult } from './tasks.ts';
import { transferableBody } from './transfer.ts';
import { WorkAbandonedError, WorkPool, WorkQueueFullError } from './work-pool.ts';
import type { ClientWatch } from '../limit/client-watch.ts';

export interface OffloadOptions {
  /** -enforce.threads: worker threads for tenant enforcement; 0 runs everything inline. */
  readonly threads: number;
  /** -enforce.offloadThreshold: work (bytes) from which enforcement leaves the event loop. */
  readonly thresholdBytes: number;
  /** -enforce.maxQueuedPerUser: requests of one user waiting for a thread; more get 429. */
  readonly maxQueuedPerUser: number;
  /** -auth.bcryptConcurrency: bcrypt verifications running at once (threads of the auth pool). */
  readonly bcryptThreads: number;
  /** -auth.maxQueuedLoginsPerIP: verifications of one client address waiting; more get 429. */
  readonly bcryptQueuedPerKey: number;
}

/** Measured on a 2-core machine (docs/limits.md "Where the work runs"). */
export const DEFAULT_OFFLOAD: OffloadOptions = Object.freeze({
  threads: 2,
  thresholdBytes: 4 * 1024,
  maxQueuedPerUser: 64,
  bcryptThreads: 1,
  bcryptQueuedPerKey: 4,
});

let options: OffloadOptions = DEFAULT_OFFLOAD;
let enforcePool: WorkPool | null = null;
let authPool: WorkPool | null = null;

/** Sets the process's pools up (once, at start-up; threads start on first use). */
export function configureOffload(o: OffloadOptions): void {
  void closeOffload();
  options = o;
}

export function offloadOptions(): OffloadOptions { return options; }

export async function closeOffload(): Promise<void> {
  const pools = [enforcePool, authPool];
  enforcePool = null;
  authPool = null;
  await Promise.all(pools.map((p) => p?.close()));
}

export function poolStats(): { enforce: WorkPool | null; auth: WorkPool | null } {
  return { enforce: enforcePool, auth: authPool };
}

function enforcement(): WorkPool {
  enforcePool ??= new WorkPool({ threads: options.threads, maxQueuedPerKey: options.maxQueuedPerUser });
  return enforcePool;
}

function auth(): WorkPool {
  // One verification per client address at a time: a storm from one address queues behind itself.
  authPool ??= new WorkPool({ threads: options.bcryptThreads, maxQueuedPerKey: options.bcryptQueuedPerKey, maxRunningPerKey: 1, maxQueued: 64 * options.bcryptThreads });
  return authPool;
}

/**
 * Applies a tenant policy, inline or in the pool by the size of the work. `userKey` names the
 * queue the request waits in. A full queue is a refusal (429), never a wait without end.
 */
export function enforceTenant(policy: TenantPolicy, req: TenantRequest, userKey: string, gone?: ClientWatch): TenantDecision | Promise<TenantDecision> {
  if (options.threads === 0 || policy.workSize(req) < options.thresholdBytes) return withPooledFilter(policy.enforce(req), policy, req, queueKey(userKey, req));
  return offloaded(policy, req, queueKey(userKey, req), gone);
}

/**
 * The queue a request waits in: its user, and for JWT users (often one config entry for many
 * tenants) the tenant its token names, so JWT tenants do not share one queue.
 */
export function queueKey(userKey: string, req: TenantRequest): string {
  const a = req.access;
  if (a === null) return userKey;
  return `${userKey}\0${a.metricsAccountId}:${a.metricsProjectId}:${a.metricsExtraLabels.join(',')}:${a.logsAccountId}:${a.logsProjectId}`;
}

/** The request as a worker thread sees it: the credentials stay on this thread. */
function forThread(req: TenantRequest): TenantRequest {
  const { authorization: _a, 'proxy-authorization': _p, cookie: _c, ...headers } = req.headers;
  return { ...req, headers };
}

/**
 * A response filter that runs in the pool when the response is large: parsing and filtering a
 * JSON response of megabytes would otherwise hold the event loop.
 */
function withPooledFilter(d: TenantDecision, policy: TenantPolicy, req: TenantRequest, userKey: string): TenantDecision {
  if (d.kind !== 'forward' || d.responseFilter === undefined || options.threads === 0) return d;
  const inline = d.responseFilter;
  const filter: ResponseFilter = {
    maxBytes: inline.maxBytes,
    ...(inline.lookup !== undefined ? { lookup: inline.lookup } : {}),
    filter(status, contentType, body, lookup) {
      if (body.length < options.thresholdBytes) return inline.filter(status, contentType, body, lookup);
      return enforcement().run(userKey, { kind: 'filter', source: policy.source, req: forThread(req), status, contentType, body, lookup })
        .then((out) => { const u = out as Uint8Array; return Buffer.from(u.buffer, u.byteOffset, u.byteLength); });
    },
  };
  return { ...d, responseFilter: filter };
}

/** The refusal text for a filtered response over tenant.max_response_size. */
export function responseTooLarge(filter: ResponseFilter | undefined): string {
  return `the backend response is larger than ${filter?.maxBytes ?? 0} bytes, the most tenant enforcement filters (tenant.max_response_size); narrow the request`;
}

async function offloaded(policy: TenantPolicy, req: TenantRequest, userKey: string, gone?: ClientWatch): Promise<TenantDecision> {
  let r: TenantTaskResult;
  // A large body moves to the thread; the request's Buffer is empty from then on, and any
  // decision that still needs the body brings the thread's copy back.
  const moved = transferableBody(req.body);
  try {
    r = await enforcement().run(userKey, { kind: 'tenant', source: policy.source, req: forThread(req), returnBody: moved !== null }, gone, moved === null ? [] : [moved]) as TenantTaskResult;
  } catch (err) {
    if (err instanceof WorkAbandonedError) return { kind: 'refuse', status: 499, reason: 'client_canceled', message: 'the client left before its request was enforced' };
    if (err instanceof WorkQueueFullError) {
      return {
        kind: 'refuse', status: 429, reason: 'tenant_work_queue_full',
        message: `too many large requests of this user are waiting to be enforced (-enforce.maxQueuedPerUser=${options.maxQueuedPerUser}); retry later`,
      };
    }
    throw err;
  }
  if (r.kind === 'inline') {
    const back = moved === null ? req : { ...req, body: asBuffer(r.body ?? null) };
    return withPooledFilter(policy.enforce(back), policy, back, userKey);
  }
  if (r.kind === 'forward' && r.body !== undefined && r.body !== null && !Buffer.isBuffer(r.body)) return { ...r, body: asBuffer(r.body) };
  return r;
}

/** Structured clone and transfer deliver Uint8Arrays; the gateway works with Buffers. */
function asBuffer(b: Uint8Array | null): Buffer | null {
  return b === null || Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

export type BcryptResult = boolean | 'queue-full';

/** bcrypt verification in the auth pool, queued per client address. */
export async function bcryptCompare(password: string, hash: string, clientKey: string): Promise<BcryptResult> {
  try {
    return await auth().run(clientKey, { kind: 'bcrypt', password, hash }) as boolean;
  } catch (err) {
    if (err instanceof WorkQueueFullError) return 'queue-full';
    throw err;
  }
}

/** Pool sizes, queues and task outcomes on /metrics (pools that never started show zeros). */
export function registerOffloadMetrics(metrics: { gauge(name: string, read: () => number): void }): void {
  const pools = { enforce: () => enforcePool, auth: () => authPool } as const;
  for (const [name, pool] of Object.entries(pools)) {
    metrics.gauge(`tenantgate_offload_queued{pool="${name}"}`, () => pool()?.queued ?? 0);
    metrics.gauge(`tenantgate_offload_running{pool="${name}"}`, () => pool()?.running ?? 0);
    for (const result of ['done', 'failed', 'refused'] as const) {
      metrics.gauge(`tenantgate_offload_tasks_total{pool="${name}",result="${result}"}`, () => pool()?.counts[result] ?? 0);
    }
  }
}
