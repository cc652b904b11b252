// Which address IP filters judge. Without a real-IP header: the client (TCP peer, or what a
// PROXY protocol header said). With one, the header is believed only when the connection comes
// from a trusted proxy, and only as far as trusted proxies wrote it: proxies such as nginx, ALBs
// and Envoy *append* the address they saw, so the client controls every entry left of the
// first one a trusted proxy added. The address is the right-most entry that is not a trusted
// proxy; if every entry is trusted, the left-most.
import { BlockList, isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import { IpFilterEntryError, normalizeIp } from './ip-filter.ts';

/** At most this many header entries are examined; a longer chain is refused (no address). */
export const MAX_FORWARDED_HOPS = 32;

export class TrustedProxies {
  readonly #list: BlockList;
  readonly size: number;

  constructor(entries: readonly string[], listName = 'trusted_proxies') {
    this.#list = new BlockList();
    this.size = entries.length;
    entries.forEach((raw, index) => {
      const [addrPart, bitsPart, extra] = raw.trim().split('/');
      const addr = normalizeIp(addrPart ?? '');
      if (addr === null || extra !== undefined) throw new IpFilterEntryError(listName, index, `invalid IP or CIDR ${JSON.stringify(raw)}; expected e.g. 10.0.0.0/8 or 192.0.2.10`);
      const type = isIP(addr) === 4 ? 'ipv4' : 'ipv6';
      if (bitsPart === undefined) { this.#list.addAddress(addr, type); return; }
      const max = type === 'ipv4' ? 32 : 128;
      if (!/^\d+$/.test(bitsPart) || Number(bitsPart) > max) throw new IpFilterEntryError(listName, index, `invalid prefix length in ${JSON.stringify(raw)}; expected 0..${max}`);
      this.#list.addSubnet(addr, Number(bitsPart), type);
    });
  }

  has(ip: string): boolean {
    const addr = normalizeIp(ip);
    return addr !== null && this.#list.check(addr, isIP(addr) === 4 ? 'ipv4' : 'ipv6');
  }
}

/**
 * The address to filter: `peer` unless `header` is set, the peer is a trusted proxy and the
 * header is present. Returns "" (matches no allow list, so refused) for an unparseable entry or
 * a chain longer than MAX_FORWARDED_HOPS.
 */
export function realClientIp(peer: string, headers: IncomingHttpHeaders, header: string | null, trusted: TrustedProxies | null): string {
  if (header === null || trusted === null || !trusted.has(peer)) return peer;
  const raw = headers[header];
  const joined = Array.isArray(raw) ? raw.join(',') : raw;
  if (joined === undefined || joined.trim() === '') return peer;
  const hops = joined.split(',');
  if (hops.length > MAX_FORWARDED_HOPS) return '';
  let leftmost = '';
  for (let i = hops.length - 1; i >= 0; i--) {
    const ip = normalizeIp(hops[i] as string);
    if (ip === null) return '';
    if (!trusted.has(ip)) return ip;
    leftmost = ip;
  }
  return leftmost;
}
