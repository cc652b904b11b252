// The real vmauth from Debian's victoria-metrics package (backends cache), for side-by-side comparisons.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { programEnv, programPath } from '../../scripts/lib/backends.ts';
import { freePort, startProcess, tempDir, waitForHttp, type RunningProcess } from './processes.ts';

export interface VmAuth { readonly url: string; readonly port: number; readonly proc: RunningProcess; stop(): Promise<void> }

export async function startVmAuth(configYaml: string, flags: readonly string[] = []): Promise<VmAuth> {
  const dir = tempDir('tenantgate-vmauth-');
  const configPath = join(dir.path, 'auth.yml');
  writeFileSync(configPath, configYaml);
  const port = await freePort();
  const proc = startProcess(process.env['VMAUTH_BIN'] ?? programPath('vmauth'), [`-auth.config=${configPath}`, `-httpListenAddr=127.0.0.1:${port}`, '-loggerLevel=ERROR', ...flags], { env: programEnv() });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/health`, proc);
  return { url, port, proc, async stop() { await proc.stop(); dir.remove(); } };
}
