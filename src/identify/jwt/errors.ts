// Stable reason codes and error classes for JWT identification.
// Codes are part of the public surface: metrics labels and log fields use them verbatim,
// so never rename one; add a new code instead.

export const JWT_ERROR_CODES = [
  'ERR_JWT_TOO_LARGE',
  'ERR_JWT_MALFORMED',
  'ERR_JWT_ALG',
  'ERR_JWT_CLAIMS',
  'ERR_JWT_EXPIRED',
  'ERR_JWT_NOT_YET_VALID',
  'ERR_JWT_ISSUER',
  'ERR_JWT_AUDIENCE',
  'ERR_JWT_NO_MATCH',
  'ERR_JWT_NO_KEYS',
  'ERR_JWT_UNKNOWN_KID',
  'ERR_JWT_SIGNATURE',
  'ERR_JWT_VM_ACCESS',
  'ERR_JWT_NO_VM_ACCESS',
] as const;

/**
 * Why a token was refused.
 * - `ERR_JWT_TOO_LARGE`: longer than the size limit (16 KiB); refused before any parsing.
 * - `ERR_JWT_MALFORMED`: not three base64url parts, bad base64url, header/payload not a JSON object, `crit` present.
 * - `ERR_JWT_ALG`: `alg` missing, `none`, HMAC, or not usable with any key of the section.
 * - `ERR_JWT_CLAIMS`: `exp` missing, or a registered claim has the wrong type.
 * - `ERR_JWT_EXPIRED` / `ERR_JWT_NOT_YET_VALID`: `exp` passed / `nbf` or `iat` in the future (beyond skew).
 * - `ERR_JWT_ISSUER` / `ERR_JWT_AUDIENCE`: `iss` / `aud` not accepted by the section.
 * - `ERR_JWT_NO_MATCH`: no section's `match_claims` matched the token.
 * - `ERR_JWT_NO_KEYS`: the matching section has no keys yet (OIDC provider never reached).
 * - `ERR_JWT_UNKNOWN_KID`: the token names a `kid` the section does not know, even after a refresh.
 * - `ERR_JWT_SIGNATURE`: signature does not verify with any candidate key.
 * - `ERR_JWT_VM_ACCESS`: the `vm_access` claim is present but invalid (types, ranges, unsafe characters).
 * - `ERR_JWT_NO_VM_ACCESS`: the token has no `vm_access` claim and the section has no `default_vm_access_claim`.
 */
export type JwtErrorCode = (typeof JWT_ERROR_CODES)[number];

/** A `jwt:` section that cannot be used; thrown at config load. */
export class JwtConfigError extends Error {
  readonly code = 'ERR_JWT_CONFIG';
  readonly sectionIndex: number | undefined;
  readonly field: string;
  constructor(sectionIndex: number | undefined, field: string, message: string, options?: { cause?: unknown }) {
    const where = sectionIndex === undefined ? field : `users[${sectionIndex}].${field}`;
    super(`${where}: ${message}`, options);
    this.name = 'JwtConfigError';
    this.sectionIndex = sectionIndex;
    this.field = field;
  }
}

/** A placeholder template that cannot be used (config load) — unknown placeholder or wrong place. */
export class JwtPlaceholderConfigError extends Error {
  readonly code = 'ERR_JWT_PLACEHOLDER_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'JwtPlaceholderConfigError';
  }
}

/**
 * A claim value that would change the structure of the URL or header it is rendered into
 * (path segment, query argument, header line). Thrown at request time; the request must be refused.
 */
export class JwtPlaceholderValueError extends Error {
  readonly code = 'ERR_JWT_PLACEHOLDER_VALUE';
  readonly placeholder: string;
  /** The token does not name the tenant this placeholder needs (refused as tenant_unscoped). */
  readonly unscoped: boolean;
  constructor(placeholder: string, message: string, unscoped = false) {
    super(`${placeholder}: ${message}`);
    this.name = 'JwtPlaceholderValueError';
    this.placeholder = placeholder;
    this.unscoped = unscoped;
  }
}

/** Internal: one failed check, carried as a value (not thrown) on the hot path. */
export interface JwtFailure {
  readonly ok: false;
  readonly code: JwtErrorCode;
  readonly detail: string;
}

export function fail(code: JwtErrorCode, detail: string): JwtFailure {
  return { ok: false, code, detail };
}
