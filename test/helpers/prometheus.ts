// A real Prometheus on 127.0.0.1 with a given configuration (and optional rule files), a free
// port and a throw-away TSDB directory. Stopped by PID.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { programEnv, programPath } from '../../scripts/lib/backends.ts';
import { freePort, sleep, startService, tempDir, type RunningProcess } from './processes.ts';

export interface Prometheus {
  readonly url: string;
  readonly port: number;
  readonly proc: RunningProcess;
  /** Directory holding prometheus.yml and the rule files. */
  readonly dir: string;
  /** Instant query; returns `data.result` or throws with the error Prometheus gave. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  /**
   * Repeats `query` until `accept` returns true, at most `timeoutMs`; returns the last result.
   * Useful to wait for scrapes and rule evaluations.
   */
  waitFor(expr: string, accept: (r: Array<{ metric: Record<string, string>; value: [number, string] }>) => boolean, timeoutMs?: number): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** Rule files by file name; their paths are added to `rule_files`. */
  readonly rules?: Readonly<Record<string, string | object>>;
  readonly extraArgs?: readonly string[];
}

/** `config` is an object (serialised as YAML) or YAML text. */
export async function startPrometheus(config: object | string, opts: PrometheusOptions = {}): Promise<Prometheus> {
  const port = await freePort();
  const dir = tempDir('tenantgate-prom-');
  const ruleFiles: string[] = [];
  for (const [name, content] of Object.entries(opts.rules ?? {})) {
    const p = join(dir.path, name);
    writeFileSync(p, typeof content === 'string' ? content : stringify(content, { version: '1.1', aliasDuplicateObjects: false }));
    ruleFiles.push(p);
  }
  let text = typeof config === 'string' ? config : stringify(config, { version: '1.1', aliasDuplicateObjects: false });
  if (ruleFiles.length > 0) text += `\nrule_files:\n${ruleFiles.map((f) => `  - ${JSON.stringify(f)}`).join('\n')}\n`;
  const configPath = join(dir.path, 'prometheus.yml');
  writeFileSync(configPath, text);
  const url = `http://127.0.0.1:${port}`;
  // /-/ready answers 503 while starting; waitForHttp accepts <500 only, so this is really ready.
  const proc = await startService(programPath('prometheus'), [
    `--config.file=${configPath}`,
    `--web.listen-address=127.0.0.1:${port}`,
    `--storage.tsdb.path=${join(dir.path, 'data')}`,
    '--log.level=warn',
    ...(opts.extraArgs ?? []),
  ], `${url}/-/ready`, dir, { env: programEnv() });
  const query = async (expr: string) => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(5000) });
    const body = await res.json() as { status: string; error?: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
    if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error ?? res.status}`);
    return body.data!.result;
  };
  return {
    url,
    port,
    proc,
    dir: dir.path,
    query,
    async waitFor(expr, accept, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      let last = await query(expr);
      while (!accept(last) && Date.now() < deadline) {
        await sleep(250);
        last = await query(expr);
      }
      return last;
    },
    async stop() {
      await proc.stop();
      dir.remove();
    },
  };
}
