// Backend connection pools. Pools are shared by every config snapshot that names the same origin
// with the same TLS settings, so a reload keeps warm keep-alive connections instead of
// reconnecting to every backend.
import { readFileSync } from 'node:fs';
import { Pool, type Dispatcher } from 'undici';

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
}

const pools = new Map<string, Pool>();

export function getDispatcher(origin: string, tls: BackendTlsOptions, settings: PoolSettings): Dispatcher {
  const key = `${origin}|${tls.caFile}|${tls.certFile}|${tls.keyFile}|${tls.serverName}|${tls.insecureSkipVerify}`;
  let pool = pools.get(key);
  if (pool === undefined) {
    const https = origin.startsWith('https:');
    pool = new Pool(origin, {
      pipelining: 1,
      keepAliveTimeout: settings.idleConnTimeoutMs,
      keepAliveMaxTimeout: Math.max(settings.idleConnTimeoutMs, 1000),
      headersTimeout: settings.responseTimeoutMs,
      // Streaming responses (long exports, live tails) must not be cut by a body timeout.
      bodyTimeout: 0,
      connections: settings.maxConnsPerBackend > 0 ? settings.maxConnsPerBackend : null,
      connect: https ? {
        rejectUnauthorized: !tls.insecureSkipVerify,
        ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
        ...(tls.certFile ? { cert: readFileSync(tls.certFile) } : {}),
        ...(tls.keyFile ? { key: readFileSync(tls.keyFile) } : {}),
        ...(tls.serverName ? { servername: tls.serverName } : {}),
      } : {},
    });
    pools.set(key, pool);
  }
  return pool;
}

export async function closeAllDispatchers(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.allSettled(all.map((p) => p.close()));
}
