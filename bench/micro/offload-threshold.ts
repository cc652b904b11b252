/**
 * Where -enforce.offloadThreshold should sit. Run: ./node_modules/.bin/node bench/micro/offload-threshold.ts
 * For requests of growing size it reports the median µs of (a) inline enforcement on this thread
 * (what the event loop is held for) and (b) the same request through a one-thread work pool
 * (round trip: structured clone in and out, enforcement, the message hop), for the request kinds
 * a tenant can make large: a match[] form body, a long PromQL query, a snappy and a zstd remote
 * write. Below the threshold the hop costs more than it saves; above it the event loop would be
 * held for longer than a small request takes.
 */
import { zstdCompressSync } from 'node:zlib';
import { compileTenantPolicy } from '../../src/enforce/tenant/compile.ts';
import type { TenantRequest } from '../../src/enforce/tenant/policy.ts';
import { snappyCompress } from '../../src/enforce/remote-write/snappy-encode.ts';
import { WorkPool } from '../../src/offload/work-pool.ts';
import { encodeWriteRequest } from '../../test/unit/remote-write/proto-reference.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const policy = compileTenantPolicy({ labels: { namespace: 'team-a' }, bounds: { max_read_body_size: 64 << 20, max_match_params: 1_000_000, max_selectors: 1_000_000, max_query_length: 16 << 20, max_write_series: 10_000_000 } }, ['tenant']);
const pool = new WorkPool({ threads: 1, maxQueuedPerKey: 1000 });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

async function measure(fn: () => unknown): Promise<number> {
  await fn();
  const per: number[] = [];
  const iter = 5;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iter; i++) await fn();
    per.push(Number(process.hrtime.bigint() - t0) / 1000 / iter);
  }
  return median(per);
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
function seriesBody(bytes: number): TenantRequest {
  const one = 'match[]=' + encodeURIComponent('http_requests_total{job="api",code=~"5.."}') + '&';
  const body = Buffer.from(one.repeat(Math.max(1, Math.floor(bytes / one.length))));
  return { method: 'POST', path: '/api/v1/series', rawQuery: '', headers: FORM, body, access: null };
}
function longQuery(bytes: number): TenantRequest {
  // A dashboard variable expanded into a regex: the usual way a query grows long.
  const pods = Array.from({ length: Math.max(1, Math.floor(bytes / 12)) }, (_, i) => `api-${i.toString(36).padStart(6, '0')}`);
  const q = `sum by (pod) (rate(http_requests_total{job="api",pod=~"${pods.join('|')}"}[5m]))`;
  return { method: 'POST', path: '/api/v1/query', rawQuery: '', headers: FORM, body: Buffer.from('query=' + encodeURIComponent(q)), access: null };
}
function write(bytes: number, enc: 'snappy' | 'zstd'): TenantRequest {
  const n = Math.max(1, Math.floor(bytes / 120));
  const raw = encodeWriteRequest({
    timeseries: Array.from({ length: n }, (_, i) => ({
      labels: [['__name__', 'http_requests_total'], ['instance', `10.0.${i % 250}.${i % 7}:9100`], ['job', 'api'], ['pod', `api-${i}`]],
      samples: [{ value: i, timestamp: 1_700_000_000_000 + i }],
    })),
  });
  const body = Buffer.from(enc === 'snappy' ? snappyCompress(raw) : zstdCompressSync(raw));
  return { method: 'POST', path: '/api/v1/write', rawQuery: '', headers: { 'content-type': 'application/x-protobuf', 'content-encoding': enc }, body, access: null };
}

const kinds: Array<[string, (b: number) => TenantRequest]> = [
  ['match[] form', seriesBody],
  ['long query', longQuery],
  ['remote write snappy', (b) => write(b, 'snappy')],
  ['remote write zstd', (b) => write(b, 'zstd')],
];
const SIZES = [1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20];

console.log("| request | work size (-enforce.offloadThreshold units) | inline µs | pool round trip µs |");
console.log('|---|---|---|---|');
for (const [name, make] of kinds) {
  for (const size of SIZES) {
    // The PromQL parser refuses queries over 64 KiB.
    if (name === 'long query' && size > 60 << 10) continue;
    const req = make(size);
    const d = policy.enforce(req);
    if (d.kind !== 'forward') throw new Error(`${name} ${size}: ${d.kind === 'refuse' ? d.message : ''}`);
    const inline = await measure(() => policy.enforce(req));
    const pooled = await measure(() => pool.run('k', { kind: 'tenant', source: policy.source, req }));
    console.log(`| ${name} | ${policy.workSize(req)} | ${inline.toFixed(0)} | ${pooled.toFixed(0)} |`);
  }
}
const tiny: TenantRequest = { method: 'GET', path: '/api/v1/query', rawQuery: 'query=up', headers: {}, body: null, access: null };
const trivial = await measure(() => pool.run('k', { kind: 'tenant', source: policy.source, req: tiny }));
console.log(`\npool round trip of query=up (the hop alone): ${trivial.toFixed(0)} µs; inline: ${(await measure(() => policy.enforce(tiny))).toFixed(1)} µs`);
await pool.close();
