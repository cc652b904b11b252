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
  /** Adds a value (a client credential, a flag secret) that must never appear in the logs either. */
  addSecret(secret: string): void;
  /** The configured and added secrets found in `text` (e.g. a /metrics or /flags body, an error body). */
  secretsIn(text: string): string[];
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
  for (const f of opts.flags ?? []) collectFlagSecrets(f, secrets);
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
    addSecret: (secret) => { if (secret.length >= 6) secrets.add(secret); },
    secretsIn: (text) => [...secrets].filter((s) => text.includes(s)),
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
/** Header and query arg names whose values are secrets (a sample of the gateway's masking list). */
const SECRET_NAME = /(^|[-_.])(authorization|token|password|passwd|secret|api[-_]?key|auth[-_]?key|authkey|jwt|session[-_]?id|sessionid|key|signature)$/i;

/** The password of `user:password@` and secret query args of a URL. */
function urlSecrets(text: string, into: Set<string>): void {
  for (const m of text.matchAll(/[a-z][a-z0-9+.-]*:\/\/[^\s"']+/gi)) {
    let u: URL;
    try { u = new URL(m[0]); } catch { continue; }
    if (u.password.length >= 6) into.add(decodeURIComponent(u.password));
    for (const [k, v] of u.searchParams) if (SECRET_NAME.test(k) && v.length >= 6) into.add(v);
  }
}

/** Secret values given as flags: declared secret flags and URLs with credentials. */
function collectFlagSecrets(flag: string, into: Set<string>): void {
  const m = /^--?([^=]+)=(.*)$/.exec(flag);
  if (m === null) return;
  const [, name, value] = m as unknown as [string, string, string];
  if (/(authkey|password|license)$/i.test(name) && value.length >= 6 && !value.startsWith('file://')) into.add(value);
  urlSecrets(value, into);
}

/** Secret values of a config (long enough not to match by accident), for the log check. */
function collectSecrets(yaml: string, into: Set<string>): void {
  let doc: unknown;
  try { doc = parseYaml(yaml); } catch { return; }
  const walk = (v: unknown, key: string) => {
    if (typeof v === 'string') {
      if (SECRET_KEYS.has(key) && v.length >= 6) into.add(v);
      const header = /^([^:\s]+):\s*(.+)$/.exec(v);
      if (key === 'headers' && header !== null && SECRET_NAME.test(header[1] as string) && (header[2] as string).length >= 6) {
        into.add(header[2] as string);
        // `Authorization: Bearer x` / `Basic x`: the credential part on its own too
        const cred = /^(?:Bearer|Basic|Token)\s+(\S{6,})$/i.exec(header[2] as string);
        if (cred !== null) into.add(cred[1] as string);
      }
      if (key === 'url_prefix' || key === 'default_url') urlSecrets(v, into);
    } else if (Array.isArray(v)) {
      for (const x of v) walk(x, key);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, k);
    }
  };
  walk(doc, '');
}
