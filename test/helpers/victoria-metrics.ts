// A real single-node VictoriaMetrics on 127.0.0.1 with a throw-away data directory.
import { freePort, startProcess, tempDir, waitForHttp, type RunningProcess } from './processes.ts';

export interface VictoriaMetrics {
  readonly url: string;
  readonly port: number;
  readonly proc: RunningProcess;
  /** Makes freshly ingested samples visible to queries at once. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export async function startVictoriaMetrics(extraArgs: readonly string[] = []): Promise<VictoriaMetrics> {
  const port = await freePort();
  const dir = tempDir('tenantgate-vm-');
  const proc = startProcess('victoria-metrics', [
    `-httpListenAddr=127.0.0.1:${port}`,
    `-storageDataPath=${dir.path}`,
    '-retentionPeriod=100y',
    '-search.latencyOffset=0s',
    '-search.disableCache',
    '-loggerLevel=ERROR',
    ...extraArgs,
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/health`, proc);
  return {
    url,
    port,
    proc,
    async flush() {
      const res = await fetch(`${url}/internal/force_flush`);
      await res.arrayBuffer();
    },
    async stop() {
      await proc.stop();
      dir.remove();
    },
  };
}
