// `tenant: {enforce: victorialogs}` through the real gateway. VictoriaLogs is not packaged for
// Debian on this machine, so the backend is the recording echo backend: the tests check exactly
// what VictoriaLogs would receive (tenant headers, filter and field args), including when the
// client tries to pick another tenant.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.ts';
import { tenantGet, tenantPost } from '../helpers/tenant-http.ts';
import { parseQuery } from '../../src/lib/go-url.ts';

let logs: EchoBackend;
let gw: Gateway;
const A = basic('team-a', 'pass-a');
const B = basic('team-b', 'pass-b');
const W = basic('shipper-a', 'pass-w');

before(async () => {
  logs = await startEchoBackend('vlogs');
  gw = await startGateway(`
users:
- username: team-a
  password: pass-a
  url_prefix: "${logs.url}/"
  tenant:
    enforce: victorialogs
    logs: {account_id: 1, project_id: 10, extra_stream_filters: ['{namespace="team-a"}'], extra_filters: ['level:!debug']}
- username: team-b
  password: pass-b
  url_prefix: "${logs.url}/"
  tenant: {enforce: victorialogs, logs: {account_id: 2}}
- username: shipper-a
  password: pass-w
  url_prefix: "${logs.url}/"
  tenant: {enforce: victorialogs, mode: write, write_args: [_stream_fields], logs: {account_id: 1, project_id: 10, extra_fields: {namespace: team-a, cluster: eu}}}
`);
});

after(async () => {
  await gw?.stop();
  await logs?.close();
});

function lastArgs(): Map<string, string[]> {
  const url = logs.received.at(-1)!.url;
  return parseQuery(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
}

describe('VictoriaLogs tenancy', () => {
  test('reads carry the configured tenant headers and filters', async () => {
    const r = await tenantGet(gw.url, '/select/logsql/query?query=error', A);
    assert.equal(r.status, 200, r.body);
    assert.equal(logs.header('accountid'), '1');
    assert.equal(logs.header('projectid'), '10');
    const args = lastArgs();
    assert.deepEqual(args.get('extra_stream_filters'), ['{namespace="team-a"}']);
    assert.deepEqual(args.get('extra_filters'), ['level:!debug']);
    assert.deepEqual(args.get('query'), ['error']);
  });

  test('spoofed AccountID / ProjectID headers are overwritten', async () => {
    await tenantGet(gw.url, '/select/logsql/hits?query=*', B, { AccountID: '1', ProjectID: '10', 'X-Scope-OrgID': '1' });
    assert.equal(logs.header('accountid'), '2');
    assert.equal(logs.header('projectid'), '0');
    assert.equal(logs.header('x-scope-orgid'), undefined);
  });

  test('client extra_filters / extra_stream_filters are stripped from the URL and the form body', async () => {
    const r = await tenantPost(gw.url, '/select/logsql/query?extra_filters=*&extra_stream_filters={namespace=~".*"}', A,
      'query=*&extra_filters=%2A&extra_stream_filters%5B%5D=%7B%7D', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(r.status, 200, r.body);
    const args = lastArgs();
    assert.deepEqual(args.get('extra_stream_filters'), ['{namespace="team-a"}']);
    assert.deepEqual(args.get('extra_filters'), ['level:!debug']);
    const body = parseQuery(logs.received.at(-1)!.body);
    assert.deepEqual([...body.keys()], ['query']);
  });

  test('multipart bodies are refused', async () => {
    const fd = new FormData();
    fd.append('query', '*');
    fd.append('extra_stream_filters', '{}');
    const r = await tenantPost(gw.url, '/select/logsql/query', A, fd);
    assert.equal(r.status, 415, r.body);
  });

  test('/select/tenant_ids and unknown paths are refused', async () => {
    for (const path of ['/select/tenant_ids', '/select//tenant_ids', '/select/logsql/../tenant_ids', '/internal/insert', '/select/vmui/', '/api/v1/query?query=up']) {
      const before = logs.received.length;
      const r = await tenantGet(gw.url, path, A);
      assert.equal(r.status, 403, `${path}: ${r.status} ${r.body}`);
      assert.equal(logs.received.length, before, `${path} reached the backend`);
    }
  });

  test('inserts get the tenant headers and extra_fields; client extra_fields are replaced', async () => {
    const r = await tenantPost(gw.url, '/insert/jsonline?_stream_fields=app&extra_fields=namespace=team-b', W, '{"_msg":"hello","app":"x"}\n',
      { AccountID: '2', 'VL-Extra-Fields': 'namespace=team-b' });
    assert.equal(r.status, 200, r.body);
    assert.equal(logs.header('accountid'), '1');
    assert.equal(logs.header('projectid'), '10');
    assert.equal(logs.header('vl-extra-fields'), undefined);
    const args = lastArgs();
    assert.deepEqual(args.get('extra_fields'), ['cluster=eu,namespace=team-a']);
    assert.deepEqual(args.get('_stream_fields'), ['app']);
    assert.equal(logs.received.at(-1)!.body, '{"_msg":"hello","app":"x"}\n');
  });

  test('a write-only user cannot read; a read_write user can insert', async () => {
    assert.equal((await tenantGet(gw.url, '/select/logsql/query?query=*', W)).status, 403);
    assert.equal((await tenantPost(gw.url, '/insert/loki/api/v1/push', A, '{}', { 'content-type': 'application/json' })).status, 200);
  });
});
