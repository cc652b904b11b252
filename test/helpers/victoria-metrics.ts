// A real single-node VictoriaMetrics on 127.0.0.1 with a throw-away data directory.
import { programEnv, programPath } from '../../scripts/lib/backends.ts';
import { freePort, startProcess, tempDir, waitForHttp, type RunningProcess } from './processes.ts';

export interface VictoriaMetrics {
  readonly url: string;
  readonly port: number;
  readonly proc: RunningProcess;
  /** Makes freshly ingested samples visible to queries at once. */
  flush(): Promise<void>;
  /**
   * Flushes, then waits (bounded: 10 s) until `count(<selector>)` reaches `expected`: recent samples
   * become visible to instant queries only after VictoriaMetrics' small ingestion delay.
   */
  waitForSeries(selector: string, expected: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startVictoriaMetrics(extraArgs: readonly string[] = []): Promise<VictoriaMetrics> {
  const port = await freePort();
  const dir = tempDir('tenantgate-vm-');
  const proc = startProcess(programPath('victoria-metrics'), [
    `-httpListenAddr=127.0.0.1:${port}`,
    `-storageDataPath=${dir.path}`,
    '-retentionPeriod=100y',
    '-search.latencyOffset=0s',
    '-search.disableCache',
    '-loggerLevel=ERROR',
    ...extraArgs,
  ], { env: programEnv() });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/health`, proc);
  const flush = async () => {
    const res = await fetch(`${url}/internal/force_flush`);
    await res.arrayBuffer();
  };
  return {
    url,
    port,
    proc,
    flush,
    async waitForSeries(selector, expected) {
      await flush();
      for (let i = 0; i < 50; i++) {
        const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(`count(${selector})`)}`);
        const result = (await r.json() as { data: { result: { value: [number, string] }[] } }).data.result;
        if (Number(result[0]?.value[1] ?? 0) >= expected) return;
        await new Promise((res) => setTimeout(res, 200));
      }
      throw new Error(`VictoriaMetrics did not show ${expected} series for ${selector} within 10 s`);
    },
    async stop() {
      await proc.stop();
      dir.remove();
    },
  };
}
