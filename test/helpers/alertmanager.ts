// A real Alertmanager (Debian's `prometheus-alertmanager`, from the backends cache) on 127.0.0.1 with a given
// configuration, a free port, clustering disabled and a throw-away storage directory.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { programEnv, programPath } from '../../scripts/lib/backends.ts';
import { freePort, startService, tempDir, type RunningProcess } from './processes.ts';

export interface Alertmanager {
  readonly url: string;
  readonly port: number;
  readonly proc: RunningProcess;
  /** Posts alerts to /api/v2/alerts (labels, optional annotations; startsAt defaults to now). */
  postAlerts(alerts: ReadonlyArray<{ labels: Record<string, string>; annotations?: Record<string, string> }>): Promise<void>;
  /** The configuration file Alertmanager was started with. */
  readonly configPath: string;
  /** Rewrites the configuration file and asks Alertmanager to reload it (POST /-/reload). */
  reload(config: object | string): Promise<void>;
  stop(): Promise<void>;
}

export async function startAlertmanager(config: object | string, extraArgs: readonly string[] = []): Promise<Alertmanager> {
  const port = await freePort();
  const dir = tempDir('tenantgate-am-');
  const configPath = join(dir.path, 'alertmanager.yml');
  const write = (c: object | string) => writeFileSync(configPath, typeof c === 'string' ? c : stringify(c, { version: '1.1', aliasDuplicateObjects: false }));
  write(config);
  const url = `http://127.0.0.1:${port}`;
  const proc = await startService(programPath('alertmanager'), [
    `--config.file=${configPath}`,
    `--web.listen-address=127.0.0.1:${port}`,
    `--storage.path=${join(dir.path, 'data')}`,
    '--cluster.listen-address=', // no gossip: a single, isolated instance
    '--log.level=warn',
    ...extraArgs,
  ], `${url}/-/ready`, dir, { env: programEnv() });
  return {
    url,
    port,
    proc,
    configPath,
    async reload(next) {
      write(next);
      const res = await fetch(`${url}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(5000) });
      const body = await res.text();
      if (!res.ok) throw new Error(`POST /-/reload: ${res.status} ${body}`);
    },
    async postAlerts(alerts) {
      const now = new Date().toISOString();
      const res = await fetch(`${url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alerts.map((a) => ({ labels: a.labels, annotations: a.annotations ?? {}, startsAt: now }))),
        signal: AbortSignal.timeout(5000),
      });
      const body = await res.text();
      if (!res.ok) throw new Error(`POST /api/v2/alerts: ${res.status} ${body}`);
    },
    async stop() {
      await proc.stop();
      dir.remove();
    },
  };
}
