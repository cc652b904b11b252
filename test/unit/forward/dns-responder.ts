// A tiny authoritative DNS responder on 127.0.0.1 (UDP) for tests: answers A, AAAA and SRV
// questions from a table the test can change at any time, NXDOMAIN for unknown names. Enough of
// RFC 1035 for Node's resolver (c-ares); no compression beyond the question pointer, no EDNS.
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';

export interface SrvRecord { readonly priority: number; readonly weight: number; readonly port: number; readonly target: string }

export interface DnsZone {
  a?: string[];
  aaaa?: string[];
  srv?: SrvRecord[];
}

export interface DnsResponder {
  /** `127.0.0.1:port`, for Resolver#setServers or -backend.dnsServer. */
  readonly server: string;
  /** Name (no trailing dot, any case) → records; mutate freely. */
  readonly zones: Map<string, DnsZone>;
  /** Questions received, as `name TYPE`. */
  readonly queries: string[];
  close(): Promise<void>;
}

const TYPE = { A: 1, AAAA: 28, SRV: 33 } as const;
const MAX_QUERIES_LOGGED = 10_000;

export async function startDnsResponder(zones: Record<string, DnsZone> = {}): Promise<DnsResponder> {
  const table = new Map(Object.entries(zones).map(([k, v]) => [k.toLowerCase(), v]));
  const queries: string[] = [];
  const sock: Socket = createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    const reply = answer(msg, table, queries);
    if (reply !== null) sock.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  sock.unref();
  return {
    server: `127.0.0.1:${sock.address().port}`,
    zones: table,
    queries,
    close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
}

function answer(msg: Buffer, table: Map<string, DnsZone>, log: string[]): Buffer | null {
  if (msg.length < 12 || msg.readUInt16BE(4) !== 1) return null;
  let off = 12;
  const labels: string[] = [];
  while (off < msg.length) {
    const len = msg[off] as number;
    off++;
    if (len === 0) break;
    if (len > 63 || off + len > msg.length) return null;
    labels.push(msg.subarray(off, off + len).toString('ascii'));
    off += len;
  }
  if (off + 4 > msg.length) return null;
  const qtype = msg.readUInt16BE(off);
  const qEnd = off + 4;
  const name = labels.join('.').toLowerCase();
  if (log.length < MAX_QUERIES_LOGGED) log.push(`${name} ${Object.entries(TYPE).find(([, v]) => v === qtype)?.[0] ?? qtype}`);
  const zone = table.get(name);
  const rrs: Buffer[] = [];
  if (zone !== undefined) {
    if (qtype === TYPE.A) for (const ip of zone.a ?? []) rrs.push(rr(TYPE.A, Buffer.from(ip.split('.').map(Number))));
    if (qtype === TYPE.AAAA) for (const ip of zone.aaaa ?? []) rrs.push(rr(TYPE.AAAA, ipv6Bytes(ip)));
    if (qtype === TYPE.SRV) {
      for (const s of zone.srv ?? []) {
        const head = Buffer.alloc(6);
        head.writeUInt16BE(s.priority, 0); head.writeUInt16BE(s.weight, 2); head.writeUInt16BE(s.port, 4);
        rrs.push(rr(TYPE.SRV, Buffer.concat([head, encodeName(s.target)])));
      }
    }
  }
  const header = Buffer.alloc(12);
  header.writeUInt16BE(msg.readUInt16BE(0), 0); // id
  header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | (zone === undefined ? 3 : 0), 2); // QR AA RD, NXDOMAIN
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(rrs.length, 6);
  return Buffer.concat([header, msg.subarray(12, qEnd), ...rrs]);
}

function rr(type: number, rdata: Buffer): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(0xc00c, 0); // pointer to the question name
  b.writeUInt16BE(type, 2);
  b.writeUInt16BE(1, 4); // IN
  b.writeUInt32BE(1, 6); // TTL 1 s
  b.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([b, rdata]);
}

function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter((p) => p !== '');
  return Buffer.concat([...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'ascii')])), Buffer.from([0])]);
}

function ipv6Bytes(ip: string): Buffer {
  if (isIP(ip) !== 6) throw new Error(`not an IPv6 address: ${ip}`);
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}
