// Every bound of tenant.bounds: just under passes, just over is refused with the bound's reason
// and a message naming the config key; the config is validated strictly.
import { describe, test } from 'node:test';
import { alertmanagerGuard } from '../../../src/enforce/alertmanager/guard.ts';
import assert from 'node:assert/strict';
import { zstdCompressSync } from 'node:zlib';
import { FieldError } from '../../../src/config/errors.ts';
import { DEFAULT_BOUNDS } from '../../../src/enforce/tenant/bounds.ts';
import { WRITE_BYTES_PER_WORK_BYTE } from '../../../src/enforce/tenant/compile.ts';
import { snappyCompress } from '../../../src/enforce/remote-write/snappy-encode.ts';
import { encodeWriteRequest } from '../remote-write/proto-reference.ts';
import { forwarded, policy, refused, run } from './helpers.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const RW = { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' };

function over(d: ReturnType<typeof run>, status: number, reason: string, key: string) {
  const r = refused(d, status, reason);
  assert.ok(r.message.includes(key), `the message names ${key}: ${r.message}`);
}

describe('read bounds', () => {
  const pq = policy({ labels: { namespace: 'a' }, bounds: { max_read_body_size: 1000, max_query_length: 100, max_match_params: 3, max_selectors: 4 } });
  const vm = policy({ enforce: 'victoriametrics', labels: { namespace: 'a' }, bounds: { max_read_body_size: 1000, max_match_params: 3 } });

  test('the body limit of a read endpoint is the read bound; writes keep max_body_size', () => {
    assert.equal(pq.bodyLimit('POST', '/api/v1/series').bytes, 1000);
    assert.equal(pq.bodyLimit('GET', '/api/v1/query').bytes, 1000);
    assert.equal(pq.bodyLimit('POST', '/api/v1/write').bytes, 32 * 1024 * 1024);
    assert.equal(pq.bodyLimit('POST', '/api/v1/series').refusal.reason, 'tenant_bound_read_body');
    assert.ok(pq.bodyLimit('POST', '/api/v1/series').refusal.message.includes('tenant.bounds.max_read_body_size'));
    assert.equal(policy({ labels: { namespace: 'a' } }).bodyLimit('POST', '/api/v1/query').bytes, 256 * 1024);
  });

  test('read body: at the bound passes, one byte over is refused', () => {
    const body = (n: number) => 'query=' + 'x'.repeat(0) + 'up&pad=' + 'p'.repeat(n - 'query=up&pad='.length);
    forwarded(run(pq, { method: 'POST', path: '/api/v1/query', body: body(1000), headers: FORM }));
    over(run(pq, { method: 'POST', path: '/api/v1/query', body: body(1001), headers: FORM }), 413, 'tenant_bound_read_body', 'tenant.bounds.max_read_body_size');
  });

  test('query length: at the bound passes, one character over is refused (URL and form)', () => {
    const q = (n: number) => 'up' + ' '.repeat(n - 2);
    forwarded(run(pq, { path: '/api/v1/query', query: `query=${encodeURIComponent(q(100))}` }));
    over(run(pq, { path: '/api/v1/query', query: `query=${encodeURIComponent(q(101))}` }), 413, 'tenant_bound_query_length', 'tenant.bounds.max_query_length');
    over(run(pq, { method: 'POST', path: '/api/v1/query', body: `query=${encodeURIComponent(q(101))}`, headers: FORM }), 413, 'tenant_bound_query_length', 'tenant.bounds.max_query_length');
    over(run(pq, { path: '/api/v1/series', query: `match[]=${encodeURIComponent(q(101))}` }), 413, 'tenant_bound_query_length', 'tenant.bounds.max_query_length');
  });

  test('match[] count: URL and form values together', () => {
    forwarded(run(pq, { method: 'POST', path: '/api/v1/series', query: 'match[]=a', body: 'match[]=b&match[]=c', headers: FORM }));
    over(run(pq, { method: 'POST', path: '/api/v1/series', query: 'match[]=a', body: 'match[]=b&match[]=c&match[]=d', headers: FORM }), 422, 'tenant_bound_match_params', 'tenant.bounds.max_match_params');
    // enforce: victoriametrics does not parse selectors, but still bounds their number.
    forwarded(run(vm, { path: '/api/v1/series', query: 'match[]=a&match[]=b&match[]=c' }));
    over(run(vm, { path: '/api/v1/series', query: 'match[]=a&match[]=b&match[]=c&match[]=d' }), 422, 'tenant_bound_match_params', 'tenant.bounds.max_match_params');
  });

  test('selectors: counted in the query and over match[]', () => {
    forwarded(run(pq, { path: '/api/v1/query', query: `query=${encodeURIComponent('a+b+c+d')}` }));
    over(run(pq, { path: '/api/v1/query', query: `query=${encodeURIComponent('a+b+c+d+e')}` }), 422, 'tenant_bound_selectors', 'tenant.bounds.max_selectors');
    const many = policy({ labels: { namespace: 'a' }, bounds: { max_match_params: 10, max_selectors: 4 } });
    forwarded(run(many, { path: '/api/v1/series', query: 'match[]=a&match[]=b&match[]=c&match[]=d' }));
    over(run(many, { path: '/api/v1/series', query: 'match[]=a&match[]=b&match[]=c&match[]=d&match[]=e' }), 422, 'tenant_bound_selectors', 'tenant.bounds.max_selectors');
  });

  test('Alertmanager JSON bodies have their own bound', () => {
    const am = policy({ labels: { namespace: 'a' }, bounds: { max_json_body_size: 300 } });
    assert.equal(am.bodyLimit('POST', '/api/v2/alerts').bytes, 300);
    assert.equal(am.bodyLimit('POST', '/api/v2/alerts').refusal.reason, 'tenant_bound_json_body');
    assert.equal(policy({ labels: { namespace: 'a' } }).bodyLimit('POST', '/api/v2/silences').bytes, 1024 * 1024);
    const alerts = (n: number) => {
      const one = JSON.stringify([{ labels: { alertname: 'x', pad: '' }, annotations: {} }]);
      return JSON.stringify([{ labels: { alertname: 'x', pad: 'p'.repeat(n - one.length) }, annotations: {} }]);
    };
    const JSONH = { 'content-type': 'application/json' };
    // Alert posts need the route's Alertmanager config read and safe (test/unit/alertmanager/guard.test.ts).
    alertmanagerGuard.watch(am, ['am-bounds']);
    alertmanagerGuard.record('am-bounds', { kind: 'read', config: { route: { receiver: 'r', group_by: ['...'] } } });
    forwarded(run(am, { method: 'POST', path: '/api/v2/alerts', body: alerts(300), headers: JSONH }));
    over(run(am, { method: 'POST', path: '/api/v2/alerts', body: alerts(301), headers: JSONH }), 413, 'tenant_bound_json_body', 'tenant.bounds.max_json_body_size');
  });

  test('VictoriaLogs reads have the read body and query length bounds too', () => {
    const vl = policy({ enforce: 'victorialogs', logs: { account_id: 1, project_id: 0 }, bounds: { max_query_length: 10 } });
    forwarded(run(vl, { path: '/select/logsql/query', query: 'query=' + 'x'.repeat(10) }));
    over(run(vl, { path: '/select/logsql/query', query: 'query=' + 'x'.repeat(11) }), 413, 'tenant_bound_query_length', 'tenant.bounds.max_query_length');
  });
});

