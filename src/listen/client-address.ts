// The client address of a request: the TCP peer, or what a PROXY protocol header said.
// IPv4-mapped IPv6 peers (::ffff:1.2.3.4 on dual-stack listeners) are reported as IPv4, as Go does.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { normalizeIp } from '../authorize/ip-filter.ts';
import type { ProxiedAddress } from './proxy-protocol.ts';

const proxied = new WeakMap<object, ProxiedAddress>();

export function rememberProxiedAddress(socket: Socket, address: ProxiedAddress): void {
  proxied.set(socket, address);
}

function proxiedFor(socket: object): ProxiedAddress | undefined {
  return proxied.get(socket);
}

export function clientIp(req: IncomingMessage): string {
  const p = proxiedFor(req.socket);
  const raw = p !== undefined ? p.ip : req.socket.remoteAddress ?? '';
  return normalizeIp(raw) ?? raw;
}

export function clientPort(req: IncomingMessage): number {
  return proxiedFor(req.socket)?.port ?? req.socket.remotePort ?? 0;
}
