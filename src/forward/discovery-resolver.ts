// DNS lookups for backend discovery (`discover_backend_ips`) and `srv+` URLs. By default the
// system resolver (getaddrinfo for addresses, so /etc/hosts counts, as Go's resolver does);
// with -backend.dnsServer a given DNS server, e.g. Consul's DNS interface or a test responder.
import { lookup, Resolver } from 'node:dns/promises';

export interface SrvTarget { readonly name: string; readonly port: number; readonly priority: number; readonly weight: number }

export interface DiscoveryResolver {
  /** Distinguishes resolvers in pool keys. */
  readonly id: string;
  /** Every IPv4 and IPv6 address of `host`. */
  lookupIps(host: string): Promise<string[]>;
  /** The SRV records of `name`. */
  resolveSrv(name: string): Promise<SrvTarget[]>;
}

/** A DNS name that resolved to nothing usable. */
export class DiscoveryLookupError extends Error {
  readonly code = 'ERR_BACKEND_DISCOVERY';
  constructor(message: string) { super(message); }
}

export const systemResolver: DiscoveryResolver = {
  id: 'system',
  async lookupIps(host) {
    const all = await lookup(host, { all: true, order: 'verbatim' });
    return all.map((a) => a.address);
  },
  resolveSrv(name) {
    return new Resolver().resolveSrv(name);
  },
};

const byServer = new Map<string, DiscoveryResolver>();

/** A resolver that asks `server` (`host:port` or `host`) only; cached per server. */
export function dnsServerResolver(server: string): DiscoveryResolver {
  let r = byServer.get(server);
  if (r !== undefined) return r;
  const make = () => {
    // A fresh resolver per lookup so an abandoned query cannot delay the next one.
    const res = new Resolver({ timeout: 2000, tries: 2 });
    res.setServers([server]);
    return res;
  };
  r = {
    id: `dns:${server}`,
    async lookupIps(host) {
      const res = make();
      const [v4, v6] = await Promise.allSettled([res.resolve4(host), res.resolve6(host)]);
      const out = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
      if (out.length === 0) {
        const err = v4.status === 'rejected' ? v4.reason as Error : v6.status === 'rejected' ? v6.reason as Error : null;
        throw new DiscoveryLookupError(`no A/AAAA records for ${JSON.stringify(host)} at DNS server ${server}${err ? `: ${err.message}` : ''}`);
      }
      return out;
    },
    resolveSrv(name) {
      return make().resolveSrv(name);
    },
  };
  byServer.set(server, r);
  return r;
}

/** The resolver for the -backend.dnsServer flag value ('' = system). */
export function resolverFor(dnsServer: string): DiscoveryResolver {
  return dnsServer === '' ? systemResolver : dnsServerResolver(dnsServer);
}

/**
 * One SRV record chosen as RFC 2782 asks: the lowest priority, then at random weighted by weight
 * (vmauth picks uniformly; honouring weights costs nothing and is what SRV publishers expect).
 */
export function pickSrvTarget(records: readonly SrvTarget[], random = Math.random): SrvTarget {
  if (records.length === 0) throw new DiscoveryLookupError('no SRV records');
  const best = Math.min(...records.map((r) => r.priority));
  const group = records.filter((r) => r.priority === best);
  const total = group.reduce((s, r) => s + r.weight, 0);
  if (total === 0) return group[Math.floor(random() * group.length)] as SrvTarget;
  let x = random() * total;
  for (const r of group) {
    x -= r.weight;
    if (x < 0) return r;
  }
  return group[group.length - 1] as SrvTarget;
}
