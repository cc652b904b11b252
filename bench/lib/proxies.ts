// Starting the two proxies under test with the same flags, pinned to the proxy core.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { programEnv } from '../../scripts/lib/backends.ts';
import { runToEnd, start, waitForPort, type Proc } from './processes.ts';

/** `bare` is the floor: node:http + undici dispatch with no features (bench/lib/bare-proxy.ts). */
export type ProxyKind = 'tenantgate' | 'vmauth' | 'bare';

const REPO = new URL('../../', import.meta.url).pathname;
/** The tenantgate build under test; TENANTGATE_CLI points at another build (e.g. a snapshot of a commit). */
export const TENANTGATE_CLI = process.env['TENANTGATE_CLI'] || join(REPO, 'dist', 'cli.js');

export interface ProxyOptions {
  readonly core: number | null;
  readonly port: number;
  readonly config: string;
  readonly vmauthBin: string;
  /** Extra Node flags for tenantgate (e.g. --cpu-prof). */
  readonly nodeFlags?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Extra tenantgate flags (e.g. -workers=2). */
  readonly gatewayFlags?: readonly string[];
}

function flags(o: ProxyOptions): string[] {
  return [`-auth.config=${o.config}`, `-httpListenAddr=127.0.0.1:${o.port}`, '-loggerLevel=ERROR'];
}

export async function startProxy(kind: ProxyKind, o: ProxyOptions): Promise<Proc> {
  const proc = kind === 'tenantgate'
    ? start('tenantgate', o.core, process.execPath, [...(o.nodeFlags ?? []), TENANTGATE_CLI, ...flags(o), ...(o.gatewayFlags ?? [])], o.env)
    : kind === 'bare'
      ? start('bare', o.core, process.execPath, [...(o.nodeFlags ?? []), join(REPO, 'bench', 'lib', 'bare-proxy.ts'), String(o.port), backendOrigin(o.config)])
      : start('vmauth', o.core, o.vmauthBin, flags(o), programEnv());
  await waitForPort(o.port, proc);
  return proc;
}

/** The first url_prefix of a benchmark config: the one backend the bare proxy forwards to. */
function backendOrigin(config: string): string {
  const m = /url_prefix:\s*"?(http:\/\/[^"\s/]+)/.exec(readFileSync(config, 'utf8'));
  if (m === null) throw new Error(`${config}: no url_prefix for the bare proxy`);
  return m[1] as string;
}

/** Whether tenantgate accepts `config` (its -dryRun); the loader's message when it does not. */
export async function tenantgateAccepts(config: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  const r = await runToEnd(null, process.execPath, [TENANTGATE_CLI, `-auth.config=${config}`, '-dryRun', '-loggerLevel=ERROR'], 30_000);
  if (r.code === 0) return { ok: true };
  const text = (r.stderr + r.stdout).trim().split('\n').filter((l) => l.trim() !== '');
  return { ok: false, reason: text.slice(-2).join(' ').replace(/\s+/g, ' ').slice(0, 300) };
}
