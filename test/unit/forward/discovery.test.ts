// Backend discovery against a real DNS exchange: Node's resolver asks a responder on 127.0.0.1
// (dns-responder.ts) for A/AAAA/SRV records, and the set's backends follow the answers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Backend, BackendSet, type BackendTarget } from '../../../src/forward/backend-set.ts';
import { BackendDiscovery, joinHostPort } from '../../../src/forward/discovery.ts';
import { dnsServerResolver, pickSrvTarget, type SrvTarget } from '../../../src/forward/discovery-resolver.ts';
import { closeAllDispatchers, openDispatcherCount } from '../../../src/forward/dispatchers.ts';
import { parseUrlPrefix } from '../../../src/config/compile.ts';
import { startDnsResponder, type DnsResponder } from './dns-responder.ts';

const TLS = { caFile: '', certFile: '', keyFile: '', serverName: '', insecureSkipVerify: false };
const POOL = { idleConnTimeoutMs: 1000, responseTimeoutMs: 1000, maxConnsPerBackend: 0 };

let dns: DnsResponder;
before(async () => {
  dns = await startDnsResponder({
    'backends.test': { a: ['127.0.0.1'], aaaa: ['::1'] },
    '_vm._tcp.test': { srv: [{ priority: 10, weight: 1, port: 8481, target: 'vm-b.test' }, { priority: 10, weight: 1, port: 8482, target: 'vm-a.test' }] },
  });
});
after(async () => { await dns.close(); await closeAllDispatchers(); });

const targetOf = (url: string): BackendTarget => ({ ...parseUrlPrefix(url, ['url_prefix']), template: null });
const hosts = (set: BackendSet) => set.backends.map((b) => b.target.host);

function discovering(urls: string[], warnings: string[] = []) {
  const source = new BackendDiscovery(urls.map(targetOf), { intervalMs: 60_000, resolver: dnsServerResolver(dns.server), tls: TLS, pool: POOL, log: { warn: (m) => warnings.push(m) } });
  const set = new BackendSet(source.initial, 'least_loaded', new Set(), 3000, { source });
  return { set, source };
}

