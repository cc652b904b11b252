// Opens the listeners -httpListenAddr / -httpInternalListenAddr describe: plain HTTP (the fast
// path: node:http accepts directly), HTTPS (-tls, optionally -mtls), and PROXY protocol
// (-httpListenAddr.useProxyProtocol), where tenantgate accepts the TCP connection itself, reads
// the header, and hands the connection to the HTTP server. Per-listener array flags follow
// VictoriaMetrics: the i-th value belongs to the i-th address; a single value applies to all.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import type { ParsedFlags } from '../flags/parse.ts';
import { rememberProxiedAddress } from './client-address.ts';
import { parseListenAddress } from './listen-address.ts';
import { readProxyHeader, type ProxiedAddress } from './proxy-protocol.ts';
import { tlsServerOptions, watchCertificates, type ListenerTls } from './tls-options.ts';

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export interface Listener {
  readonly address: string;
  readonly http: Server;
  /** The accepting server when tenantgate accepts connections itself (PROXY protocol). */
  readonly acceptor: NetServer | null;
  close(graceMs: number): Promise<void>;
}

function pick<T>(list: readonly T[], i: number, fallback: T): T {
  if (i < list.length) return list[i] as T;
  return list.length === 1 ? list[0] as T : fallback;
}

export interface ListenerOptions {
  readonly serverOptions: { keepAliveTimeout: number; headersTimeout: number; maxHeaderSize: number; requestTimeout: number; connectionsCheckingInterval: number };
  readonly disableKeepAlive: boolean;
  readonly onConnection: (socket: import('node:net').Socket) => void;
  readonly onTlsError: (err: Error) => void;
}

