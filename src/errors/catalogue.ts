// Every refusal a client can receive, in one place: a stable code, the HTTP status, and the
// `reason` label under which it is counted (vmauth's reason names where vmauth has one).
export const REFUSALS = {
  missing_auth: { status: 401, reason: 'missing_auth' },
  invalid_auth_token: { status: 401, reason: 'invalid_auth_token' },
  missing_route: { status: 400, reason: 'missing_route' },
  bad_request_target: { status: 400, reason: 'bad_request' },
  ip_denied: { status: 403, reason: 'ip_denied' },
  concurrency_limit: { status: 429, reason: 'concurrency_limit_reached' },
  user_buffer_limit: { status: 429, reason: 'user_buffer_limit_reached' },
  user_connection_limit: { status: 429, reason: 'user_connection_limit_reached' },
  reject_slow_client: { status: 408, reason: 'reject_slow_client' },
  body_read_error: { status: 400, reason: 'body_read_error' },
  backends_unavailable: { status: 502, reason: 'backends_unavailable' },
  backend_error_no_retry: { status: 503, reason: 'backend_error' },
  internal_auth: { status: 401, reason: 'internal_auth' },
  tenant_response_unfilterable: { status: 502, reason: 'tenant_response_unfilterable' },
  tenant_response_too_large: { status: 422, reason: 'tenant_bound_response_size' },
  jwt_claim_unsafe: { status: 401, reason: 'jwt_claim_unsafe' },
  path_denied: { status: 403, reason: 'path_denied' },
  tenant_unscoped_endpoint: { status: 403, reason: 'tenant_unscoped_endpoint' },
  tenant_admin_endpoint: { status: 403, reason: 'tenant_admin_endpoint' },
  login_rate_limited: { status: 429, reason: 'login_rate_limited' },
  /** A tenant placeholder whose vm_access field the token does not set: never defaulted to 0. */
  jwt_tenant_unscoped: { status: 403, reason: 'tenant_unscoped' },
  /** A header value built for the backend that HTTP cannot carry (a claim outside Latin-1): the request's fault. */
  bad_backend_request: { status: 400, reason: 'bad_backend_request' },
  rate_limited: { status: 429, reason: 'rate_limited' },
  ratelimit_store_unavailable: { status: 503, reason: 'ratelimit_store_unavailable' },
  ratelimit_length_required: { status: 411, reason: 'ratelimit_length_required' },
} as const;

export type RefusalCode = keyof typeof REFUSALS;
