// Side by side: the real vmauth (Debian's victoria-metrics package) and tenantgate, same config,
// same requests, one recording backend. What the backend receives must be the same.
// Only features that Debian's vmauth (1.79.5) has are compared; newer ones are covered by
// proxy-behaviour.test.ts against vmauth's current documented behaviour.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { startEchoBackend, type EchoBackend, type Received } from '../helpers/echo-backend.ts';
import { startVmAuth, type VmAuth } from '../helpers/vmauth.ts';

let backend: EchoBackend;
let vmauth: VmAuth;
let tg: Gateway;

function send(port: number, path: string, headers: Record<string, string>, method = 'GET', body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** What matters of a received request; header names lower-cased, in a stable order. */
function view(r: Received | undefined) {
  assert.ok(r !== undefined, 'backend received nothing');
  const headers: Record<string, string> = {};
  for (let i = 0; i < r.rawHeaders.length; i += 2) {
    const k = (r.rawHeaders[i] as string).toLowerCase();
    // Transport-level headers that each HTTP client sets its own way.
    if (k === 'accept-encoding' || k === 'connection' || k === 'keep-alive') continue;
    // Changed in vmauth after 1.79.5, and tenantgate follows current vmauth: the Host header is
    // the backend's (1.79.5 forwarded the client's), User-Agent is "vmauth" (1.79.5 left Go's
    // default), and the vm-target-url debug header is no longer sent (it exposed backend URLs).
    // proxy-behaviour.test.ts checks the current behaviour of each.
    if (k === 'host' || k === 'user-agent' || k === 'vm-target-url') continue;
    // Deliberately different: vmauth forwards the client's Authorization; tenantgate keeps
    // credentials it consumed (unless the route sets forward_credentials). Asserted below.
    if (k === 'authorization') continue;
    headers[k] = headers[k] === undefined ? r.rawHeaders[i + 1] as string : `${headers[k]}, ${r.rawHeaders[i + 1] as string}`;
  }
  return { method: r.method, url: r.url, headers: Object.fromEntries(Object.entries(headers).sort()), body: r.body };
}

before(async () => {
  backend = await startEchoBackend('parity');
  const config = `
users:
- username: tenant-a
  password: secret
  url_prefix: "${backend.url}/select/0/prometheus/?extra_label=tenant=a&deny_partial_response=1"
  headers:
  - "X-Scope-OrgID: a"
- bearer_token: tok
  url_map:
  - src_paths: ["/api/v1/write"]
    url_prefix: "${backend.url}/insert/0/prometheus/"
  - src_paths: ["/api/v1/.+"]
    url_prefix: "${backend.url}/other/"
`;
  [vmauth, tg] = await Promise.all([startVmAuth(config), startGateway(config)]);
});

after(async () => {
  await Promise.all([tg?.stop(), vmauth?.stop()]);
  await backend?.close();
});

const cases: { name: string; path: string; headers: Record<string, string>; method?: string; body?: string }[] = [
  { name: 'plain query', path: '/api/v1/query?query=up', headers: { authorization: basic('tenant-a', 'secret') } },
  { name: 'client tries to override extra_label', path: '/api/v1/query?query=up&extra_label=tenant=b&extra_filters[]={x="y"}', headers: { authorization: basic('tenant-a', 'secret') } },
  { name: 'no client query args', path: '/api/v1/labels', headers: { authorization: basic('tenant-a', 'secret') } },
  { name: 'encoded and odd query', path: '/api/v1/query?query=sum%28rate%28x%5B5m%5D%29%29+by+%28job%29&a=1+2&b=%41', headers: { authorization: basic('tenant-a', 'secret') } },
  { name: 'dot segments', path: '/api/v1/../v1/./query?query=1', headers: { authorization: basic('tenant-a', 'secret') } },
  { name: 'trailing slash kept', path: '/api/v1/labels/', headers: { authorization: basic('tenant-a', 'secret') } },
  { name: 'custom and forwarded headers', path: '/api/v1/series', headers: { authorization: basic('tenant-a', 'secret'), 'x-custom': 'v', 'x-forwarded-for': '10.0.0.1', 'x-scope-orgid': 'spoofed' } },
  { name: 'POST body', path: '/api/v1/write', headers: { authorization: 'Bearer tok', 'content-type': 'application/x-protobuf' }, method: 'POST', body: 'binary-ish payload' },
  { name: 'second url_map entry, Bearer token as Basic username', path: '/api/v1/targets?x=1', headers: { authorization: basic('tok', '') } },
];

for (const c of cases) {
  test(`same backend request as vmauth: ${c.name}`, async () => {
    const r1 = await send(vmauth.port, c.path, c.headers, c.method, c.body);
    const fromVmauth = view(backend.received[backend.received.length - 1]);
    const r2 = await send(tg.port, c.path, c.headers, c.method, c.body);
    const fromTenantgate = view(backend.received[backend.received.length - 1]);
    assert.equal(r2.status, r1.status);
    assert.deepEqual(fromTenantgate, fromVmauth);
    const auth = (i: number) => backend.received[backend.received.length - i]?.headers['authorization'];
    assert.equal(auth(2), c.headers['authorization'], 'vmauth forwards the credential');
    assert.equal(auth(1), undefined, 'tenantgate does not');
  });
}
