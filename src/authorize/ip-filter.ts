// vmauth's `ip_filters` (an Enterprise feature there): allow_list / deny_list of IPs and CIDRs.
// Deny wins over allow; an empty allow_list allows everyone not denied. IPv4-mapped IPv6
// addresses (::ffff:1.2.3.4) are treated as the IPv4 address they carry.
import { BlockList, isIP } from 'node:net';
import type { TrustedProxies } from './real-ip.ts';

export class IpFilter {
  readonly #allow: BlockList | null;
  readonly #deny: BlockList | null;
  /** Lower-case header name to take the client IP from, or null for the TCP peer address. */
  readonly realIpHeader: string | null;
  /** Proxies whose real-IP header is believed (`trusted_proxies`); null: -httpRealIPTrustedProxies. */
  readonly trustedProxies: TrustedProxies | null;

  constructor(allow: readonly string[], deny: readonly string[], realIpHeader: string | null, trustedProxies: TrustedProxies | null = null) {
    this.trustedProxies = trustedProxies;
    this.#allow = allow.length > 0 ? buildList(allow, 'allow_list') : null;
    this.#deny = deny.length > 0 ? buildList(deny, 'deny_list') : null;
    this.realIpHeader = realIpHeader === null || realIpHeader === '' ? null : realIpHeader.toLowerCase();
  }

  allows(ip: string): boolean {
    const addr = normalizeIp(ip);
    if (addr === null) return false;
    const type = isIP(addr) === 4 ? 'ipv4' : 'ipv6';
    if (this.#deny?.check(addr, type)) return false;
    if (this.#allow !== null && !this.#allow.check(addr, type)) return false;
    return true;
  }
}

export function normalizeIp(ip: string): string | null {
  let s = ip.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s);
  if (mapped) s = mapped[1] as string;
  return isIP(s) === 0 ? null : s;
}

export class IpFilterEntryError extends Error {
  readonly index: number;
  readonly listName: string;
  constructor(listName: string, index: number, message: string) {
    super(message);
    this.listName = listName;
    this.index = index;
  }
}

function buildList(entries: readonly string[], listName: string): BlockList {
  const bl = new BlockList();
  entries.forEach((raw, index) => {
    const [addrPart, bitsPart, extra] = raw.trim().split('/');
    const addr = normalizeIp(addrPart ?? '');
    if (addr === null || extra !== undefined) {
      throw new IpFilterEntryError(listName, index, `invalid IP or CIDR ${JSON.stringify(raw)}; expected e.g. 10.0.0.0/24, 1.2.3.4 or 2001:db8::/32`);
    }
    const type = isIP(addr) === 4 ? 'ipv4' : 'ipv6';
    if (bitsPart === undefined) { bl.addAddress(addr, type); return; }
    const bits = Number(bitsPart);
    const max = type === 'ipv4' ? 32 : 128;
    if (!/^\d+$/.test(bitsPart) || bits > max) {
      throw new IpFilterEntryError(listName, index, `invalid prefix length in ${JSON.stringify(raw)}; expected 0..${max}`);
    }
    bl.addSubnet(addr, bits, type);
    // An IPv4 rule also covers the same clients arriving as IPv4-mapped IPv6.
  });
  return bl;
}
