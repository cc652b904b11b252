// enforce: victorialogs — VictoriaLogs keeps tenants apart by the AccountID/ProjectID headers and
// narrows reads with `extra_filters` / `extra_stream_filters` (each ANDed with the query). tenantgate
// sets the headers (client values overwritten), sets the filter args and strips client copies,
// and stamps `extra_fields` on inserts.
import { encodeQuery } from '../../lib/go-url.ts';
import { allowedWriteArgs, victoriaLogsWriteHeadersToDrop } from './write-args.ts';
import type { TenantConfig } from './config.ts';
import type { Endpoint } from './classify.ts';
import { add, checkWriteBody, encodeParams, readParams, stripParams } from './params.ts';
import type { TenantForward, TenantRequest } from './policy.ts';
import type { LogsScope } from './scope.ts';

const READ_ARGS = ['extra_filters', 'extra_filters[]', 'extra_stream_filters', 'extra_stream_filters[]'] as const;
/** Client headers that could select a tenant or pass ingestion parameters past the query args. */
const CLIENT_HEADERS = ['x-scope-orgid', 'vl-extra-fields', 'vl-extra-filters', 'vl-extra-stream-filters'] as const;

function tenantHeaders(scope: LogsScope): (readonly [string, string])[] {
  return [['AccountID', String(scope.accountId)], ['ProjectID', String(scope.projectId)]];
}

export function enforceVictoriaLogs(ep: Endpoint, cfg: TenantConfig, scope: LogsScope, req: TenantRequest): TenantForward {
  const setHeaders = tenantHeaders(scope);
  if (ep.access === 'write') {
    checkWriteBody(req);
    // Only args (and their VL-* header forms) the operator allows by name reach VictoriaLogs.
    const url = allowedWriteArgs(req.rawQuery, cfg.writeArgs);
    const fields = cfg.logs?.extraFields ?? [];
    if (fields.length > 0) add(url, 'extra_fields', fields.map(([k, v]) => `${k}=${v}`).join(','));
    return { kind: 'forward', rawQuery: encodeQuery(url), setHeaders, removeHeaders: victoriaLogsWriteHeadersToDrop(req.headers, cfg.writeHeaders) };
  }
  const p = readParams(req, cfg.bounds);
  stripParams(p, READ_ARGS);
  for (const f of scope.extraFilters) add(p.url, 'extra_filters', f);
  for (const f of scope.extraStreamFilters) add(p.url, 'extra_stream_filters', f);
  return { kind: 'forward', ...encodeParams(p), setHeaders, removeHeaders: CLIENT_HEADERS };
}
