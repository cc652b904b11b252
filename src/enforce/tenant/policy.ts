// The seam between the request pipeline and tenant enforcement (issue 6). A route with a
// `tenant:` section carries a TenantPolicy; the gateway hands it the request after routing and
// before forwarding, and applies its decision. The policy is synchronous and pure: all I/O
// (buffering the body, streaming the response, lookups) stays in the gateway. When a decision
// needs something only the backend knows (who owns an existing silence), the policy answers
// with a lookup: the gateway GETs one URL at the route's backend and asks the lookup to decide.
import type { IncomingHttpHeaders } from 'node:http';
import type { VmAccess } from '../../identify/jwt/index.ts';

export interface TenantRequest {
  readonly method: string;
  /** Normalised request path as the client sent it (before drop_src_path_prefix_parts). */
  readonly path: string;
  /** The client's raw query string, without `?`. */
  readonly rawQuery: string;
  readonly headers: IncomingHttpHeaders;
  /** The whole request body (buffered by the gateway up to `maxBodyBytes`), or null when there is none. */
  readonly body: Buffer | null;
  /** The JWT `vm_access` of the caller, when it authenticated with a token. */
  readonly access: VmAccess | null;
}

/**
 * A GET the filter needs answered by the same backend, with the same headers, before it can
 * filter: the request's backend path with its endpoint suffix swapped and arguments added.
 */
export interface ResponseLookup {
  /** The endpoint suffix of the forwarded path (the lookup fails closed when it is not there). */
  readonly replaces: string;
  readonly path: string;
  /** Appended to the forwarded query string (already enforced). */
  readonly addQuery: string;
}

/** Rewrites a buffered backend response (e.g. /api/v1/rules filtered to the tenant's rules). */
export interface ResponseFilter {
  /** Responses (and lookup answers) larger than this are refused (502) rather than passed through unfiltered. */
  readonly maxBytes: number;
  readonly lookup?: ResponseLookup;
  /** `lookup` is the 2xx answer to `this.lookup`, when there is one. May answer later (the work pool filters large responses off the event loop). */
  filter(status: number, contentType: string | undefined, body: Buffer, lookup?: Buffer): Buffer | Promise<Buffer>;
}

export interface TenantRefusal {
  readonly kind: 'refuse';
  readonly status: number;
  /** Metric `reason` label, snake_case (e.g. `tenant_path_not_allowed`). */
  readonly reason: string;
  /** Sent to the client; must not reveal other tenants' data. */
  readonly message: string;
  /** The error shape the client's API speaks (default: plain text). */
  readonly format?: RefusalFormat;
}

/** Prometheus HTTP API JSON errors, Alertmanager API v2 errors, or plain text (write and logs APIs). */
export type RefusalFormat = 'prometheus' | 'alertmanager' | 'text';

export interface TenantForward {
  readonly kind: 'forward';
  /** Replaces the client's query string; url_prefix args are merged in afterwards as usual. */
  readonly rawQuery: string;
  /** Replaces the normalised request path, when the policy rewrites it. */
  readonly path?: string;
  /** Replaces the request body (Content-Length is recomputed); undefined keeps it. */
  readonly body?: Buffer | null;
  /** Headers set on the backend request, overriding any client value of the same name. */
  readonly setHeaders?: readonly (readonly [string, string])[];
  /** Lower-case names of client headers to drop. */
  readonly removeHeaders?: readonly string[];
  readonly responseFilter?: ResponseFilter;
  /** How the endpoint was classified, for the audit trail (`read`, `write`, or `allowed_path`). */
  readonly access?: string;
  /** Remote-write samples in the (decoded) body, when the policy decoded a write: for write_samples limits. */
  readonly writeSamples?: number;
}

/** The backend's answer to a lookup. */
export interface LookupResult {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

export interface TenantLookup {
  readonly kind: 'lookup';
  /**
   * Normalised path to GET at the route's backend, in the client's namespace (before
   * drop_src_path_prefix_parts and url_prefix, which the gateway applies as for the request).
   */
  readonly path: string;
  readonly rawQuery: string;
  /** Lower-case names of client headers not sent with the lookup. */
  readonly removeHeaders?: readonly string[];
  /** Answers larger than this fail the lookup, and the request is refused. */
  readonly maxBytes: number;
  /** Pure: the decision for the original request, given the backend's answer. Never another lookup. */
  decide(result: LookupResult): TenantRefusal | TenantForward;
}

export type TenantDecision = TenantRefusal | TenantForward | TenantLookup;

/** How much of a request body the gateway may read for a policy, and what to say when it is more. */
export interface BodyLimit {
  readonly bytes: number;
  readonly refusal: TenantRefusal;
}

/** What a worker thread needs to compile the same policy again (plain data, structured-cloneable). */
export interface TenantPolicySource {
  /** Identifies the source within this process; equal sources have equal keys. */
  readonly key: string;
  readonly raw: unknown;
  readonly dropSrcPathPrefixParts: number;
}

export interface TenantPolicy {
  /** Largest request body the gateway buffers for this policy (writes); reads get `bodyLimit`. */
  readonly maxBodyBytes: number;
  readonly source: TenantPolicySource;
  /** The body bound for a request, decided from its method and path before the body is read. */
  bodyLimit(method: string, path: string): BodyLimit;
  /**
   * An estimate of the bytes enforcement would process (decoded size for remote write), from
   * sizes alone: decides whether the work runs inline or in the worker pool.
   */
  workSize(req: TenantRequest): number;
  /** Whether remote writes on this route are decoded (so their samples are counted: `writeSamples`). */
  readonly decodesWrites?: boolean;
  enforce(req: TenantRequest): TenantDecision;
}
