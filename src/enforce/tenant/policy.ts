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

/** Rewrites a buffered backend response (e.g. /api/v1/rules filtered to the tenant's rules). */
export interface ResponseFilter {
  /** Responses larger than this are refused (502) rather than passed through unfiltered. */
  readonly maxBytes: number;
  filter(status: number, contentType: string | undefined, body: Buffer): Buffer;
}

export interface TenantRefusal {
  readonly kind: 'refuse';
  readonly status: number;
  /** Metric `reason` label, snake_case (e.g. `tenant_path_not_allowed`). */
  readonly reason: string;
  /** Sent to the client; must not reveal other tenants' data. */
  readonly message: string;
}

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
  /** Remote-write samples in the (decoded) body, when the policy decoded a write: for write_samples limits. */
  readonly writeSamples?: number;
}

export type TenantDecision = TenantRefusal | TenantForward;

export interface TenantPolicy {
  /** Largest request body the gateway buffers for this policy; larger bodies get 413. */
  readonly maxBodyBytes: number;
  /** Whether remote writes on this route are decoded (so their samples are counted: `writeSamples`). */
  readonly decodesWrites?: boolean;
  enforce(req: TenantRequest): TenantDecision;
}
