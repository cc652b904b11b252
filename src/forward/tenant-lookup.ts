// Carries out a tenant policy's lookup (src/enforce/tenant/policy.ts): one GET at the route's
// backend, built like the request itself (url_prefix, drop_src_path_prefix_parts, the route's
// headers), bounded in size and time, and hands the answer back to the policy to decide. The
// policy stays pure; this is the only place a tenant decision waits for the network.
import type { IncomingMessage } from 'node:http';
import type { Dispatcher } from 'undici';
import type { HeaderOp, RouteOptions } from '../config/model.ts';
import type { LookupResult, TenantDecision, TenantForward, TenantLookup, TenantRefusal } from '../enforce/tenant/policy.ts';
import { renderUrlPrefix, type VmAccess } from '../identify/jwt/index.ts';
import { parseQuery, unescape } from '../lib/go-url.ts';
import { clientIp } from '../listen/client-address.ts';
import { buildTargetPath } from '../route/target-url.ts';
import type { BackendTarget } from './backend-set.ts';
import { serverNameFor } from './dispatchers.ts';
import { buildRequestHeaders } from './request-headers.ts';

export interface LookupContext {
  readonly req: IncomingMessage;
  readonly route: RouteOptions;
  /** The route's header operations for this request (already rendered for JWT users). */
  readonly headerOps: readonly HeaderOp[];
  readonly access: VmAccess | null;
  readonly removeXffValue: boolean;
}

/** A lookup that takes longer than this fails, and the request with it. */
const LOOKUP_TIMEOUT_MS = 10_000;

function failed(message: string): TenantRefusal {
  return { kind: 'refuse', status: 502, reason: 'tenant_lookup_failed', message };
}

/** The decision to apply: `d` itself, or, for a lookup, the policy's decision on the backend's answer. */
export async function resolveTenantDecision(d: TenantDecision, ctx: LookupContext): Promise<TenantRefusal | TenantForward> {
  if (d.kind !== 'lookup') return d;
  let result: LookupResult;
  try {
    result = await fetchLookup(d, ctx);
  } catch (err) {
    return failed(`the gateway could not read what it needs to decide this request from the backend: ${(err as Error).message}`);
  }
  return d.decide(result);
}

async function fetchLookup(d: TenantLookup, ctx: LookupContext): Promise<LookupResult> {
  const set = ctx.route.backends;
  const backend = set.acquire(Date.now());
  try {
    let t: BackendTarget = backend.target;
    if (ctx.access !== null && t.template !== null && t.template.hasPlaceholders) t = renderTarget(t, ctx.access);
    const ops: HeaderOp[] = [...ctx.headerOps];
    const drop = (lower: string) => { if (!ops.some((o) => o.lower === lower)) ops.push({ name: lower, lower, value: '' }); };
    for (const lower of d.removeHeaders ?? []) drop(lower);
    for (const lower of ['content-type', 'content-encoding', 'accept-encoding']) drop(lower);
    ops.push({ name: 'accept', lower: 'accept', value: 'application/json' });
    const host = ctx.route.keepOriginalHost ? (ctx.req.headers.host ?? t.host) : (ctx.route.hostOverride ?? t.host);
    const opts: Dispatcher.RequestOptions & { servername?: string } = {
      method: 'GET',
      path: buildTargetPath(t, { path: d.path, rawQuery: d.rawQuery }, ctx.route.dropSrcPathPrefixParts, ctx.route.mergeQueryArgs),
      headers: buildRequestHeaders(ctx.req, ops, { clientIp: clientIp(ctx.req), removeXffValue: ctx.removeXffValue, host, bodyInMemory: true }),
      signal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS),
    };
    const servername = serverNameFor(backend.dispatcher);
    if (servername !== undefined) opts.servername = servername;
    const res = await backend.dispatcher.request(opts);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of res.body as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > d.maxBytes) {
        res.body.destroy();
        throw new Error(`the answer is larger than ${d.maxBytes} bytes`);
      }
      chunks.push(c);
    }
    const ct = res.headers['content-type'];
    return { status: res.statusCode, contentType: Array.isArray(ct) ? ct[0] : ct, body: Buffer.concat(chunks, size) };
  } finally {
    set.release(backend);
  }
}

/** A JWT user's backend, with the url_prefix placeholders filled from the token's vm_access. */
function renderTarget(t: BackendTarget, access: VmAccess): BackendTarget {
  const url = renderUrlPrefix(t.template as NonNullable<BackendTarget['template']>, access);
  const rawQuery = url.search.slice(1);
  return { ...t, basePath: unescape(url.pathname, false) ?? url.pathname, rawQuery, query: parseQuery(rawQuery) };
}
