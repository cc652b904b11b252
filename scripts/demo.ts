#!/usr/bin/env node
// `npm start` (through scripts/start.mjs): a running two-tenant tenantgate on this machine, from nothing. Builds tenantgate if
// the sources changed, unpacks VictoriaMetrics into the backends cache (nothing installed
// system-wide), starts it and the gateway on 127.0.0.1, writes a little data as each tenant
// through the gateway, checks each tenant sees only its own, and prints credentials and commands
// to try. Ctrl-C or SIGTERM stops everything it started; nothing outlives it.
//
// TENANTGATE_DEMO_PORT (default 8427) picks the gateway port; the demo's files live in
// .cache/demo (config, gateway log) and VictoriaMetrics' data in a directory removed on exit.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BackendUnavailableError, ensurePrograms, programEnv, programPath } from './lib/backends.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli.js');
const DIR = join(ROOT, '.cache', 'demo');
const started = performance.now();
const TENANTS = ['team-a', 'team-b'] as const;

function say(line: string): void {
  process.stdout.write(`[demo ${((performance.now() - started) / 1000).toFixed(1).padStart(4)}s] ${line}\n`);
}

class DemoError extends Error {}

// --- processes this demo owns ----------------------------------------------------------------

interface Child { readonly name: string; readonly proc: ChildProcess; readonly exited: Promise<void> }
const children: Child[] = [];
let stopping = false;

function own(name: string, proc: ChildProcess): Child {
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const child = { name, proc, exited };
  children.push(child);
  proc.once('exit', (code, signal) => {
    // Ctrl-C reaches the whole process group: the child may see it before this process does.
    setTimeout(() => {
      if (stopping) return;
      process.stderr.write(`demo: ${name} (pid ${proc.pid}) exited unexpectedly with ${signal ?? `code ${code}`}; stopping\n`);
      void stop(1);
    }, 200);
  });
  return child;
}

async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say('stopping everything the demo started');
    // Reverse order: the gateway before its backend.
    for (const c of [...children].reverse()) {
      if (c.proc.exitCode !== null || c.proc.signalCode !== null) continue;
      try { c.proc.kill('SIGTERM'); } catch { /* gone */ }
      const timer = setTimeout(() => { try { c.proc.kill('SIGKILL'); } catch { /* gone */ } }, 10_000);
      await c.exited;
      clearTimeout(timer);
    }
    if (vmData !== null) rmSync(vmData, { recursive: true, force: true });
    say('stopped');
  }
  process.exit(code);
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => { void stop(0); });
// `npm start` runs this under `sh -c`: a SIGTERM to npm's PID reaches the shell, which dies and
// leaves this process to init. Whatever killed the command that started the demo, the demo
// notices it is orphaned and stops everything too.
const parentPid = process.ppid;
setInterval(() => { if (process.ppid !== parentPid) { say('the command that started the demo is gone'); void stop(0); } }, 250).unref();
let vmData: string | null = null;

// --- steps -------------------------------------------------------------------------------------

/** Newest modification time under `dir` (recursively), for "is the build current?". */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

function build(): void {
  if (existsSync(CLI) && statSync(CLI).mtimeMs >= newest(join(ROOT, 'src'))) { say('tenantgate is built (dist/ is newer than src/)'); return; }
  say('building tenantgate (tsc, about 15 s)…');
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) throw new DemoError('node_modules is missing: run `npm ci` first');
  const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.json')], { stdio: 'inherit' });
  if (r.status !== 0) throw new DemoError('the build failed (see above)');
  say('built');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function waitHttp(url: string, child: Child, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) throw new DemoError(`${what} exited before it was ready`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      if (r.status < 500) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new DemoError(`${what} did not answer ${url} within ${timeoutMs / 1000}s`);
}

function demoConfig(vmUrl: string, passwords: Record<string, string>): string {
  return `# Written by \`npm start\` (scripts/demo.ts); regenerated on every start.
# Two tenants share one VictoriaMetrics; tenantgate scopes every read and write to the tenant's
# namespace label (enforce: victoriametrics sets extra_label / extra_filters and strips client copies).
users:
${TENANTS.map((t) => `- username: ${t}
  password: "${passwords[t]}"
  url_prefix: "${vmUrl}/"
  tenant: {enforce: victoriametrics, labels: {namespace: ${t}}}`).join('\n')}
`;
}

/** A few series per tenant, written through the gateway: the tenant label is added by tenantgate. */
function sampleData(t: string): string {
  const n = t === 'team-a' ? 1 : 2;
  return [
    `demo_requests_total{service="checkout",code="200"} ${1000 * n + 27}`,
    `demo_requests_total{service="checkout",code="500"} ${3 * n}`,
    `demo_temperature_celsius{room="lab-${t.slice(-1)}"} ${20 + n}.5`,
    // A client claiming the other tenant's namespace: tenantgate overrides it.
    `demo_spoofed_total{namespace="${t === 'team-a' ? 'team-b' : 'team-a'}"} 1`,
    '',
  ].join('\n');
}

const auth = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

