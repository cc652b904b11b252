// /api/v1/metadata for a tenant: the backend's metric metadata (type, help, unit by metric family)
// covers every tenant, so the answer keeps only the families of metric names the tenant has. Those
// names come from a second request to the same backend, /api/v1/label/__name__/values scoped to
// the tenant, made by the forwarder before it filters the answer.
import { gunzipSync } from 'node:zlib';
import { PromqlResponseError } from '../promql/index.ts';
import type { ResponseFilter, ResponseLookup } from './policy.ts';

/** Suffixes a series name adds to its metadata family name (OpenMetrics and Prometheus text formats). */
const FAMILY_SUFFIXES = ['', '_total', '_bucket', '_sum', '_count', '_created', '_info', '_gsum', '_gcount'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function successData(json: unknown, what: string): unknown {
  if (!isObject(json) || json.status !== 'success') throw new PromqlResponseError(what, 'expected {"status":"success",…}');
  return json.data;
}

/** Keeps the metadata of families one of `names` belongs to. */
export function filterMetadata(metadataJson: unknown, namesJson: unknown): unknown {
  const names = successData(namesJson, 'label values');
  if (!Array.isArray(names)) throw new PromqlResponseError('data', 'expected the metric names as an array');
  const own = new Set(names.filter((n): n is string => typeof n === 'string'));
  const data = successData(metadataJson, 'metadata');
  if (!isObject(data)) throw new PromqlResponseError('data', 'expected metadata as an object');
  const kept: Record<string, unknown> = {};
  for (const [family, entries] of Object.entries(data)) {
    if (FAMILY_SUFFIXES.some((s) => own.has(family + s))) kept[family] = entries;
  }
  return { ...(metadataJson as Record<string, unknown>), data: kept };
}

function parse(body: Buffer): unknown {
  // Sent without Accept-Encoding, but a backend may compress anyway.
  const raw = body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body, { maxOutputLength: 256 * 1024 * 1024 }) : body;
  return JSON.parse(raw.toString('utf8'));
}

/** The response filter for /api/v1/metadata; `nameQuery` scopes the metric-name lookup to the tenant. */
export function metadataFilter(maxBytes: number, nameQuery: string): ResponseFilter {
  const lookup: ResponseLookup = { replaces: '/api/v1/metadata', path: '/api/v1/label/__name__/values', addQuery: nameQuery };
  return {
    maxBytes,
    lookup,
    filter(status, _contentType, body, names) {
      if (status < 200 || status >= 300) return body;
      if (names === undefined) throw new Error('the metric-name lookup did not run');
      return Buffer.from(JSON.stringify(filterMetadata(parse(body), parse(names))), 'utf8');
    },
  };
}