describe('remote-write bounds', () => {
  const series = (n: number, labels = 1) => encodeWriteRequest({
    timeseries: Array.from({ length: n }, (_, i) => ({
      labels: [['__name__', `m${i}`], ...Array.from({ length: labels - 1 }, (_, j) => [`l${j}`, 'v'] as [string, string])],
      samples: [{ value: 1, timestamp: 1 }],
    })),
  });

  test('series per write: at the bound passes, one more is refused (422)', () => {
    const p = policy({ labels: { namespace: 'a' }, bounds: { max_write_series: 5 } });
    forwarded(run(p, { method: 'POST', path: '/api/v1/write', body: Buffer.from(snappyCompress(series(5))), headers: RW }));
    over(run(p, { method: 'POST', path: '/api/v1/write', body: Buffer.from(snappyCompress(series(6))), headers: RW }), 422, 'tenant_bound_write_series', 'tenant.bounds.max_write_series');
  });

  test('labels per series, the tenant label included', () => {
    const p = policy({ labels: { namespace: 'a' }, bounds: { max_write_labels: 4 } });
    forwarded(run(p, { method: 'POST', path: '/api/v1/write', body: Buffer.from(snappyCompress(series(1, 3))), headers: RW }));
    over(run(p, { method: 'POST', path: '/api/v1/write', body: Buffer.from(snappyCompress(series(1, 4))), headers: RW }), 422, 'tenant_bound_write_labels', 'tenant.bounds.max_write_labels');
  });

  test('decoded size: the absolute cap, for snappy and zstd', () => {
    const raw = series(50);
    const exact = policy({ labels: { namespace: 'a' }, bounds: { max_write_decoded_size: raw.length, max_write_decoded_ratio: 1024 } });
    const under = policy({ labels: { namespace: 'a' }, bounds: { max_write_decoded_size: raw.length - 1, max_write_decoded_ratio: 1024 } });
    for (const [enc, body] of [['snappy', Buffer.from(snappyCompress(raw))], ['zstd', zstdCompressSync(raw)]] as const) {
      const headers = { ...RW, 'content-encoding': enc };
      forwarded(run(exact, { method: 'POST', path: '/api/v1/write', body, headers }));
      over(run(under, { method: 'POST', path: '/api/v1/write', body, headers }), 413, 'tenant_bound_write_decoded', 'tenant.bounds.max_write_decoded_size');
    }
  });

  test('decoded size: a multiple of the compressed size stops a zstd bomb far below the cap', () => {
    const p = policy({ labels: { namespace: 'a' } });
    // 16 MiB of zeros: under the 32 MiB cap, far over 32× its few hundred compressed bytes.
    const bomb = zstdCompressSync(new Uint8Array(16 << 20));
    assert.ok(bomb.length * DEFAULT_BOUNDS.maxWriteDecodedRatio < 16 << 20);
    over(run(p, { method: 'POST', path: '/api/v1/write', body: bomb, headers: { ...RW, 'content-encoding': 'zstd' } }), 413, 'tenant_bound_write_decoded', 'tenant.bounds.max_write_decoded_ratio');
    const raw = series(200);
    const body = zstdCompressSync(raw);
    const ratio = Math.ceil(raw.length / body.length);
    forwarded(run(policy({ labels: { namespace: 'a' }, bounds: { max_write_decoded_ratio: ratio } }), { method: 'POST', path: '/api/v1/write', body, headers: { ...RW, 'content-encoding': 'zstd' } }));
    over(run(policy({ labels: { namespace: 'a' }, bounds: { max_write_decoded_ratio: ratio - 1 } }), { method: 'POST', path: '/api/v1/write', body, headers: { ...RW, 'content-encoding': 'zstd' } }), 413, 'tenant_bound_write_decoded', 'tenant.bounds.max_write_decoded_ratio');
  });

  test('workSize: the decoded size of a write (weighted), the body and query of a read', () => {
    const p = policy({ labels: { namespace: 'a' } });
    const raw = series(100);
    const req = { method: 'POST', path: '/api/v1/write', rawQuery: '', headers: RW, body: Buffer.from(snappyCompress(raw)), access: null };
    assert.equal(p.workSize(req), Math.ceil(raw.length / WRITE_BYTES_PER_WORK_BYTE));
    // A snappy block declaring more than the decoded-size bound is refused at once, inline.
    const bomb = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
    assert.equal(p.workSize({ ...req, body: bomb }), 0);
    const zstd = { ...req, headers: { ...RW, 'content-encoding': 'zstd' }, body: zstdCompressSync(raw) };
    // zstd declares no size up front: the decoded-size bound is the estimate.
    assert.equal(p.workSize(zstd), Math.ceil(zstd.body.length * DEFAULT_BOUNDS.maxWriteDecodedRatio / WRITE_BYTES_PER_WORK_BYTE));
    const read = { method: 'POST', path: '/api/v1/series', rawQuery: 'a=b', headers: FORM, body: Buffer.from('match[]=up'), access: null };
    assert.equal(p.workSize(read), 3 + 10);
  });
});

describe('bounds config', () => {
  test('unknown keys and out-of-range values are config errors naming the field', () => {
    const bad = (bounds: unknown, field: string, msg: RegExp) => {
      assert.throws(() => policy({ labels: { namespace: 'a' }, bounds }), (e: unknown) => {
        assert.ok(e instanceof FieldError);
        assert.deepEqual(e.path.slice(-2), ['bounds', field]);
        assert.match(e.message, msg);
        return true;
      });
    };
    bad({ max_match: 1 }, 'max_match', /unknown field/);
    bad({ max_match_params: 0 }, 'max_match_params', /positive/);
    bad({ max_query_length: 1.5 }, 'max_query_length', /integer/);
    bad({ max_write_decoded_ratio: 5000 }, 'max_write_decoded_ratio', /<= 1024/);
    bad({ max_read_body_size: '1MiB' }, 'max_read_body_size', /integer/);
  });
});