describe('discover_backend_ips', () => {
  test('a hostname becomes one backend per A/AAAA address, keeping port, path and query', async () => {
    const { set } = discovering(['http://backends.test:8428/select/0/?extra_label=a']);
    assert.deepEqual(hosts(set), ['backends.test:8428'], 'the host as written until DNS answers');
    await set.refresh();
    assert.deepEqual(hosts(set), ['127.0.0.1:8428', '[::1]:8428']);
    for (const b of set.backends) {
      assert.equal(b.target.basePath, '/select/0/');
      assert.equal(b.target.rawQuery, 'extra_label=a');
      assert.equal(b.target.origin, `http://${b.target.host}`);
    }
    set.retire();
  });

  test('re-resolution keeps objects (in-flight count, broken state) of unchanged addresses and retires the rest', async () => {
    const { set } = discovering(['http://backends.test:9000/']);
    await set.refresh();
    const [v4, v6] = set.backends as [Backend, Backend];
    set.markBroken(v4, Date.now());
    const inFlight = set.acquire(Date.now()); // v6: v4 is broken
    assert.equal(inFlight, v6);
    const pools = openDispatcherCount();

    (dns.zones.get('backends.test') as { a: string[]; aaaa: string[] }).aaaa = [];
    (dns.zones.get('backends.test') as { a: string[] }).a = ['127.0.0.1', '127.0.0.2'];
    await set.refresh();
    assert.deepEqual(hosts(set), ['127.0.0.1:9000', '127.0.0.2:9000']);
    assert.equal(set.backends[0], v4, 'same object for the unchanged address');
    assert.ok(v4.brokenUntil > 0, 'its broken state survives re-resolution');
    assert.equal(v6.retired, true);
    assert.equal(v6.inFlight, 1, 'the request on the vanished address is untouched');
    assert.equal(openDispatcherCount(), pools + 1, 'the vanished address keeps its pool while a request uses it');
    set.release(v6);
    assert.equal(openDispatcherCount(), pools, 'and gives it back when the request ends');
    dns.zones.set('backends.test', { a: ['127.0.0.1'], aaaa: ['::1'] });
    set.retire();
  });

  test('a failed lookup keeps the last good addresses and says so', async () => {
    const warnings: string[] = [];
    const { set } = discovering(['http://flaky.test:9100/'], warnings);
    dns.zones.set('flaky.test', { a: ['127.0.0.3'] });
    await set.refresh();
    assert.deepEqual(hosts(set), ['127.0.0.3:9100']);
    dns.zones.delete('flaky.test');
    await set.refresh();
    assert.deepEqual(hosts(set), ['127.0.0.3:9100']);
    assert.match(warnings.join('\n'), /cannot discover backend IPs for http:\/\/flaky\.test:9100\/: .*keeping the last resolved addresses 127\.0\.0\.3:9100/);
    set.retire();
  });

  test('an unresolvable host is used as written', async () => {
    const warnings: string[] = [];
    const { set } = discovering(['http://missing.test:9200/'], warnings);
    await set.refresh();
    assert.deepEqual(hosts(set), ['missing.test:9200']);
    assert.match(warnings.join('\n'), /using the host as written/);
    set.retire();
  });

  test('srv+ hosts become one backend per SRV target, with the SRV port unless the URL names one', async () => {
    const a = discovering(['http://srv+_vm._tcp.test/select/']);
    await a.set.refresh();
    assert.deepEqual(hosts(a.set), ['vm-a.test:8482', 'vm-b.test:8481']);
    assert.equal(a.set.backends[0]?.target.basePath, '/select/');
    const b = discovering(['http://srv+_vm._tcp.test:9999/']);
    await b.set.refresh();
    assert.deepEqual(hosts(b.set), ['vm-a.test:9999', 'vm-b.test:9999']);
    a.set.retire(); b.set.retire();
  });

  test('several url_prefix entries with the same host share one lookup', async () => {
    const before = dns.queries.filter((q) => q.startsWith('backends.test')).length;
    const { set } = discovering(['http://backends.test:1/a/', 'http://backends.test:1/b/']);
    await set.refresh();
    assert.deepEqual(set.backends.map((b) => `${b.target.host}${b.target.basePath}`), ['127.0.0.1:1/a/', '[::1]:1/a/', '127.0.0.1:1/b/', '[::1]:1/b/']);
    assert.equal(dns.queries.filter((q) => q.startsWith('backends.test')).length - before, 2, 'one A and one AAAA question');
    set.retire();
  });
});

describe('SRV target choice (srv+ without discovery)', () => {
  const rec = (name: string, priority: number, weight: number): SrvTarget => ({ name, port: 1, priority, weight });

  test('only the lowest priority is used, weighted by weight', () => {
    const recs = [rec('low-prio', 20, 100), rec('a', 10, 1), rec('b', 10, 3)];
    assert.equal(pickSrvTarget(recs, () => 0).name, 'a');
    assert.equal(pickSrvTarget(recs, () => 0.24).name, 'a');
    assert.equal(pickSrvTarget(recs, () => 0.26).name, 'b');
    assert.equal(pickSrvTarget(recs, () => 0.999).name, 'b');
  });

  test('zero weights are chosen uniformly; no records is an error', () => {
    const recs = [rec('a', 0, 0), rec('b', 0, 0)];
    assert.equal(pickSrvTarget(recs, () => 0.1).name, 'a');
    assert.equal(pickSrvTarget(recs, () => 0.9).name, 'b');
    assert.throws(() => pickSrvTarget([]), { code: 'ERR_BACKEND_DISCOVERY' });
  });
});

test('joinHostPort brackets IPv6 and omits an empty port', () => {
  assert.equal(joinHostPort('::1', '80'), '[::1]:80');
  assert.equal(joinHostPort('10.0.0.1', ''), '10.0.0.1');
  assert.equal(joinHostPort('vm.test', '8428'), 'vm.test:8428');
});
