// PROXY protocol v1 (text) and v2 (binary) headers, sent by TCP load balancers (HAProxy, AWS
// NLB, …) ahead of the HTTP bytes to tell the real client address. Parsing is strict and
// bounded: a connection that does not start with a valid header within the timeout is closed.
import type { Socket } from 'node:net';

export interface ProxiedAddress { readonly ip: string; readonly port: number }

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_MAX = 107;

export class ProxyProtocolError extends Error {}

/**
 * Parses a header at the start of `buf`. Returns null when more bytes are needed, otherwise the
 * header length and the address it names (null for LOCAL / UNKNOWN: use the TCP peer).
 */
export function parseProxyHeader(buf: Buffer): { length: number; address: ProxiedAddress | null } | null {
  if (buf.length === 0) return null;
  if (buf[0] === 0x0d) {
    const have = Math.min(buf.length, V2_SIGNATURE.length);
    if (!buf.subarray(0, have).equals(V2_SIGNATURE.subarray(0, have))) throw new ProxyProtocolError('invalid PROXY protocol v2 signature');
    if (buf.length < 16) return null;
    const verCmd = buf[12] as number;
    if (verCmd >> 4 !== 2) throw new ProxyProtocolError('unsupported PROXY protocol version');
    const cmd = verCmd & 0x0f;
    const fam = buf[13] as number;
    const len = buf.readUInt16BE(14);
    if (buf.length < 16 + len) return null;
    const body = buf.subarray(16, 16 + len);
    if (cmd === 0) return { length: 16 + len, address: null }; // LOCAL: health checks from the balancer itself
    if (cmd !== 1) throw new ProxyProtocolError('invalid PROXY protocol v2 command');
    if (fam >> 4 === 1) { // AF_INET
      if (len < 12) throw new ProxyProtocolError('short PROXY protocol v2 IPv4 address block');
      return { length: 16 + len, address: { ip: `${body[0]}.${body[1]}.${body[2]}.${body[3]}`, port: body.readUInt16BE(8) } };
    }
    if (fam >> 4 === 2) { // AF_INET6
      if (len < 36) throw new ProxyProtocolError('short PROXY protocol v2 IPv6 address block');
      const parts: string[] = [];
      for (let i = 0; i < 16; i += 2) parts.push(body.readUInt16BE(i).toString(16));
      return { length: 16 + len, address: { ip: compressIpv6(parts), port: body.readUInt16BE(32) } };
    }
    return { length: 16 + len, address: null }; // AF_UNSPEC / AF_UNIX: no usable address
  }
  if (buf[0] === 0x50 /* P */) {
    const end = buf.indexOf('\r\n');
    if (end < 0) {
      if (buf.length >= V1_MAX) throw new ProxyProtocolError('PROXY protocol v1 header too long');
      if (!'PROXY '.startsWith(buf.subarray(0, 6).toString('latin1'))) throw new ProxyProtocolError('missing PROXY protocol header');
      return null;
    }
    const line = buf.subarray(0, end).toString('latin1');
    const parts = line.split(' ');
    if (parts[0] !== 'PROXY') throw new ProxyProtocolError('missing PROXY protocol header');
    if (parts[1] === 'UNKNOWN') return { length: end + 2, address: null };
    if ((parts[1] !== 'TCP4' && parts[1] !== 'TCP6') || parts.length !== 6) throw new ProxyProtocolError('invalid PROXY protocol v1 header');
    const port = Number(parts[4]);
    if (!/^\d{1,5}$/.test(parts[4] as string) || port > 65535) throw new ProxyProtocolError('invalid PROXY protocol v1 source port');
    return { length: end + 2, address: { ip: parts[2] as string, port } };
  }
  throw new ProxyProtocolError('missing PROXY protocol header');
}

function compressIpv6(groups: string[]): string {
  const s = groups.join(':');
  const m = /(^|:)0(:0)+(:|$)/.exec(s);
  return m === null ? s : s.slice(0, m.index) + '::' + s.slice(m.index + m[0].length);
}

/** Reads the PROXY header from a fresh connection, then hands the socket on with the rest unread. */
export function readProxyHeader(socket: Socket, timeoutMs: number, done: (address: ProxiedAddress | null) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  const onData = (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    let parsed: ReturnType<typeof parseProxyHeader>;
    try {
      parsed = parseProxyHeader(buf);
    } catch {
      clearTimeout(timer);
      socket.destroy();
      return;
    }
    if (parsed === null) {
      if (buf.length > 16 + 65535) { clearTimeout(timer); socket.destroy(); }
      return;
    }
    clearTimeout(timer);
    socket.off('data', onData);
    socket.pause();
    const rest = buf.subarray(parsed.length);
    if (rest.length > 0) socket.unshift(rest);
    done(parsed.address);
  };
  socket.on('data', onData);
  socket.once('error', () => clearTimeout(timer));
}
