// One measurement: a fresh proxy process, a warm-up, then wrk for the measured window with the
// proxy's CPU time, peak RSS and the load core's busy share read around it.
import { coreBusy, coreTimes, cpuSeconds, treeCpuSeconds, treePeakRssMiB, treeRssMiB, waitForQuiet } from './proc-stats.ts';
import { freePort, type Proc } from './processes.ts';
import { startProxy, type ProxyKind } from './proxies.ts';
import type { Scenario } from './scenarios.ts';
import { runWrk } from './wrk.ts';

export interface Topology {
  readonly proxyCore: number | null;
  readonly loadCore: number | null;
  readonly connections: number;
  readonly vmauthBin: string;
  readonly backend: Proc;
  /** How long to wait for an idle machine before each run (shared machines). */
  readonly quietWaitMs: number;
  readonly nodeFlags: readonly string[];
}

export interface RunResult {
  readonly scenario: string;
  readonly proxy: ProxyKind;
  readonly round: number;
  readonly rps: number;
  readonly requests: number;
  readonly p50Us: number;
  readonly p99Us: number;
  /** CPU time of the proxy's whole process tree (all threads, all workers) per request. */
  readonly cpuUsPerRequest: number;
  /** Share of one core the proxy used during the window (1 = saturated). */
  readonly proxyCpuShare: number;
  /** VmHWM of the largest process in the proxy's tree (per worker when there are several). */
  readonly peakRssMiB: number;
  readonly rssEndMiB: number;
  readonly backendCpuUsPerRequest: number;
  /** Busy share of the load-generator core (wrk + backend); near 1 means the harness, not the proxy, limited the run. */
  readonly loadCoreBusy: number;
  /** CPU share of the proxy core used by anything but the proxy (other work on a shared machine). */
  readonly otherOnProxyCore: number;
  readonly errors: number;
  readonly samplesPerSecond?: number;
}

export async function measure(s: Scenario, proxy: ProxyKind, round: number, config: string, topo: Topology, warmupS: number, durationS: number): Promise<RunResult> {
  if (topo.quietWaitMs > 0) {
    const busy = await waitForQuiet(topo.quietWaitMs);
    if (busy > 0.15) process.stderr.write(`note: the machine was still ${(busy * 100).toFixed(0)}% busy (other processes) after waiting ${topo.quietWaitMs / 1000} s; running anyway\n`);
  }
  const port = await freePort();
  const proc = await startProxy(proxy, { core: topo.proxyCore, port, config, vmauthBin: topo.vmauthBin, nodeFlags: topo.nodeFlags, ...(proxy === 'tenantgate' && s.tenantgateFlags !== undefined ? { gatewayFlags: s.tenantgateFlags } : {}) });
  try {
    const load = s.load(`http://127.0.0.1:${port}`);
    if (warmupS > 0) await runWrk(topo.loadCore, load, topo.connections, warmupS);
    const cpu0 = treeCpuSeconds(proc.pid);
    const bcpu0 = cpuSeconds(topo.backend.pid);
    const cores0 = coreTimes();
    const w = await runWrk(topo.loadCore, load, topo.connections, durationS);
    const cores1 = coreTimes();
    const cpu = treeCpuSeconds(proc.pid) - cpu0;
    const bcpu = cpuSeconds(topo.backend.pid) - bcpu0;
    const result: RunResult = {
      scenario: s.id, proxy, round,
      rps: w.rps, requests: w.requests, p50Us: w.p50Us, p99Us: w.p99Us,
      cpuUsPerRequest: w.requests > 0 ? (cpu * 1e6) / w.requests : NaN,
      proxyCpuShare: cpu / w.seconds,
      peakRssMiB: treePeakRssMiB(proc.pid),
      rssEndMiB: treeRssMiB(proc.pid),
      backendCpuUsPerRequest: w.requests > 0 ? (bcpu * 1e6) / w.requests : NaN,
      loadCoreBusy: topo.loadCore === null ? NaN : coreBusy(cores0, cores1, topo.loadCore),
      otherOnProxyCore: topo.proxyCore === null ? NaN : Math.max(0, coreBusy(cores0, cores1, topo.proxyCore) - cpu / w.seconds),
      errors: w.non2xx + w.socketErrors,
      ...(s.samplesPerRequest !== undefined ? { samplesPerSecond: w.rps * s.samplesPerRequest } : {}),
    };
    if (result.errors > 0) {
      process.stderr.write(`warning: ${proxy} ${s.id} round ${round}: ${w.non2xx} non-2xx responses and ${w.socketErrors} socket errors out of ${w.requests}; proxy output:\n${proc.output().slice(-1500)}\n`);
    }
    return result;
  } finally {
    await proc.stop(5000);
  }
}