export async function openListener(flags: ParsedFlags, addrText: string, index: number, handler: RequestListener, opts: ListenerOptions): Promise<Listener> {
  const parsed = parseListenAddress(addrText);
  // Like VictoriaMetrics, `:port` means IPv4 only unless -enableTCP6 is set.
  const addr = parsed.host === undefined && !flags.bool('enableTCP6') ? { ...parsed, host: '0.0.0.0' } : parsed;
  const useTls = pick(flags.bools('tls'), index, false);
  const useProxy = pick(flags.bools('httpListenAddr.useProxyProtocol'), index, false);
  const mtls = pick(flags.bools('mtls'), index, false);
  if (mtls && !useTls) throw new Error(`-mtls needs -tls on ${addrText}`);
  let stopWatch = () => {};
  let http: Server;
  let proxiedTls: { context: SecureContext; mtls: boolean } | null = null;
  if (useTls) {
    const t: ListenerTls = {
      certFile: pick(flags.strings('tlsCertFile'), index, ''),
      keyFile: pick(flags.strings('tlsKeyFile'), index, ''),
      minVersion: pick(flags.strings('tlsMinVersion'), index, ''),
      cipherSuites: flags.strings('tlsCipherSuites').filter((s) => s !== ''),
      mtls,
      mtlsCaFile: pick(flags.strings('mtlsCAFile'), index, ''),
    };
    // Without a CA file node would verify client certificates against its public root store, so a
    // certificate any public CA issued for a matching name would identify an mtls user.
    if (mtls && t.mtlsCaFile === '') throw new Error(`-mtls on ${addrText} needs -mtlsCAFile: client certificates are never verified against the system's public roots`);
    if (useProxy) {
      // Behind a PROXY header tenantgate runs the TLS layer itself (see tlsAfterProxyHeader).
      const state = { context: createSecureContext(tlsServerOptions(t)), mtls };
      stopWatch = watchCertificates(t, (ctx) => { state.context = createSecureContext({ ...tlsServerOptions(t), ...ctx }); }, opts.onTlsError);
      proxiedTls = state;
      http = createHttpServer(opts.serverOptions, handler);
    } else {
      const server = createHttpsServer({ ...tlsServerOptions(t), ...opts.serverOptions }, handler);
      stopWatch = watchCertificates(t, (ctx) => server.setSecureContext({ ...tlsServerOptions(t), ...ctx }), opts.onTlsError);
      server.on('tlsClientError', () => { /* refused handshakes (e.g. no client certificate) are the client's problem */ });
      http = server;
    }
  } else {
    http = createHttpServer(opts.serverOptions, handler);
  }
  if (opts.disableKeepAlive) http.keepAliveTimeout = 0;
  http.on('connection', opts.onConnection);

  let acceptor: NetServer | null = null;
  if (useProxy) {
    // allowHalfOpen and noDelay as node:http's own server: a client that half-closes after its
    // request still gets the response, and a response is not held back by Nagle's algorithm.
    acceptor = createNetServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      readProxyHeader(socket, 5000, (address) => {
        if (proxiedTls !== null) { tlsAfterProxyHeader(socket, address, proxiedTls, http); return; }
        if (address !== null) rememberProxiedAddress(socket, address);
        http.emit('connection', socket);
        socket.resume();
      });
    });
  }
  const listening = acceptor ?? http;
  await new Promise<void>((resolve, reject) => {
    listening.once('error', reject);
    listening.listen({ port: addr.port, host: addr.host }, () => { listening.off('error', reject); resolve(); });
  });
  // Connections are tracked here because a PROXY-protocol HTTP server never listens itself,
  // so its own close() cannot wait for them.
  const sockets = new Set<import('node:net').Socket>();
  http.on('connection', (socket: import('node:net').Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return {
    address: addrText,
    http,
    acceptor,
    async close(graceMs: number) {
      stopWatch();
      listening.close();
      http.closeIdleConnections();
      const deadline = Date.now() + graceMs;
      // Keep-alive connections become idle once their last response is sent.
      while (sockets.size > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
        http.closeIdleConnections();
      }
      for (const s of sockets) s.destroy();
    },
  };
}

/**
 * TLS behind a PROXY header. The header reader may already hold the start of the TLS handshake
 * (unshifted back into the socket); a TLSSocket on the socket itself would read from its native
 * handle and lose those bytes, so it is built on a small stream over the socket. Only a completed
 * handshake — with -mtls, a client certificate the TLS layer verified against -mtlsCAFile —
 * reaches the HTTP server.
 */
function tlsAfterProxyHeader(socket: Socket, address: ProxiedAddress | null, tls: { context: SecureContext; mtls: boolean }, http: Server): void {
  const stream = new Duplex({
    read() { socket.resume(); },
    write(chunk: Buffer, _enc, cb) { socket.write(chunk, cb); },
    final(cb) { socket.end(cb); },
    destroy(err, cb) { socket.destroy(err ?? undefined); cb(err); },
  });
  socket.on('data', (d: Buffer) => { if (!stream.push(d)) socket.pause(); });
  socket.on('end', () => stream.push(null));
  socket.on('close', () => stream.destroy());
  socket.on('error', (err) => stream.destroy(err));
  const tlsSocket = new TLSSocket(stream, { isServer: true, secureContext: tls.context, requestCert: tls.mtls, rejectUnauthorized: tls.mtls, ALPNProtocols: ['http/1.1'] });
  const handshakeTimer = setTimeout(() => tlsSocket.destroy(), 10_000);
  tlsSocket.on('error', () => tlsSocket.destroy());
  tlsSocket.once('close', () => clearTimeout(handshakeTimer));
  tlsSocket.once('secure', () => {
    clearTimeout(handshakeTimer);
    if (tls.mtls) {
      if (!clientCertificateVerified(tlsSocket)) { tlsSocket.destroy(); return; }
      // What node's TLS server records for a verified client; identification reads it.
      tlsSocket.authorized = true;
    }
    if (address !== null) rememberProxiedAddress(tlsSocket as unknown as Socket, address);
    http.emit('connection', tlsSocket);
  });
  socket.resume();
}

/**
 * node's TLS server sets `authorized` from the TLS handle's verify result; a TLSSocket built by
 * hand does not, so the same check is made here. If that internal ever disappears, the answer is
 * "not verified": the connection is refused, never let through.
 */
function clientCertificateVerified(t: TLSSocket): boolean {
  const handle = (t as unknown as { _handle?: { verifyError?: () => Error | null } })._handle;
  if (typeof handle?.verifyError !== 'function') return false;
  return handle.verifyError() === null && t.getPeerCertificate()?.subject !== undefined;
}
