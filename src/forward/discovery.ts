// `discover_backend_ips`: each configured url_prefix host is resolved to all its addresses
// (A/AAAA, or the targets of its SRV records for `srv+name` hosts) every
// -discoverBackendIPsInterval, and the set balances over one backend per address.
//
// Re-resolution never disturbs requests: a backend whose address is still resolved keeps its
// object (so its in-flight count and broken state carry over), a vanished one is only retired
// and gives its connection pool back when its last request ends. A failed lookup keeps the
// addresses of the last good one (vmauth falls back to the literal host instead).
import { urlWithoutQuery } from '../observe/secrets.ts';
import { isIP } from 'node:net';
import { Backend, type BackendSource, type BackendTarget } from './backend-set.ts';
import { leaseDispatcher, type BackendTlsOptions, type PoolSettings } from './dispatchers.ts';
import { DiscoveryLookupError, type DiscoveryResolver } from './discovery-resolver.ts';

export interface DiscoveryLogger { warn(message: string): void }

export interface DiscoveryOptions {
  readonly intervalMs: number;
  readonly resolver: DiscoveryResolver;
  readonly tls: BackendTlsOptions;
  readonly pool: PoolSettings;
  readonly log?: DiscoveryLogger | undefined;
}

interface Source {
  readonly target: BackendTarget;
  readonly url: URL;
  /** Last good addresses (`host:port` strings, sorted), or null before the first success. */
  addrs: readonly string[] | null;
}

export class BackendDiscovery implements BackendSource {
  readonly #sources: readonly Source[];
  readonly #o: DiscoveryOptions;
  #nextAt = 0;
  /** `sourceIndex|host:port` → backend, for the current list. */
  #byKey = new Map<string, Backend>();
  readonly #literal: readonly Backend[];

  constructor(targets: readonly BackendTarget[], o: DiscoveryOptions) {
    this.#o = o;
    this.#sources = targets.map((target) => ({ target, url: new URL(target.origin), addrs: null }));
    // Until the first lookup answers, requests go to the hosts as written (srv+ hosts resolve per connection).
    this.#literal = targets.map((t) => this.#make(t, null));
  }

  /** The backends to use before the first resolution. */
  get initial(): readonly Backend[] { return this.#literal; }

  claimRefresh(now: number): boolean {
    if (now < this.#nextAt) return false;
    this.#nextAt = now + Math.max(this.#o.intervalMs, 1000);
    return true;
  }

  async refresh(current: readonly Backend[]): Promise<readonly Backend[] | null> {
    if (this.#nextAt === 0) this.#nextAt = Date.now() + Math.max(this.#o.intervalMs, 1000);
    const byHost = new Map<string, Promise<readonly string[] | null>>();
    const results = await Promise.all(this.#sources.map((s) => {
      const key = `${s.url.hostname}|${s.url.port}`;
      let p = byHost.get(key);
      if (p === undefined) { p = this.#resolve(s); byHost.set(key, p); }
      return p;
    }));
    const nextKeys = new Map<string, Backend>();
    const list: Backend[] = [];
    try {
      this.#build(results, nextKeys, list);
    } catch (err) {
      // A pool for a new address could not be made (e.g. a TLS file vanished): keep the current list.
      for (const b of list) if (!current.includes(b)) b.retire();
      this.#o.log?.warn(`cannot use newly discovered backends for ${urlWithoutQuery(this.#sources[0]?.target.display ?? '')}: ${(err as Error).message}`);
      return null;
    }
    const same = list.length === current.length && list.every((b, i) => b === current[i]);
    this.#byKey = nextKeys;
    return same ? null : list;
  }

  #build(results: readonly (readonly string[] | null)[], nextKeys: Map<string, Backend>, list: Backend[]): void {
    this.#sources.forEach((s, i) => {
      const addrs = results[i] ?? s.addrs;
      if (results[i] !== null) s.addrs = results[i] as readonly string[];
      if (addrs === null) {
        // Never resolved: keep the literal host.
        const b = this.#literal[i] as Backend;
        nextKeys.set(`${i}|`, b);
        list.push(b);
        return;
      }
      for (const a of addrs) {
        const key = `${i}|${a}`;
        const b = this.#byKey.get(key) ?? this.#make(s.target, a);
        nextKeys.set(key, b);
        list.push(b);
      }
    });
  }

  /** Sorted `host:port` addresses for one source; null when the lookup failed. */
  async #resolve(s: Source): Promise<readonly string[] | null> {
    const host = s.url.hostname;
    try {
      let addrs: string[];
      if (host.startsWith('srv+')) {
        const recs = await this.#o.resolver.resolveSrv(host.slice(4));
        addrs = recs.map((r) => joinHostPort(r.name.replace(/\.$/, ''), s.url.port !== '' ? s.url.port : r.port > 0 ? String(r.port) : ''));
      } else {
        const bare = host.startsWith('[') ? host.slice(1, -1) : host;
        if (isIP(bare) !== 0) return [joinHostPort(bare, s.url.port)];
        addrs = (await this.#o.resolver.lookupIps(bare)).map((ip) => joinHostPort(ip, s.url.port));
      }
      if (addrs.length === 0) throw new DiscoveryLookupError('the lookup returned no addresses');
      return [...new Set(addrs)].sort();
    } catch (err) {
      const kept = s.addrs !== null ? `keeping the last resolved addresses ${s.addrs.join(', ')}` : 'using the host as written';
      this.#o.log?.warn(`cannot discover backend ${host.startsWith('srv+') ? 'SRV records' : 'IPs'} for ${urlWithoutQuery(s.target.display)}: ${(err as Error).message}; ${kept}`);
      return null;
    }
  }

  /** A backend for `target` at `hostPort` (null = the host as configured). */
  #make(target: BackendTarget, hostPort: string | null): Backend {
    const proto = new URL(target.origin).protocol;
    const origin = hostPort === null ? target.origin : `${proto}//${hostPort}`;
    const configuredHost = new URL(target.origin).hostname;
    // A discovered IP is verified against the hostname in the config, not against itself.
    const verifyName = hostPort !== null && !configuredHost.startsWith('srv+') ? configuredHost : undefined;
    const lease = leaseDispatcher(origin, this.#o.tls, this.#o.pool, { resolver: this.#o.resolver, ...(verifyName ? { verifyName } : {}) });
    const t: BackendTarget = hostPort === null ? target : { ...target, origin, host: hostPort, display: `${target.display} (${hostPort})` };
    return new Backend(t, lease.dispatcher, lease.release);
  }
}

export function joinHostPort(host: string, port: string): string {
  const h = isIP(host) === 6 ? `[${host}]` : host;
  return port === '' ? h : `${h}:${port}`;
}

