// Bounded soak: one tenantgate under a mix of every request kind for N seconds, its RSS sampled
// every 10 s. Growth is judged on the second half, after the heap has found its working size.
import { treeCpuSeconds as cpuSeconds, treePeakRssMiB as peakRssMiB, treeRssMiB as rssMiB } from './proc-stats.ts';
import { freePort } from './processes.ts';
import { startProxy } from './proxies.ts';
import { median } from './report.ts';
import { runWrk } from './wrk.ts';

export interface SoakResult {
  readonly seconds: number;
  readonly requests: number;
  readonly rps: number;
  readonly samples: readonly { readonly t: number; readonly rssMiB: number }[];
  readonly peakRssMiB: number;
  /** Least-squares slope of RSS over the second half, MiB per minute. */
  readonly slopeMiBPerMin: number;
  /** Median RSS of the last fifth minus that of the second fifth. */
  readonly growthMiB: number;
  readonly cpuUsPerRequest: number;
  readonly errors: number;
}

function slope(points: readonly { t: number; rssMiB: number }[]): number {
  if (points.length < 2) return NaN;
  const n = points.length;
  const mt = points.reduce((a, p) => a + p.t, 0) / n;
  const mr = points.reduce((a, p) => a + p.rssMiB, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) { num += (p.t - mt) * (p.rssMiB - mr); den += (p.t - mt) ** 2; }
  return den === 0 ? 0 : (num / den) * 60;
}

export async function soak(opts: { seconds: number; config: string; script: string; proxyCore: number | null; loadCore: number | null; connections: number; vmauthBin: string; nodeFlags: readonly string[]; log: (s: string) => void }): Promise<SoakResult> {
  const port = await freePort();
  const proc = await startProxy('tenantgate', { core: opts.proxyCore, port, config: opts.config, vmauthBin: opts.vmauthBin, nodeFlags: opts.nodeFlags });
  const samples: { t: number; rssMiB: number }[] = [];
  const t0 = Date.now();
  const cpu0 = cpuSeconds(proc.pid);
  const sample = () => {
    const s = { t: (Date.now() - t0) / 1000, rssMiB: rssMiB(proc.pid) };
    samples.push(s);
    opts.log(`soak: ${s.t.toFixed(0).padStart(4)} s  RSS ${s.rssMiB.toFixed(1)} MiB`);
  };
  sample();
  const timer = setInterval(sample, 10_000);
  try {
    const w = await runWrk(opts.loadCore, { url: `http://127.0.0.1:${port}/`, headers: [], script: opts.script }, opts.connections, opts.seconds);
    clearInterval(timer);
    sample();
    const cpu = cpuSeconds(proc.pid) - cpu0;
    const half = samples.filter((s) => s.t >= opts.seconds / 2);
    const fifth = (k: number) => samples.filter((s) => s.t >= (opts.seconds * k) / 5 && s.t < (opts.seconds * (k + 1)) / 5 + 1).map((s) => s.rssMiB);
    return {
      seconds: w.seconds, requests: w.requests, rps: w.rps, samples,
      peakRssMiB: peakRssMiB(proc.pid),
      slopeMiBPerMin: slope(half),
      growthMiB: median(fifth(4)) - median(fifth(1)),
      cpuUsPerRequest: (cpu * 1e6) / w.requests,
      errors: w.non2xx + w.socketErrors,
    };
  } finally {
    clearInterval(timer);
    await proc.stop(5000);
  }
}
