// Bounds on the work one tenant request may cost the gateway. Every parser a tenant can feed is
// bounded here, and every bound is checked before the work it limits: the body before it is
// read, each value before it is parsed, the decoded size of a write before it is decompressed.
// A refusal names the bound and the config key that raises it, so an operator can tell a
// hostile request from a legitimate one that needs a larger bound.
import { z } from 'zod';
import { TenantRefused } from './refusal.ts';

export interface TenantBounds {
  /** Body bytes read on read endpoints (a urlencoded form is parsed entry by entry). */
  readonly maxReadBodyBytes: number;
  /** Body bytes of a JSON request that is parsed and rebuilt (Alertmanager alerts and silences). */
  readonly maxJsonBodyBytes: number;
  /** Characters of one `query` or one `match[]` value. */
  readonly maxQueryLength: number;
  /** `match[]` values in one request (URL and form together). */
  readonly maxMatchParams: number;
  /** Series selectors after parsing, summed over the query and every match[] (promql). */
  readonly maxSelectors: number;
  /** A remote-write body may decode to at most this many times its compressed size… */
  readonly maxWriteDecodedRatio: number;
  /** …and never to more than this many bytes. */
  readonly maxWriteDecodedBytes: number;
  /** Timeseries in one remote-write request. */
  readonly maxWriteSeries: number;
  /** Labels on one written series, the tenant's included. */
  readonly maxWriteLabels: number;
}

export const DEFAULT_BOUNDS: TenantBounds = Object.freeze({
  maxReadBodyBytes: 256 * 1024,
  maxJsonBodyBytes: 1024 * 1024,
  maxQueryLength: 16 * 1024,
  maxMatchParams: 100,
  maxSelectors: 1000,
  maxWriteDecodedRatio: 32,
  maxWriteDecodedBytes: 32 * 1024 * 1024,
  maxWriteSeries: 100_000,
  maxWriteLabels: 64,
});

/** The config key of each bound, as the refusal messages name it. */
export const BOUND_KEYS: Readonly<Record<keyof TenantBounds, string>> = {
  maxReadBodyBytes: 'tenant.bounds.max_read_body_size',
  maxJsonBodyBytes: 'tenant.bounds.max_json_body_size',
  maxQueryLength: 'tenant.bounds.max_query_length',
  maxMatchParams: 'tenant.bounds.max_match_params',
  maxSelectors: 'tenant.bounds.max_selectors',
  maxWriteDecodedRatio: 'tenant.bounds.max_write_decoded_ratio',
  maxWriteDecodedBytes: 'tenant.bounds.max_write_decoded_size',
  maxWriteSeries: 'tenant.bounds.max_write_series',
  maxWriteLabels: 'tenant.bounds.max_write_labels',
};

const count = (max: number) => z.number({ error: 'expected an integer' }).int({ error: 'expected an integer' })
  .min(1, { error: 'must be positive' }).max(max, { error: `must be <= ${max}` });
// Bytes are capped below 2 GiB: a Buffer of that size is already past what one request should hold.
const bytes = count(2 ** 31 - 1);

export const boundsSchema = z.strictObject({
  max_read_body_size: bytes.optional(),
  max_json_body_size: bytes.optional(),
  max_query_length: count(16 * 1024 * 1024).optional(),
  max_match_params: count(1_000_000).optional(),
  max_selectors: count(1_000_000).optional(),
  max_write_decoded_ratio: count(1024).optional(),
  max_write_decoded_size: bytes.optional(),
  max_write_series: count(100_000_000).optional(),
  max_write_labels: count(10_000).optional(),
}, { error: 'expected a mapping of bounds (see docs/limits.md)' });

export function compileBounds(raw: z.infer<typeof boundsSchema> | undefined): TenantBounds {
  const d = DEFAULT_BOUNDS;
  return Object.freeze({
    maxReadBodyBytes: raw?.max_read_body_size ?? d.maxReadBodyBytes,
    maxJsonBodyBytes: raw?.max_json_body_size ?? d.maxJsonBodyBytes,
    maxQueryLength: raw?.max_query_length ?? d.maxQueryLength,
    maxMatchParams: raw?.max_match_params ?? d.maxMatchParams,
    maxSelectors: raw?.max_selectors ?? d.maxSelectors,
    maxWriteDecodedRatio: raw?.max_write_decoded_ratio ?? d.maxWriteDecodedRatio,
    maxWriteDecodedBytes: raw?.max_write_decoded_size ?? d.maxWriteDecodedBytes,
    maxWriteSeries: raw?.max_write_series ?? d.maxWriteSeries,
    maxWriteLabels: raw?.max_write_labels ?? d.maxWriteLabels,
  });
}

/** The decoded-size limit of one remote-write body: a multiple of its size, under an absolute cap. */
export function writeDecodedLimit(b: TenantBounds, compressedBytes: number): number {
  return Math.min(b.maxWriteDecodedBytes, b.maxWriteDecodedRatio * compressedBytes);
}

export function writeDecodedMessage(b: TenantBounds, compressedBytes: number, detail: string): string {
  const limit = writeDecodedLimit(b, compressedBytes);
  const byRatio = limit < b.maxWriteDecodedBytes;
  return `remote-write body decodes to more than ${limit} bytes (${detail}); the limit is ` + (byRatio
    ? `${BOUND_KEYS.maxWriteDecodedRatio}=${b.maxWriteDecodedRatio} times the ${compressedBytes} compressed bytes`
    : `${BOUND_KEYS.maxWriteDecodedBytes}=${b.maxWriteDecodedBytes}`);
}

/** Refuses a request whose `match[]` or query values are over their bounds, before any is parsed. */
export function checkReadValues(b: TenantBounds, match: readonly string[], queries: readonly string[]): void {
  if (match.length > b.maxMatchParams) {
    throw new TenantRefused(422, 'tenant_bound_match_params', `the request has ${match.length} match[] values; the limit is ${BOUND_KEYS.maxMatchParams}=${b.maxMatchParams}`);
  }
  for (const v of match) checkLength(b, 'match[]', v);
  for (const v of queries) checkLength(b, 'query', v);
}

function checkLength(b: TenantBounds, name: string, v: string): void {
  if (v.length > b.maxQueryLength) {
    throw new TenantRefused(413, 'tenant_bound_query_length', `a ${name} value is ${v.length} characters long; the limit is ${BOUND_KEYS.maxQueryLength}=${b.maxQueryLength}`);
  }
}

export function selectorsRefusal(b: TenantBounds, n: number): TenantRefused {
  return new TenantRefused(422, 'tenant_bound_selectors', `the request has ${n} series selectors or more; the limit is ${BOUND_KEYS.maxSelectors}=${b.maxSelectors}`);
}
