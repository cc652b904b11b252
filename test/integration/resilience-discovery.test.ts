// Backend discovery through the tenantgate process, with real DNS answers from a responder on
// 127.0.0.1 (-backend.dnsServer): discover_backend_ips balances over every A/AAAA address,
// srv+ URLs over SRV targets (with discovery) or per connection (without), and re-resolution
// keeps requests in flight on addresses that vanished.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { freePort, sleep } from '../helpers/processes.ts';
import { startDnsResponder, type DnsResponder } from '../unit/forward/dns-responder.ts';

interface Recorder { readonly name: string; readonly hosts: string[]; count: number; server: Server }

const servers: Server[] = [];
async function recorder(name: string, host: string, port = 0): Promise<Recorder & { port: number }> {
  const r: Recorder = { name, hosts: [], count: 0, server: null as unknown as Server };
  r.server = createServer((req, res) => {
    r.count++;
    r.hosts.push(req.headers.host ?? '');
    setTimeout(() => res.end(`${name} ${req.url}`), req.url?.startsWith('/slow') ? 1500 : 0);
  });
  await new Promise<void>((resolve, reject) => { r.server.once('error', reject); r.server.listen(port, host, resolve); });
  servers.push(r.server);
  return { ...r, get count() { return r.count; }, port: (r.server.address() as AddressInfo).port };
}

let dns: DnsResponder;
let v4: Recorder;
let v6: Recorder;
let srvs: (Recorder & { port: number })[];
let gw: Gateway;
let ipPort = 0;

before(async () => {
  // The same port on 127.0.0.1 and ::1: one hostname, two addresses.
  for (let i = 0; i < 5 && ipPort === 0; i++) {
    const p = await freePort();
    try {
      v4 = await recorder('v4', '127.0.0.1', p);
      v6 = await recorder('v6', '::1', p);
      ipPort = p;
    } catch { /* ::1 port taken: try another */ }
  }
  assert.ok(ipPort > 0, 'could not bind one port on both 127.0.0.1 and ::1');
  srvs = [await recorder('s1', '127.0.0.1'), await recorder('s2', '127.0.0.1'), await recorder('s3', '127.0.0.1')];
  dns = await startDnsResponder({
    'backends.test': { a: ['127.0.0.1'], aaaa: ['::1'] },
    '_vm._tcp.test': { srv: srvs.map((s) => ({ priority: 10, weight: 10, port: s.port, target: 'localhost' })) },
    '_one._tcp.test': { srv: [{ priority: 10, weight: 10, port: (srvs[0] as Recorder & { port: number }).port, target: 'localhost' }] },
  });
  gw = await startGateway(`
users:
- username: ips
  password: ips-secret
  url_prefix: http://backends.test:${ipPort}/
  discover_backend_ips: true
- username: srv
  password: srv-secret
  url_prefix: http://srv+_vm._tcp.test/
  discover_backend_ips: true
- username: srvdial
  password: srvdial-secret
  url_prefix: http://srv+_one._tcp.test/
`, { flags: [`-backend.dnsServer=${dns.server}`, '-discoverBackendIPsInterval=1s'] });
});

after(async () => {
  await gw?.stop();
  await dns?.close();
  for (const s of servers) { s.closeAllConnections(); s.close(); }
});

async function get(user: string, path = '/q'): Promise<{ status: number; body: string }> {
  const r = await fetch(`${gw.url}${path}`, { headers: { authorization: basic(user, `${user}-secret`) } });
  return { status: r.status, body: await r.text() };
}

describe('discover_backend_ips', () => {
  test('a hostname with an A and an AAAA record is balanced over both addresses', async () => {
    await get('ips'); // the first lookup runs at config load; make sure it has answered
    await sleep(100);
    const [a, b] = [v4.count, v6.count];
    for (let i = 0; i < 20; i++) assert.equal((await get('ips')).status, 200);
    assert.equal(v4.count - a + v6.count - b, 20);
    assert.ok(v4.count - a >= 5 && v6.count - b >= 5, `v4 got ${v4.count - a}, v6 got ${v6.count - b}`);
    assert.ok(v6.hosts.includes(`[::1]:${ipPort}`), 'the Host header names the discovered address, as vmauth sends it');
  });

  test('srv+ with discovery balances over every SRV target and port', async () => {
    const before = srvs.map((s) => s.count);
    for (let i = 0; i < 30; i++) assert.equal((await get('srv')).status, 200);
    const got = srvs.map((s, i) => s.count - (before[i] as number));
    assert.equal(got.reduce((x, y) => x + y, 0), 30);
    for (const g of got) assert.ok(g >= 5, `SRV targets got ${got.join('/')}`);
  });

  test('srv+ without discovery resolves the SRV record when connecting', async () => {
    const r = await get('srvdial');
    assert.deepEqual(r, { status: 200, body: 's1 /q' });
    assert.ok(dns.queries.includes('_one._tcp.test SRV'));
  });

  test('re-resolution drops a vanished address for new requests but lets its in-flight request finish', async () => {
    // Two slow requests in flight: least_loaded puts one on each address.
    const slow = [get('ips', '/slow/1'), get('ips', '/slow/2')];
    await sleep(200);
    dns.zones.set('backends.test', { a: ['127.0.0.1'] });
    await sleep(1200); // past -discoverBackendIPsInterval
    await get('ips'); // triggers the re-resolution
    await sleep(200);
    const b6 = v6.count;
    for (let i = 0; i < 10; i++) assert.equal((await get('ips')).status, 200);
    assert.equal(v6.count, b6, 'no new request goes to the address DNS no longer returns');
    const done = await Promise.all(slow);
    assert.deepEqual(done.map((d) => d.status), [200, 200]);
    assert.deepEqual(done.map((d) => d.body.split(' ')[0]).sort(), ['v4', 'v6'], 'the request on the vanished address completed');

    dns.zones.set('backends.test', { a: ['127.0.0.1'], aaaa: ['::1'] });
    await sleep(1200);
    await get('ips');
    await sleep(200);
    const again = v6.count;
    for (let i = 0; i < 10; i++) await get('ips');
    assert.ok(v6.count > again, 'the address comes back when DNS returns it again');
  });
});