async function main(): Promise<void> {
  const port = Number(process.env['TENANTGATE_DEMO_PORT'] ?? '8427');
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new DemoError(`TENANTGATE_DEMO_PORT must be a TCP port, not ${JSON.stringify(process.env['TENANTGATE_DEMO_PORT'])}`);
  if (!(await portFree(port))) throw new DemoError(`127.0.0.1:${port} is in use; stop what listens there or set TENANTGATE_DEMO_PORT`);

  say('step 1/5: build');
  build();

  say('step 2/5: VictoriaMetrics from Debian\'s package, unpacked into the backends cache (first run downloads ~23 MB)');
  ensurePrograms(['victoria-metrics'], { log: (s) => say(s) });
  mkdirSync(DIR, { recursive: true });
  vmData = mkdtempSync(join(DIR, 'vm-data-'));
  const vmPort = await freePort();
  const vmUrl = `http://127.0.0.1:${vmPort}`;
  const vm = own('VictoriaMetrics', spawn(programPath('victoria-metrics'), [
    `-httpListenAddr=127.0.0.1:${vmPort}`, `-storageDataPath=${vmData}`, '-retentionPeriod=1d', '-search.latencyOffset=0s', '-search.disableCache', '-loggerLevel=ERROR',
  ], { stdio: ['ignore', 'ignore', 'inherit'], env: programEnv() }));
  await waitHttp(`${vmUrl}/health`, vm, 'VictoriaMetrics');
  say(`VictoriaMetrics is up on ${vmUrl} (pid ${vm.proc.pid})`);

  say('step 3/5: two demo tenants');
  const passwords = Object.fromEntries(TENANTS.map((t) => [t, randomBytes(9).toString('base64url')]));
  const configPath = join(DIR, 'auth.yml');
  writeFileSync(configPath, demoConfig(vmUrl, passwords), { mode: 0o600 });
  say(`config written to ${relative(process.cwd(), configPath) || configPath}`);

  say('step 4/5: tenantgate');
  const gwUrl = `http://127.0.0.1:${port}`;
  const logPath = join(DIR, 'gateway.log');
  const logFd = openSync(logPath, 'w');
  const gw = own('tenantgate', spawn(process.execPath, ['--max-semi-space-size=4', CLI, `-auth.config=${configPath}`, `-httpListenAddr=127.0.0.1:${port}`, '-unauthorizedResponseDelay=0s'], { stdio: ['ignore', logFd, logFd] }));
  try {
    await waitHttp(`${gwUrl}/health`, gw, 'tenantgate');
  } catch (err) {
    process.stderr.write(readFileSync(logPath, 'utf8').slice(-3000));
    throw err;
  }
  say(`tenantgate is up on ${gwUrl} (pid ${gw.proc.pid}; log: ${relative(process.cwd(), logPath) || logPath})`);

  say('step 5/5: a little data, written through the gateway as each tenant');
  for (const t of TENANTS) {
    const r = await fetch(`${gwUrl}/api/v1/import/prometheus`, { method: 'POST', headers: { authorization: auth(t, passwords[t]!) }, body: sampleData(t), signal: AbortSignal.timeout(10_000) });
    await r.arrayBuffer();
    if (r.status !== 204) throw new DemoError(`writing ${t}'s data through the gateway: HTTP ${r.status}`);
  }
  await (await fetch(`${vmUrl}/internal/force_flush`)).arrayBuffer();
  // Each tenant must see its own series and nothing else, through the same query API the printed
  // commands use (bounded wait for ingestion).
  for (const t of TENANTS) {
    let seen: Array<[string, string]> = [];
    for (let i = 0; i < 100; i++) {
      const q = encodeURIComponent('count by (namespace) ({__name__=~"demo_.*"})');
      const r = await fetch(`${gwUrl}/api/v1/query?query=${q}`, { headers: { authorization: auth(t, passwords[t]!) }, signal: AbortSignal.timeout(5000) });
      const j = await r.json() as { data?: { result?: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      seen = (j.data?.result ?? []).map((s) => [s.metric['namespace'] ?? '', s.value[1]]);
      if (seen.length > 0 && seen[0]![1] === '4') break;
      await new Promise((res) => setTimeout(res, 200));
    }
    if (JSON.stringify(seen) !== JSON.stringify([[t, '4']])) throw new DemoError(`${t} should see its 4 series, all namespace="${t}"; saw ${JSON.stringify(seen)}`);
  }
  say('checked: each tenant sees its own 4 series, all labelled with its namespace, none of the other\'s');

  const [a, b] = TENANTS;
  const pa = passwords[a]!;
  const pb = passwords[b]!;
  process.stdout.write(`
tenantgate demo is ready in ${((performance.now() - started) / 1000).toFixed(1)}s. Ctrl-C (or kill ${process.pid}) stops everything it started.

  gateway           ${gwUrl}
  tenant ${a}     user ${a}  password ${pa}
  tenant ${b}     user ${b}  password ${pb}
  config            ${configPath}
  VictoriaMetrics   ${vmUrl}  (behind the gateway; tenants never talk to it directly)

Try:
  curl -su ${a}:${pa} '${gwUrl}/api/v1/query?query=demo_requests_total'
  curl -su ${b}:${pb} '${gwUrl}/api/v1/query?query=demo_requests_total'
  curl -su ${a}:${pa} '${gwUrl}/api/v1/query' --data-urlencode 'query=demo_requests_total{namespace="${b}"}'   # empty: ${b}'s data is out of reach
  curl -su ${a}:${pa} '${gwUrl}/api/v1/label/namespace/values'
  curl -su ${a}:${pa} '${gwUrl}/api/v1/status/top_queries'   # 403: leaks other tenants' queries
  curl -s '${gwUrl}/metrics' | grep -E 'vmauth_user_requests_total|tenantgate_requests_denied_total'
  Grafana: a Prometheus data source with URL ${gwUrl} and basic auth ${a} / ${pa}

`);
  // Runs until a signal (handled above) or a child's unexpected exit.
  await new Promise(() => {});
}

main().catch(async (err: unknown) => {
  if (err instanceof DemoError || err instanceof BackendUnavailableError) process.stderr.write(`demo: ${err.message}\n`);
  else process.stderr.write(`demo: ${(err as Error).stack ?? String(err)}\n`);
  await stop(1);
});
