// The seam between the request pipeline and tenant enforcement (issue 6). A route with a
// `tenant:` section carries a TenantPolicy; the gateway hands it the request after routing and
// before forwarding, and applies its decision. The policy is synchronous and pure: all I/O
// (buffering the body, streaming the response) stays in the gateway.
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
  /** `lookup` is the 2xx answer to `this.lookup`, when there is one. */
  filter(status: number, contentType: string | undefined, body: Buffer, lookup?: Buffer): Buffer;
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
}

export type TenantDecision = TenantRefusal | TenantForward;

export interface TenantPolicy {
  /** Largest request body the gateway buffers for this policy; larger bodies get 413. */
  readonly maxBodyBytes: number;
  enforce(req: TenantRequest): TenantDecision;
}
