// A real Prometheus with the remote-write receiver on, on 127.0.0.1, with a throw-away TSDB.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { programEnv, programPath } from '../../scripts/lib/backends.ts';
import { freePort, startService, tempDir, type RunningProcess } from './processes.ts';

export interface PrometheusReceiver {
  readonly url: string;
  readonly proc: RunningProcess;
  /** POSTs a remote-write 1.0 body to /api/v1/write. */
  write(body: Uint8Array, encoding?: 'snappy'): Promise<{ status: number; text: string }>;
  /** Label sets of the series matching `selector` (GET /api/v1/series). */
  series(selector: string): Promise<Array<Record<string, string>>>;
  /** The instant-vector result of `query` at `timeMs`. */
  query(query: string, timeMs: number): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  stop(): Promise<void>;
}

export async function startPrometheusReceiver(): Promise<PrometheusReceiver> {
  const port = await freePort();
  const dir = tempDir('tenantgate-prom-');
  const config = join(dir.path, 'prometheus.yml');
  writeFileSync(config, 'global:\n  scrape_interval: 1h\n');
  const url = `http://127.0.0.1:${port}`;
  const proc = await startService(programPath('prometheus'), [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir.path, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-remote-write-receiver',
    '--log.level=warn',
  ], `${url}/-/ready`, dir, { env: programEnv() });
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(10_000) });
    const json = (await res.json()) as { status: string; data: T; error?: string };
    if (json.status !== 'success') throw new Error(`${path}: ${json.error ?? res.status}`);
    return json.data;
  };
  return {
    url,
    proc,
    async write(body, encoding = 'snappy') {
      const res = await fetch(`${url}/api/v1/write`, {
        method: 'POST',
        body,
        headers: {
          'Content-Encoding': encoding,
          'Content-Type': 'application/x-protobuf',
          'X-Prometheus-Remote-Write-Version': '0.1.0',
        },
        signal: AbortSignal.timeout(10_000),
      });
      return { status: res.status, text: await res.text() };
    },
    series: (selector) => api(`/api/v1/series?match[]=${encodeURIComponent(selector)}`),
    query: (q, timeMs) => api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(
      `/api/v1/query?query=${encodeURIComponent(q)}&time=${timeMs / 1000}`).then((d) => d.result),
    async stop() {
      await proc.stop();
      dir.remove();
    },
  };
}
