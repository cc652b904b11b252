// Backend connection pools. Pools are shared by every config snapshot that names the same origin
// with the same TLS settings, so a reload keeps warm keep-alive connections instead of
// reconnecting to every backend. Pools of discovered addresses are leased and closed once no
// backend set uses them, so a churning DNS name does not leave a pool per address ever seen.
import { Pool, type Dispatcher } from 'undici';
import { isIP } from 'node:net';
import { BackendConnector } from './backend-connector.ts';
import { TlsMaterial } from './tls-material.ts';
import { systemResolver, type DiscoveryResolver } from './discovery-resolver.ts';

export { BackendTlsFileError } from './tls-material.ts';

export interface BackendTlsOptions {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly serverName: string;
  readonly insecureSkipVerify: boolean;
}

export interface PoolSettings {
  readonly idleConnTimeoutMs: number;
  readonly responseTimeoutMs: number;
  readonly maxConnsPerBackend: number;
  /** TCP (+TLS) connect timeout; undici's 10 s when absent. */
  readonly connectTimeoutMs?: number;
}

export interface DispatcherExtras {
  /**
   * TLS name to verify when the URL holds an address rather than the configured hostname
   * (a discovered IP): the hostname the operator wrote, unless tls_server_name overrides it.
   */
  readonly verifyName?: string;
  /** Resolves `srv+` hostnames at connect time; the system resolver when absent. */
  readonly resolver?: DiscoveryResolver;
}

interface Entry { readonly pool: Pool; refs: number; readonly pinned: boolean }

const pools = new Map<string, Entry>();
/** The TLS server name each HTTPS pool sends, so undici never derives it from the Host header. */
const serverNames = new WeakMap<Dispatcher, string>();

function keyOf(origin: string, tls: BackendTlsOptions, extras: DispatcherExtras): string {
  return `${origin}|${tls.caFile}|${tls.certFile}|${tls.keyFile}|${tls.serverName}|${tls.insecureSkipVerify}|${extras.verifyName ?? ''}|${extras.resolver?.id ?? ''}`;
}

function createPool(origin: string, tls: BackendTlsOptions, settings: PoolSettings, extras: DispatcherExtras): Pool {
  const url = new URL(origin);
  const https = url.protocol === 'https:';
  const srv = url.hostname.startsWith('srv+');
  // Read (and validate) the TLS files now, so a missing file fails the config load, not a request.
  const material = https ? new TlsMaterial(tls.caFile, tls.certFile, tls.keyFile) : null;
  const serverName = https ? (tls.serverName || extras.verifyName || (srv || isIP(stripBrackets(url.hostname)) ? '' : url.hostname)) : '';
  const connector = new BackendConnector({
    material,
    insecureSkipVerify: tls.insecureSkipVerify,
    serverName,
    srv: srv ? { name: url.hostname.slice(4), explicitPort: url.port, resolver: extras.resolver ?? systemResolver } : null,
    timeoutMs: settings.connectTimeoutMs,
  });
  const pool = new Pool(origin, {
    pipelining: 1,
    keepAliveTimeout: settings.idleConnTimeoutMs,
    keepAliveMaxTimeout: Math.max(settings.idleConnTimeoutMs, 1000),
    headersTimeout: settings.responseTimeoutMs,
    // Streaming responses (long exports, live tails) must not be cut by a body timeout.
    bodyTimeout: 0,
    connections: settings.maxConnsPerBackend > 0 ? settings.maxConnsPerBackend : null,
    connect: connector.connect,
  });
  if (https) serverNames.set(pool, serverName || url.hostname);
  return pool;
}

/** A pool that lives as long as the process (backends written in the config). */
export function getDispatcher(origin: string, tls: BackendTlsOptions, settings: PoolSettings, extras: DispatcherExtras = {}): Dispatcher {
  const key = keyOf(origin, tls, extras);
  let e = pools.get(key);
  if (e === undefined) {
    e = { pool: createPool(origin, tls, settings, extras), refs: 0, pinned: true };
    pools.set(key, e);
  }
  return e.pool;
}

export interface DispatcherLease {
  readonly dispatcher: Dispatcher;
  /** Gives the pool back; the last lease closes it (gracefully: queued requests still finish). */
  release(): void;
}

/** A pool for a discovered address, closed when its last lease is released. */
export function leaseDispatcher(origin: string, tls: BackendTlsOptions, settings: PoolSettings, extras: DispatcherExtras = {}): DispatcherLease {
  const key = keyOf(origin, tls, extras);
  let e = pools.get(key);
  if (e === undefined) {
    e = { pool: createPool(origin, tls, settings, extras), refs: 0, pinned: false };
    pools.set(key, e);
  }
  const entry = e;
  entry.refs++;
  let released = false;
  return {
    dispatcher: entry.pool,
    release() {
      if (released) return;
      released = true;
      entry.refs--;
      if (entry.refs === 0 && !entry.pinned && pools.get(key) === entry) {
        pools.delete(key);
        void entry.pool.close().catch(() => {});
      }
    },
  };
}

/** The TLS server name to pass with each request on this dispatcher (undefined for plain HTTP). */
export function serverNameFor(d: Dispatcher): string | undefined {
  return serverNames.get(d);
}

/** How many pools are open; for tests of lease bookkeeping. */
export function openDispatcherCount(): number {
  return pools.size;
}

export async function closeAllDispatchers(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.allSettled(all.map((e) => e.pool.close()));
}

function stripBrackets(h: string): string {
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}
