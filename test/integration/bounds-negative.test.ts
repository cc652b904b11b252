// Every bound of tenant.bounds through the built gateway, against a recording backend: just
// under is forwarded, just over is refused with the documented status and a message naming the
// config key, counted by reason, and nothing over a bound reaches the backend. The same cases run
// with enforcement inline (-enforce.threads=0) and with every request in the worker pool
// (-enforce.offloadThreshold=0), so both paths give the same answers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { zstdCompressSync } from 'node:zlib';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.ts';
import { deniedTotal, postLarge, tenantGet, tenantPost } from '../helpers/tenant-http.ts';
import { snappyCompress } from '../../src/enforce/remote-write/snappy-encode.ts';
import { encodeWriteRequest } from '../unit/remote-write/proto-reference.ts';

const PQ = basic('prom-a', 'pass-prom-a');
const VM = basic('vm-a', 'pass-vm-a');
const DEC = basic('prom-dec', 'pass-prom-dec');
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const RW = { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' };

const series = (n: number, labels = 1) => encodeWriteRequest({
  timeseries: Array.from({ length: n }, (_, i) => ({
    labels: [['__name__', `m${i}`], ...Array.from({ length: labels - 1 }, (_, j) => [`l${j}`, 'v'] as [string, string])],
    samples: [{ value: 1, timestamp: 1 }],
  })),
});
const DECODED = series(40);

let backend: EchoBackend;

const MAX_RESPONSE = 100_000;
function rulesJson(size: number): string {
  const rule = (ns: string, pad: number) => ({ type: 'recording', name: `r_${ns}`, query: `sum(x{namespace="${ns}"})`, labels: { pad: 'p'.repeat(pad) } });
  const base = { status: 'success', data: { groups: [{ name: 'g', file: 'f', interval: 1, rules: [rule('a', 0), rule('b', 0)] }] } };
  const pad = size - JSON.stringify(base).length;
  base.data.groups[0]!.rules[1] = rule('b', pad);
  const text = JSON.stringify(base);
  assert.equal(text.length, size);
  return text;
}

before(async () => {
  backend = await startEchoBackend('rec');
  backend.respond((r, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    // /api/v1/rules?size=N answers N bytes of rules JSON: one of the tenant's, padded with others'.
    const size = Number(new URL(r.url, 'http://x').searchParams.get('size') ?? 0);
    res.end(size > 0 ? rulesJson(size) : '{"status":"success","data":[]}');
  });
});
after(() => backend?.close());

const config = () => `
users:
- username: prom-a
  password: pass-prom-a
  url_prefix: "${backend.url}/"
  tenant:
    labels: {namespace: a}
    max_response_size: ${MAX_RESPONSE}
    bounds: {max_read_body_size: 2000, max_json_body_size: 3000, max_query_length: 200, max_match_params: 5, max_selectors: 8, max_write_series: 10, max_write_labels: 4}
- username: prom-dec
  password: pass-prom-dec
  url_prefix: "${backend.url}/"
  tenant:
    labels: {namespace: a}
    bounds: {max_write_decoded_size: ${DECODED.length}}
- username: vm-a
  password: pass-vm-a
  url_prefix: "${backend.url}/"
  tenant:
    enforce: victoriametrics
    labels: {namespace: a}
    bounds: {max_read_body_size: 2000, max_match_params: 5}
`;

for (const [mode, flags] of [['inline', ['-enforce.threads=0']], ['worker pool', ['-enforce.offloadThreshold=0']]] as const) {
  describe(`bounds (${mode})`, () => {
    let gw: Gateway;
    before(async () => { gw = await startGateway(config(), { flags }); });
    after(() => gw?.stop());

    /** Sends, and checks the refusal (nothing forwarded) or the forward (backend reached). */
    async function expect(send: () => Promise<{ status: number; body: string }>, status: number, key?: string) {
      const before = backend.received.length;
      const r = await send();
      assert.equal(r.status, status, r.body);
      if (status === 200) {
        assert.equal(backend.received.length, before + 1, 'forwarded');
      } else {
        assert.equal(backend.received.length, before, 'nothing over a bound is forwarded');
        if (key !== undefined) assert.ok(r.body.includes(key), `the message names ${key}: ${r.body}`);
      }
    }
    const get = (auth: string, path: string) => () => tenantGet(gw.url, path, auth);
    const post = (auth: string, path: string, body: string | Uint8Array, headers: Record<string, string>) => () => tenantPost(gw.url, path, auth, body, headers);
    const form = (n: number) => 'match[]=up&pad=' + 'p'.repeat(n - 'match[]=up&pad='.length);

    test('read body size (both enforce kinds), refused before it is parsed', async () => {
      for (const auth of [PQ, VM]) {
        await expect(post(auth, '/api/v1/series', form(2000), FORM), 200);
        await expect(post(auth, '/api/v1/series', form(2001), FORM), 413, 'tenant.bounds.max_read_body_size');
      }
      // A body far over the bound (the old default read 32 MiB) is refused after 2000 bytes: the
      // client gets the 413, or the connection closed under its upload.
      const before = backend.received.length;
      const r = await postLarge(gw.url, '/api/v1/series', PQ, form(4 << 20), FORM);
      assert.ok(r.status === 413 || r.status === 0, `${r.status} ${r.body}`);
      assert.equal(backend.received.length, before);
    });

    test('match[] values', async () => {
      const m = (n: number) => Array.from({ length: n }, (_, i) => `match[]=m${i}`).join('&');
      for (const auth of [PQ, VM]) {
        await expect(get(auth, `/api/v1/series?${m(5)}`), 200);
        await expect(get(auth, `/api/v1/series?${m(6)}`), 422, 'tenant.bounds.max_match_params');
        await expect(post(auth, '/api/v1/series', m(6), FORM), 422, 'tenant.bounds.max_match_params');
      }
    });

    test('query length', async () => {
      const q = (n: number) => encodeURIComponent('up' + ' '.repeat(n - 2));
      await expect(get(PQ, `/api/v1/query?query=${q(200)}`), 200);
      await expect(get(PQ, `/api/v1/query?query=${q(201)}`), 413, 'tenant.bounds.max_query_length');
      await expect(post(PQ, '/api/v1/query', `query=${q(201)}`, FORM), 413, 'tenant.bounds.max_query_length');
    });

    test('selectors in a query', async () => {
      const sel = (n: number) => encodeURIComponent(Array.from({ length: n }, (_, i) => `m${i}`).join(' + '));
      // Long enough to be counted: the count starts at 2 × max_selectors − 1 characters.
      await expect(get(PQ, `/api/v1/query?query=${sel(8)}`), 200);
      await expect(get(PQ, `/api/v1/query?query=${sel(9)}`), 422, 'tenant.bounds.max_selectors');
    });

    test('series and labels per write', async () => {
      await expect(post(PQ, '/api/v1/write', snappyCompress(series(10)), RW), 200);
      await expect(post(PQ, '/api/v1/write', snappyCompress(series(11)), RW), 422, 'tenant.bounds.max_write_series');
      await expect(post(PQ, '/api/v1/write', snappyCompress(series(1, 3)), RW), 200);
      await expect(post(PQ, '/api/v1/write', snappyCompress(series(1, 4)), RW), 422, 'tenant.bounds.max_write_labels');
    });

    test('decoded write size, snappy and zstd', async () => {
      const bigger = series(41);
      await expect(post(DEC, '/api/v1/write', snappyCompress(DECODED), RW), 200);
      await expect(post(DEC, '/api/v1/write', snappyCompress(bigger), RW), 413, 'tenant.bounds.max_write_decoded_size');
      const ZSTD = { ...RW, 'content-encoding': 'zstd' };
      await expect(post(DEC, '/api/v1/write', zstdCompressSync(DECODED), ZSTD), 200);
      await expect(post(DEC, '/api/v1/write', zstdCompressSync(bigger), ZSTD), 413, 'tenant.bounds.max_write_decoded_size');
      // A zstd bomb: 256 MiB of zeros in a few KiB stops at 32× its size (default ratio).
      await expect(post(DEC, '/api/v1/write', zstdCompressSync(new Uint8Array(256 << 20)), ZSTD), 413, 'tenant.bounds.max_write_decoded_');
    });

    test('Alertmanager JSON body size', async () => {
      // A silence (alert posts also need a safe Alertmanager config, which a recording backend has not).
      const silence = (n: number) => {
        const base = { matchers: [{ name: 'namespace', value: 'a', isRegex: false }], startsAt: '2030-01-01T00:00:00Z', endsAt: '2030-01-02T00:00:00Z', createdBy: 'c' };
        const one = JSON.stringify({ ...base, comment: '' });
        return JSON.stringify({ ...base, comment: 'p'.repeat(n - one.length) });
      };
      const JSONH = { 'content-type': 'application/json' };
      await expect(post(PQ, '/api/v2/silences', silence(3000), JSONH), 200);
      await expect(post(PQ, '/api/v2/silences', silence(3001), JSONH), 413, 'tenant.bounds.max_json_body_size');
    });

    test('filtered response size: at the bound it is filtered, one byte over is refused and not passed on', async () => {
      const at = await tenantGet(gw.url, `/api/v1/rules?size=${MAX_RESPONSE}`, PQ);
      assert.equal(at.status, 200, at.body);
      assert.deepEqual(JSON.parse(at.body).data.groups[0].rules.map((r: { name: string }) => r.name), ['r_a']);
      const over = await tenantGet(gw.url, `/api/v1/rules?size=${MAX_RESPONSE + 1}`, PQ);
      assert.equal(over.status, 422, over.body);
      assert.ok(over.body.includes('tenant.max_response_size'), over.body);
      assert.ok(!over.body.includes('r_b'), 'nothing of the unfiltered answer reaches the client');
    });

    test('refusals are counted by reason', async () => {
      const text = await (await fetch(`${gw.url}/metrics`)).text();
      for (const reason of ['tenant_bound_read_body', 'tenant_bound_json_body', 'tenant_bound_match_params', 'tenant_bound_query_length', 'tenant_bound_selectors', 'tenant_bound_write_series', 'tenant_bound_write_labels', 'tenant_bound_write_decoded', 'tenant_bound_response_size']) {
        assert.ok(deniedTotal(text, reason) > 0, reason);
      }
    });
  });
}
