// What a process cost, read from /proc: CPU time (utime+stime of all its threads, so GC and
// libuv helper threads count) and memory (VmHWM = peak resident set, VmRSS = current).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clkTck = 0;
function ticksPerSecond(): number {
  if (clkTck === 0) {
    try { clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { clkTck = 100; }
  }
  return clkTck;
}

/** CPU seconds used by `pid` so far (user + system, all threads). */
export function cpuSeconds(pid: number): number {
  const { user, system } = cpuSplit(pid);
  return user + system;
}

/** CPU seconds so far of each thread of `pid`, by thread id, with the thread's name. */
export function threadCpu(pid: number): Map<number, { name: string; seconds: number }> {
  const out = new Map<number, { name: string; seconds: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), { name, seconds: (Number(rest[11]) + Number(rest[12])) / ticksPerSecond() });
    } catch { /* the thread ended */ }
  }
  return out;
}

/** CPU seconds used by `pid` so far in user space and in the kernel (page faults, syscalls). */
export function cpuSplit(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14, stime field 15.
  return { user: Number(rest[11]) / ticksPerSecond(), system: Number(rest[12]) / ticksPerSecond() };
}

function statusKiB(pid: number, key: string): number {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

export const peakRssMiB = (pid: number): number => statusKiB(pid, 'VmHWM') / 1024;
export const rssMiB = (pid: number): number => statusKiB(pid, 'VmRSS') / 1024;

/** `pid` and all its descendants (tenantgate with -workers > 1 is a primary plus forked workers). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(e));
      children.set(ppid, list);
    } catch { /* exited meanwhile */ }
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop() as number;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

const safe = (f: (pid: number) => number, pid: number) => { try { return f(pid); } catch { return 0; } };
/** CPU seconds of the whole process tree. */
export const treeCpuSeconds = (pid: number): number => processTree(pid).reduce((a, p) => a + safe(cpuSeconds, p), 0);
/** The largest peak RSS of any one process in the tree (the per-worker figure). */
export const treePeakRssMiB = (pid: number): number => Math.max(...processTree(pid).map((p) => safe(peakRssMiB, p)));
export const treeRssMiB = (pid: number): number => Math.max(...processTree(pid).map((p) => safe(rssMiB, p)));

/** Busy and total jiffies per core from /proc/stat, to tell whether the load-generator core saturated. */
export function coreTimes(): Map<number, { busy: number; total: number }> {
  const out = new Map<number, { busy: number; total: number }>();
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const v = (m[2] as string).trim().split(/\s+/).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    out.set(Number(m[1]), { busy: total - idle, total });
  }
  return out;
}

/** Busy share (0–1) of `core` between two coreTimes() snapshots. */
export function coreBusy(before: ReturnType<typeof coreTimes>, after: ReturnType<typeof coreTimes>, core: number): number {
  const a = before.get(core);
  const b = after.get(core);
  if (!a || !b || b.total === a.total) return NaN;
  return (b.busy - a.busy) / (b.total - a.total);
}

/**
 * Waits (up to `maxWaitMs`) until every core is nearly idle, so a run does not start while
 * other work (a build, someone else's tests) shares the machine. Returns the busiest core's
 * share over the last sample; the caller reports it when the machine never got quiet.
 */
export async function waitForQuiet(maxWaitMs: number, threshold = 0.15, sampleMs = 500): Promise<number> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    const a = coreTimes();
    await new Promise((r) => setTimeout(r, sampleMs));
    const b = coreTimes();
    let busiest = 0;
    for (const core of b.keys()) busiest = Math.max(busiest, coreBusy(a, b, core) || 0);
    if (busiest <= threshold || Date.now() >= deadline) return busiest;
  }
}
