// Runtime options derived from command-line flags, resolved once at start-up.
import type { CompileDefaults } from '../config/compile.ts';
import type { RateStore } from '../limit/rate-store.ts';
import type { RateLimitSettings } from '../limit/store-settings.ts';

export interface GatewayOptions {
  readonly authHeaderNames: readonly string[];
  readonly logInvalidAuthTokens: boolean;
  readonly unauthorizedDelayMs: number;
  readonly removeXffValue: boolean;
  readonly maxRequestBodySizeToRetry: number;
  readonly requestBufferSize: number;
  readonly maxConcurrentRequests: number;
  /** -workers=N: this worker's share of a user's max_concurrent_requests (unset: the whole limit). */
  readonly userLimitShare?: (limit: number) => number;
  readonly maxQueueDurationMs: number;
  /** -maxBufferedBytesPerUser: request-body bytes one user may hold in memory at once; 0 means no cap. */
  readonly maxBufferedBytesPerUser: number;
  /** -maxConnectionsPerUser: client connections one user may keep open at once; 0 means no cap. */
  readonly maxConnectionsPerUser: number;
  /** -requestBodyIdleTimeout: a streamed request body that sends nothing for this long is cut off. */
  readonly requestBodyIdleTimeoutMs: number;
  readonly disableCors: boolean;
  /** -httpRealIPHeader, lower-cased: where IP filters read the client IP when a filter names none. */
  readonly realIpHeader: string | null;
  readonly securityHeaders: readonly (readonly [string, string])[];
  readonly compile: CompileDefaults;
  /** -ratelimit.* flags (unset: the in-process store, failing open). */
  readonly rateLimit?: RateLimitSettings;
  /** Overrides the store -ratelimit.store selects (cluster workers ask the primary's buckets). */
  readonly rateStore?: () => RateStore;
}
