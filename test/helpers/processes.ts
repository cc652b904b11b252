// Starting and stopping real processes (backends, the gateway) for integration tests.
// Every process is tracked by PID and killed when the test file's process exits, so a failed
// assertion never leaves a VictoriaMetrics or Prometheus behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunningProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Sends SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (or signal name). */
  stop(graceMs?: number): Promise<number | string | null>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<number | string | null>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) {
    if (child.pid !== undefined) {
      try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  }
});

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function startProcess(command: string, args: readonly string[], opts: StartOptions = {}): RunningProcess {
  const child = spawn(command, args, {
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`cannot start ${command}`);
  live.add(child);
  // A failing test file must still exit (the exit hook then kills the child), so neither the
  // child nor its pipes may keep the event loop alive.
  child.unref();
  (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  const chunks: string[] = [];
  const MAX_OUTPUT = 4 * 1024 * 1024;
  let size = 0;
  const collect = (b: Buffer) => {
    if (size < MAX_OUTPUT) { chunks.push(b.toString('utf8')); size += b.length; }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | string | null>((resolve) => {
    child.once('exit', (code, signal) => { live.delete(child); resolve(code ?? signal); });
    child.once('error', () => { live.delete(child); resolve(null); });
  });
  const pid = child.pid;
  return {
    pid,
    child,
    exited,
    output: () => chunks.join(''),
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      try { process.kill(pid, 'SIGTERM'); } catch { /* already gone */ }
      const timer = setTimeout(() => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }, graceMs);
      try { return await exited; } finally { clearTimeout(timer); }
    },
  };
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') { reject(new Error('no port')); return; }
      srv.close(() => resolve(addr.port));
    });
  });
}

export function tempDir(prefix = 'tenantgate-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Polls `url` until it answers with a status below 500, for at most `timeoutMs`.
 * Fails early with the process output if the process exits first.
 */
export async function waitForHttp(url: string, proc?: RunningProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  let exited = false;
  void proc?.exited.then(() => { exited = true; });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`process exited before ${url} answered:\n${proc?.output() ?? ''}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status < 500) return;
      lastErr = new Error(`status ${res.status}`);
    } catch (err) {
      lastErr = err;
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms: ${String(lastErr)}\n${proc?.output() ?? ''}`);
}

/**
 * Starts a server process and waits until `readyUrl` answers; if it never does, the process is
 * stopped and `dir` (its data directory) removed before the error is rethrown.
 */
export async function startService(command: string, args: readonly string[], readyUrl: string, dir: { remove(): void }, opts: StartOptions = {}): Promise<RunningProcess> {
  const proc = startProcess(command, args, opts);
  try {
    await waitForHttp(readyUrl, proc);
  } catch (err) {
    await proc.stop();
    dir.remove();
    throw err;
  }
  return proc;
}
