// Every refusal a client can receive, in one place: a stable code, the HTTP status, and the
// `reason` label under which it is counted (vmauth's reason names where vmauth has one).
export const REFUSALS = {
  missing_auth: { status: 401, reason: 'missing_auth' },
  invalid_auth_token: { status: 401, reason: 'invalid_auth_token' },
  missing_route: { status: 400, reason: 'missing_route' },
  bad_request_target: { status: 400, reason: 'bad_request' },
  ip_denied: { status: 403, reason: 'ip_denied' },
  concurrency_limit: { status: 429, reason: 'concurrency_limit_reached' },
  reject_slow_client: { status: 408, reason: 'reject_slow_client' },
  body_read_error: { status: 400, reason: 'body_read_error' },
  backends_unavailable: { status: 502, reason: 'backends_unavailable' },
  backend_error_no_retry: { status: 503, reason: 'backend_error' },
  internal_auth: { status: 401, reason: 'internal_auth' },
  tenant_response_unfilterable: { status: 502, reason: 'tenant_response_unfilterable' },
  tenant_body_too_large: { status: 413, reason: 'tenant_body_too_large' },
  jwt_claim_unsafe: { status: 401, reason: 'jwt_claim_unsafe' },
  rate_limited: { status: 429, reason: 'rate_limited' },
  ratelimit_store_unavailable: { status: 503, reason: 'ratelimit_store_unavailable' },
  ratelimit_length_required: { status: 411, reason: 'ratelimit_length_required' },
} as const;

export type RefusalCode = keyof typeof REFUSALS;
