// The compiled, immutable form of -auth.config that the request path reads. Everything a request
// needs (regexes, parsed URL prefixes, header lists, credential digests) is prepared here once.
import type { WholeMatcher } from '../lib/regex.ts';
import type { QueryValues } from '../lib/go-url.ts';
import type { BackendSet } from '../forward/backend-set.ts';
import type { IpFilter } from '../authorize/ip-filter.ts';
import type { CompiledHeaders, JwtAuthenticator } from '../identify/jwt/index.ts';
import type { TenantPolicy } from '../enforce/tenant/policy.ts';
import type { HashedPasswordUsers } from '../identify/password-hash.ts';
import type { RouteGuard } from '../authorize/route-guard.ts';
import type { RateLimits } from '../limit/config.ts';

/** A header to set (`value` non-empty) or remove (`value` empty) — vmauth's `headers` semantics. */
export interface HeaderOp {
  readonly name: string;
  readonly lower: string;
  readonly value: string;
}

export interface QueryArgMatcher { readonly name: string; readonly value: WholeMatcher }
export interface HeaderMatcher { readonly lower: string; readonly value: string }

export interface RouteOptions {
  readonly backends: BackendSet;
  readonly requestHeaders: readonly HeaderOp[];
  /** For JWT users whose headers hold `{{.Placeholders}}`: rendered per request instead of requestHeaders. */
  readonly headerTemplate: CompiledHeaders | null;
  readonly responseHeaders: readonly HeaderOp[];
  /** Host header override from `headers: ["Host: …"]`, or null. */
  readonly hostOverride: string | null;
  readonly keepOriginalHost: boolean;
  readonly mergeQueryArgs: ReadonlySet<string>;
  readonly dropSrcPathPrefixParts: number;
  readonly ipFilter: IpFilter | null;
  /** deny_paths and the secure-default refusals for vmauth-style tenants (authorize/route-guard.ts), or null. */
  readonly guard: RouteGuard | null;
  /** tenantgate tenant enforcement for this route, or null. */
  readonly tenant: TenantPolicy | null;
}

export interface CompiledRoute extends RouteOptions {
  readonly index: number;
  readonly srcPaths: readonly WholeMatcher[];
  readonly srcHosts: readonly WholeMatcher[];
  readonly srcQueryArgs: readonly QueryArgMatcher[];
  readonly srcHeaders: readonly HeaderMatcher[];
}

export type UserKind = 'basic' | 'bearer' | 'auth_token' | 'jwt' | 'mtls' | 'unauthorized';

/** A user identified by the subject of its verified client certificate; unset fields match anything. */
export interface MtlsUser {
  readonly organizationalUnit: string | null;
  readonly organization: string | null;
  readonly commonName: string | null;
  readonly user: CompiledUser;
}

export interface CompiledUser {
  readonly kind: UserKind;
  /** Metric label value (`name`, else `username`, else a hash of the token); '' for unauthorized_user. */
  readonly metricName: string;
  /** Name used in logs and error messages. */
  readonly logName: string;
  /** Pre-rendered `{username="…",…}` label set for per-user metrics. */
  readonly metricLabels: Readonly<Record<string, string>>;
  readonly routes: readonly CompiledRoute[];
  /** The user-level `url_prefix` route (no src_* matchers), or null. */
  readonly fallback: RouteOptions | null;
  /** `default_url`, used with the `request_path` query arg when nothing matched. */
  readonly defaultUrl: RouteOptions | null;
  readonly hasAnyUrls: boolean;
  readonly maxConcurrentRequests: number;
  readonly dumpRequestOnErrors: boolean;
  readonly accessLog: { readonly skipStatusCodes: ReadonlySet<number> } | null;
  readonly ipFilter: IpFilter | null;
  /** `limits:` (rate limits, concurrent queries), or null when the user has none. */
  readonly limits: RateLimits | null;
}

export interface CompiledConfig {
  /** Where the config came from (path or URL), for messages. */
  readonly source: string;
  /** Credential digest (see identify/credentials.ts) → user. */
  readonly usersByCredential: ReadonlyMap<string, CompiledUser>;
  readonly users: readonly CompiledUser[];
  readonly unauthorizedUser: CompiledUser | null;
  readonly ipFilter: IpFilter | null;
  /** JWT identification, when any user has a `jwt` section. Owns background key refresh: close() it when retired. */
  readonly jwt: { readonly authenticator: JwtAuthenticator; readonly users: ReadonlyMap<number, CompiledUser> } | null;
  /** Basic-auth users with `password_hash:` (bcrypt), verified on demand. */
  readonly hashedPasswordUsers: HashedPasswordUsers;
  /** Users matched by client certificate (`mtls:`), in config order. */
  readonly mtlsUsers: readonly MtlsUser[];
  /** Every backend set, so a reload can retire them. */
  readonly backendSets: readonly BackendSet[];
}

export type { QueryValues };
