// Child processes of the benchmark: optionally pinned to a CPU core with taskset, tracked by PID
// and killed when the harness exits for any reason, so no proxy or backend outlives a run.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';

const live = new Set<ChildProcess>();
function killAll(): void {
  for (const c of live) {
    if (c.pid !== undefined) { try { process.kill(c.pid, 'SIGKILL'); } catch { /* already gone */ } }
  }
  live.clear();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => { killAll(); process.exit(130); });
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$0"', cmd], { stdio: 'ignore' }).status === 0;
}

const tasksetAvailable = hasCommand('taskset');

/** The command line that runs `cmd` on `core` (taskset execs, so the PID stays the program's). */
export function pinned(core: number | null, cmd: string, args: readonly string[]): [string, string[]] {
  if (core === null || !tasksetAvailable) return [cmd, [...args]];
  return ['taskset', ['-c', String(core), cmd, ...args]];
}

export interface Proc {
  readonly pid: number;
  readonly name: string;
  output(): string;
  readonly exited: Promise<number | string | null>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export function start(name: string, core: number | null, cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Proc {
  const [c, a] = pinned(core, cmd, args);
  const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
  if (child.pid === undefined) throw new Error(`cannot start ${name}: ${cmd}`);
  live.add(child);
  let out = '';
  const keep = (b: Buffer) => { if (out.length < 1 << 20) out += b.toString('utf8'); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | string | null>((resolve) => {
    child.once('exit', (code, signal) => { live.delete(child); resolve(code ?? signal); });
    child.once('error', () => { live.delete(child); resolve(null); });
  });
  const pid = child.pid;
  return {
    pid, name, exited,
    output: () => out,
    async stop(graceMs = 3000) {
      if (!live.has(child)) return;
      try { process.kill(pid, 'SIGTERM'); } catch { return; }
      const timer = setTimeout(() => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }, graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port; fails if `proc` exits or time runs out. */
export async function waitForPort(port: number, proc: Proc, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let dead = false;
  void proc.exited.then(() => { dead = true; });
  while (Date.now() < deadline) {
    if (dead) throw new Error(`${proc.name} exited before listening on port ${port}:\n${proc.output().slice(-2000)}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${proc.name} did not listen on port ${port} within ${timeoutMs} ms:\n${proc.output().slice(-2000)}`);
}

/** Runs a command to completion and returns its stdout (bounded by `timeoutMs`). */
export function runToEnd(core: number | null, cmd: string, args: readonly string[], timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [c, a] = pinned(core, cmd, args);
  return new Promise((resolve, reject) => {
    const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    live.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (b: Buffer) => { stdout += b.toString('utf8'); });
    child.stderr?.on('data', (b: Buffer) => { stderr += b.toString('utf8'); });
    const timer = setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } }, timeoutMs);
    child.once('error', (err) => { clearTimeout(timer); live.delete(child); reject(err); });
    child.once('exit', (code) => { clearTimeout(timer); live.delete(child); resolve({ code, stdout, stderr }); });
  });
}

/** A free TCP port on 127.0.0.1 (asked from the kernel, then released). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
