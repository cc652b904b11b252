// Which budget a request draws on besides `requests`: a read query (queries_per_second,
// max_concurrent_queries) or a write (write_samples / write_bytes). Decided from the path the
// client sent, by the suffixes of the Prometheus, VictoriaMetrics and VictoriaLogs APIs, so it
// works for every user, with or without a `tenant:` section.

export type RequestKind = 'query' | 'write' | 'other';

const QUERY_SUFFIXES = [
  '/api/v1/query', '/api/v1/query_range', '/api/v1/query_exemplars', '/api/v1/series', '/api/v1/labels',
  '/api/v1/export', '/api/v1/export/csv', '/api/v1/export/native', '/federate',
];
const WRITE_SUFFIXES = [
  '/api/v1/write', '/api/v1/push', '/api/v1/import', '/api/v1/import/csv', '/api/v1/import/native',
  '/api/v1/import/prometheus', '/api/v2/write', '/write', '/v1/metrics', '/v1/logs',
];

export function requestKind(path: string): RequestKind {
  // Backends that route `/api/v1/query/` like `/api/v1/query` must not let a slash skip the limit.
  if (path.endsWith('/')) path = path.replace(/\/+$/, '');
  // Cheap rejections first: every query path has /api/v1/, /federate or /select/logsql/.
  if (path.includes('/select/logsql/')) return 'query';
  if (path.includes('/insert/')) return 'write';
  for (const s of QUERY_SUFFIXES) if (path.endsWith(s)) return 'query';
  if (path.includes('/api/v1/label/') && path.endsWith('/values')) return 'query';
  for (const s of WRITE_SUFFIXES) if (path.endsWith(s)) return 'write';
  return 'other';
}
