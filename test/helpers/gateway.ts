// Runs the built tenantgate (dist/cli.js) as a real process on 127.0.0.1 with a given config.
import { writeFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startProcess, tempDir, waitForHttp, type RunningProcess } from './processes.ts';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface Gateway {
  readonly url: string;
  readonly port: number;
  readonly proc: RunningProcess;
  readonly configPath: string;
  /** Set when started with `internal: true`: where /health, /metrics, /-/reload are served. */
  readonly internalUrl: string | null;
  /** Rewrites the config file (for reload tests). */
  writeConfig(yaml: string): void;
  stop(): Promise<number | string | null>;
}

export interface GatewayStartOptions {
  readonly flags?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Path answered once the gateway is up; default /health. */
  readonly readyPath?: string;
  /** Serve internal endpoints on their own plain-HTTP listener (needed when the main one speaks TLS or PROXY protocol). */
  readonly internal?: boolean;
  /**
   * -workers=N. Default 1, so semantic tests see one process whatever the machine's CPU count;
   * a `-workers=…` in `flags` wins.
   */
  readonly workers?: number;
}

export async function startGateway(configYaml: string, opts: GatewayStartOptions = {}): Promise<Gateway> {
  const secrets = new Set<string>();
  collectSecrets(configYaml, secrets);
  const dir = tempDir('tenantgate-gw-');
  const configPath = join(dir.path, 'auth.yml');
  writeFileSync(configPath, configYaml);
  const port = await freePort();
  const internalPort = opts.internal ? await freePort() : 0;
  const proc = startProcess(process.execPath, [
    CLI,
    ...(opts.internal ? [`-httpInternalListenAddr=127.0.0.1:${internalPort}`] : []),
    `-auth.config=${configPath}`,
    `-httpListenAddr=127.0.0.1:${port}`,
    '-unauthorizedResponseDelay=0s',
    ...((opts.flags ?? []).some((f) => /^--?workers(=|$)/.test(f)) ? [] : [`-workers=${opts.workers ?? 1}`]),
    ...(opts.flags ?? []),
  ], { env: { ...process.env, ...opts.env } });
  const url = `http://127.0.0.1:${port}`;
  const internalUrl = opts.internal ? `http://127.0.0.1:${internalPort}` : null;
  await waitForHttp(`${internalUrl ?? url}${opts.readyPath ?? '/health'}`, proc);
  return {
    url,
    port,
    proc,
    configPath,
    internalUrl,
    writeConfig: (yaml) => { collectSecrets(yaml, secrets); writeFileSync(configPath, yaml); },
    async stop() {
      const code = await proc.stop();
      dir.remove();
      // Every test doubles as a check that no configured secret ever reaches the logs.
      const out = proc.output();
      for (const s of secrets) {
        if (out.includes(s)) throw new Error(`the gateway logged a configured secret (${s.length} characters, starting ${JSON.stringify(s.slice(0, 2))})`);
      }
      return code;
    },
  };
}

export const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

const SECRET_KEYS = new Set(['password', 'bearer_token', 'auth_token', 'password_hash']);

/** Secret values of a config (long enough not to match by accident), for the log check. */
function collectSecrets(yaml: string, into: Set<string>): void {
  let doc: unknown;
  try { doc = parseYaml(yaml); } catch { return; }
  const walk = (v: unknown, key: string) => {
    if (typeof v === 'string') {
      if (SECRET_KEYS.has(key) && v.length >= 6) into.add(v);
      const auth = /^authorization:\s*(.+)$/i.exec(v);
      if (key === 'headers' && auth !== null && (auth[1] as string).length >= 6) into.add(auth[1] as string);
    } else if (Array.isArray(v)) {
      for (const x of v) walk(x, key);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, k);
    }
  };
  walk(doc, '');
}
