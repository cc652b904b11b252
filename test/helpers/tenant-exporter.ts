// A tiny per-tenant exporter for the tenant enforcement tests: GET /<tenant> answers an
// OpenMetrics page with a counter carrying an exemplar (trace id named after the tenant), an
// info metric and a label name only that tenant has, so leaks of series, label names, label
// values and exemplars are all detectable.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TenantExporter {
  readonly host: string;
  close(): Promise<void>;
}

export function exporterPage(tenant: string): string {
  const id = tenant.replace(/[^a-z0-9]/g, '_');
  return [
    '# TYPE app_requests counter',
    '# HELP app_requests Requests served.',
    `app_requests_total{code="200"} 5 # {trace_id="trace-${tenant}"} 1.0`,
    `# TYPE secret_${id} gauge`,
    `secret_${id}{only_${id}="yes"} 1`,
    '# EOF',
    '',
  ].join('\n');
}

export async function startTenantExporter(): Promise<TenantExporter> {
  const server: Server = createServer((req, res) => {
    const tenant = (req.url ?? '/').slice(1).split('?')[0]!;
    if (!/^[a-z0-9-]+$/.test(tenant)) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': 'application/openmetrics-text; version=1.0.0; charset=utf-8' });
    res.end(exporterPage(tenant));
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
