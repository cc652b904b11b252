// Turns the per-run results into per-scenario figures: medians over rounds, ratios to vmauth
// computed within each round (both proxies ran back to back, under the same machine state),
// and the issue's targets checked against them.
import type { RunResult } from './measure.ts';
import type { ProxyKind } from './proxies.ts';
import type { Scenario } from './scenarios.ts';

export interface Spread { readonly median: number; readonly min: number; readonly max: number }
export interface Aggregate {
  readonly scenario: string;
  readonly title: string;
  readonly proxy: ProxyKind;
  readonly runs: number;
  readonly rps: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly cpuUsPerRequest: number;
  readonly proxyCpuShare: number;
  readonly peakRssMiB: number;
  readonly loadCoreBusy: number;
  readonly otherOnProxyCore: number;
  readonly backendCpuUsPerRequest: number;
  readonly errors: number;
  readonly samplesPerSecond?: number;
  /** Samples per CPU-second of the proxy: the per-core rate whether or not the core saturated. */
  readonly samplesPerCpuSecond?: number;
  /** tenantgate / vmauth, per round. */
  readonly ratioRps?: Spread;
  readonly ratioP99?: Spread;
  readonly ratioCpu?: Spread;
  /** Enforcement scenarios: minus the plain twin on tenantgate, per round. */
  readonly deltaP50Us?: Spread;
  readonly deltaCpuUs?: Spread;
  /** rps divided by the plain twin's in the same round. */
  readonly ratioRpsPlain?: Spread;
}

export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function spread(xs: readonly number[]): Spread | undefined {
  const f = xs.filter((x) => Number.isFinite(x));
  if (f.length === 0) return undefined;
  return { median: median(f), min: Math.min(...f), max: Math.max(...f) };
}

function perRound(runs: readonly RunResult[], a: (r: RunResult) => RunResult | undefined, f: (x: RunResult, y: RunResult) => number): Spread | undefined {
  const out: number[] = [];
  for (const r of runs) {
    const other = a(r);
    if (other !== undefined) out.push(f(r, other));
  }
  return spread(out);
}

export function aggregate(all: readonly RunResult[], scenarios: readonly Scenario[]): Aggregate[] {
  const out: Aggregate[] = [];
  const find = (scenario: string, proxy: ProxyKind, round: number) => all.find((r) => r.scenario === scenario && r.proxy === proxy && r.round === round);
  for (const s of scenarios) {
    for (const proxy of s.proxies) {
      const runs = all.filter((r) => r.scenario === s.id && r.proxy === proxy);
      if (runs.length === 0) continue;
      const cpu = median(runs.map((r) => r.cpuUsPerRequest));
      const base: Aggregate = {
        scenario: s.id, title: s.title, proxy, runs: runs.length,
        rps: median(runs.map((r) => r.rps)),
        p50Us: median(runs.map((r) => r.p50Us)),
        p99Us: median(runs.map((r) => r.p99Us)),
        cpuUsPerRequest: cpu,
        proxyCpuShare: median(runs.map((r) => r.proxyCpuShare)),
        peakRssMiB: Math.max(...runs.map((r) => r.peakRssMiB)),
        loadCoreBusy: Math.max(...runs.map((r) => r.loadCoreBusy)),
        otherOnProxyCore: Math.max(...runs.map((r) => r.otherOnProxyCore)),
        backendCpuUsPerRequest: median(runs.map((r) => r.backendCpuUsPerRequest)),
        errors: runs.reduce((a, r) => a + r.errors, 0),
      };
      const extra: Partial<Record<keyof Aggregate, unknown>> = {};
      if (s.samplesPerRequest !== undefined) {
        extra.samplesPerSecond = median(runs.map((r) => r.samplesPerSecond ?? NaN));
        extra.samplesPerCpuSecond = (1e6 / cpu) * s.samplesPerRequest;
      }
      if (proxy !== 'vmauth' && s.proxies.includes('vmauth')) {
        const vm = (r: RunResult) => find(s.id, 'vmauth', r.round);
        extra.ratioRps = perRound(runs, vm, (t, v) => t.rps / v.rps);
        extra.ratioP99 = perRound(runs, vm, (t, v) => t.p99Us / v.p99Us);
        extra.ratioCpu = perRound(runs, vm, (t, v) => t.cpuUsPerRequest / v.cpuUsPerRequest);
      }
      if (s.baseline !== undefined) {
        const b = (r: RunResult) => find(s.baseline as string, proxy, r.round);
        extra.deltaP50Us = perRound(runs, b, (t, p) => t.p50Us - p.p50Us);
        extra.deltaCpuUs = perRound(runs, b, (t, p) => t.cpuUsPerRequest - p.cpuUsPerRequest);
        extra.ratioRpsPlain = perRound(runs, b, (t, p) => t.rps / p.rps);
        if (s.proxies.length === 1) {
          // Enforced vs vmauth's plain twin: what a user switching from vmauth gets.
          const vm = (r: RunResult) => find(s.baseline as string, 'vmauth', r.round);
          extra.ratioRps = perRound(runs, vm, (t, v) => t.rps / v.rps);
          extra.ratioP99 = perRound(runs, vm, (t, v) => t.p99Us / v.p99Us);
        }
      }
      out.push({ ...base, ...extra } as Aggregate);
    }
  }
  return out;
}

const fmtUs = (us: number) => !Number.isFinite(us) ? '–' : us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(0)} µs`;
const fmtNum = (n: number) => !Number.isFinite(n) ? '–' : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0);
const fmtRatio = (s: Spread | undefined) => s === undefined ? 'n/a' : `${s.median.toFixed(2)}× (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
const fmtDelta = (s: Spread | undefined, unit: string) => s === undefined ? '' : `${s.median >= 0 ? '+' : ''}${s.median.toFixed(1)} ${unit}`;

export interface NaRow { readonly scenario: string; readonly title: string; readonly reason: string }

/** A markdown table (readable as plain text too). */
export function table(aggs: readonly Aggregate[], na: readonly NaRow[], scenarios: readonly Scenario[]): string {
  const head = ['scenario', 'proxy', 'rps', 'p50', 'p99', 'CPU µs/req', 'peak RSS', 'rps vs vmauth', 'p99 vs vmauth', 'notes'];
  const rows: string[][] = [];
  for (const s of scenarios) {
    const n = na.find((x) => x.scenario === s.id);
    if (n !== undefined) { rows.push([s.id, 'tenantgate', 'n/a (not implemented yet)', '', '', '', '', '', '', n.reason]); continue; }
    for (const a of aggs.filter((x) => x.scenario === s.id)) {
      const notes: string[] = [];
      if (a.samplesPerSecond !== undefined) notes.push(`${fmtNum(a.samplesPerSecond)} samples/s, ${fmtNum(a.samplesPerCpuSecond ?? NaN)} per CPU-s`);
      if (a.deltaP50Us !== undefined) notes.push(`vs plain: rps ${fmtRatio(a.ratioRpsPlain)}, p50 ${fmtDelta(a.deltaP50Us, 'µs')}, CPU ${fmtDelta(a.deltaCpuUs, 'µs/req')}`);
      if (a.proxy === 'tenantgate' && !s.proxies.includes('vmauth') && s.baseline === undefined) notes.push('vmauth 1.79.5 has no equivalent');
      if (a.proxyCpuShare < 0.9) notes.push(`proxy core ${(a.proxyCpuShare * 100).toFixed(0)}% busy`);
      if (Number.isFinite(a.loadCoreBusy) && a.loadCoreBusy > 0.95) notes.push(`load core ${(a.loadCoreBusy * 100).toFixed(0)}% busy`);
      if (Number.isFinite(a.otherOnProxyCore) && a.otherOnProxyCore > 0.05) notes.push(`other processes took ${(a.otherOnProxyCore * 100).toFixed(0)}% of the proxy core`);
      if (a.errors > 0) notes.push(`${a.errors} errors!`);
      rows.push([
        s.id, a.proxy, fmtNum(a.rps), fmtUs(a.p50Us), fmtUs(a.p99Us), Number.isFinite(a.cpuUsPerRequest) ? a.cpuUsPerRequest.toFixed(1) : '–',
        `${a.peakRssMiB.toFixed(0)} MiB`, a.proxy === 'vmauth' ? '' : fmtRatio(a.ratioRps), a.proxy === 'vmauth' ? '' : fmtRatio(a.ratioP99), notes.join('; '),
      ]);
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export interface TargetCheck { readonly target: string; readonly measured: string; readonly verdict: 'met' | 'short' | 'n/a' }

/**
 * The performance targets the project holds itself to, checked against this run. `enforced` is
 * false when the build refused an enforcement scenario's config; a scenario left out of the run is
 * 'n/a' either way.
 */
export function checkTargets(aggs: readonly Aggregate[], micro: { promqlColdUs?: number; rwMSamplesPerS?: number }, enforced: { promql: boolean; rw: boolean }, connections: number): TargetCheck[] {
  const tg = (id: string) => aggs.find((a) => a.scenario === id && a.proxy === 'tenantgate');
  const vm = (id: string) => aggs.find((a) => a.scenario === id && a.proxy === 'vmauth');
  const out: TargetCheck[] = [];
  const verdict = (ok: boolean | undefined): TargetCheck['verdict'] => ok === undefined ? 'n/a' : ok ? 'met' : 'short';
  const get = tg('get-basic');
  out.push({ target: 'small GET ≥ 1.6× vmauth rps', measured: fmtRatio(get?.ratioRps), verdict: verdict(get?.ratioRps && get.ratioRps.median >= 1.6) });
  out.push({ target: `small GET p99 ≤ vmauth p99 (${connections} connections)`, measured: get?.ratioP99 ? `${fmtUs(get.p99Us)} vs ${fmtUs(vm('get-basic')?.p99Us ?? NaN)} (${fmtRatio(get.ratioP99)})` : 'n/a', verdict: verdict(get?.ratioP99 && get.ratioP99.median <= 1) });
  out.push({ target: 'small GET ≤ 65 µs CPU/request', measured: get ? `${get.cpuUsPerRequest.toFixed(1)} µs (vmauth ${vm('get-basic')?.cpuUsPerRequest.toFixed(1) ?? '–'} µs)` : 'n/a', verdict: verdict(get && get.cpuUsPerRequest <= 65) });
  const post = tg('post-64k');
  out.push({ target: '64 KiB POST ≥ 1.3× vmauth rps', measured: fmtRatio(post?.ratioRps), verdict: verdict(post?.ratioRps && post.ratioRps.median >= 1.3) });
  out.push({ target: `64 KiB POST p99 ≤ vmauth p99 (${connections} connections)`, measured: post?.ratioP99 ? `${fmtUs(post.p99Us)} vs ${fmtUs(vm('post-64k')?.p99Us ?? NaN)} (${fmtRatio(post.ratioP99)})` : 'n/a', verdict: verdict(post?.ratioP99 && post.ratioP99.median <= 1) });
  const pe = tg('promql-enforced');
  if (enforced.promql && pe?.deltaP50Us) {
    out.push({ target: 'PromQL enforcement adds ≤ 15 µs median', measured: `p50 ${fmtDelta(pe.deltaP50Us, 'µs')}, CPU ${fmtDelta(pe.deltaCpuUs, 'µs/req')} (end to end)`, verdict: verdict(pe.deltaCpuUs !== undefined && pe.deltaCpuUs.median <= 15) });
  } else {
    const why = enforced.promql ? 'not in this run' : 'n/a (not implemented yet)';
    out.push({ target: 'PromQL enforcement adds ≤ 15 µs median', measured: micro.promqlColdUs !== undefined ? `gateway: ${why}; library micro-benchmark: ${micro.promqlColdUs.toFixed(1)} µs cold median` : why, verdict: 'n/a' });
  }
  const rw = tg('rw-enforced');
  if (enforced.rw && rw?.samplesPerCpuSecond !== undefined) {
    out.push({ target: 'remote-write enforcement ≥ 1M samples/s per core', measured: `${fmtNum(rw.samplesPerCpuSecond)} samples per CPU-second (end to end)`, verdict: verdict(rw.samplesPerCpuSecond >= 1e6) });
  } else {
    const why = enforced.rw ? 'not in this run' : 'n/a (not implemented yet)';
    out.push({ target: 'remote-write enforcement ≥ 1M samples/s per core', measured: micro.rwMSamplesPerS !== undefined ? `gateway: ${why}; library micro-benchmark: ${micro.rwMSamplesPerS.toFixed(2)}M samples/s` : why, verdict: 'n/a' });
  }
  const lim = tg('get-limits');
  out.push({ target: 'rate limits on every user cost ≤ 5% of GET rps', measured: lim?.ratioRpsPlain ? `${fmtRatio(lim.ratioRpsPlain)} of the plain GET's rps, CPU ${fmtDelta(lim.deltaCpuUs, 'µs/req')}` : 'n/a', verdict: verdict(lim?.ratioRpsPlain && lim.ratioRpsPlain.median >= 0.95) });
  // Remote-write batches are held whole while enforced, so the memory target covers the GET and POST loads.
  const rss = [get, post].filter((a) => a !== undefined);
  const peak = rss.length ? Math.max(...rss.map((a) => a.peakRssMiB)) : NaN;
  out.push({ target: 'peak RSS ≤ 128 MiB per process under the GET and POST loads', measured: Number.isFinite(peak) ? `${rss.map((a) => `${a.scenario} ${a.peakRssMiB.toFixed(0)} MiB`).join(', ')}` : 'n/a', verdict: verdict(Number.isFinite(peak) ? peak <= 128 : undefined) });
  return out;
}

export function targetsTable(checks: readonly TargetCheck[]): string {
  return ['| target | measured | verdict |', '|---|---|---|', ...checks.map((c) => `| ${c.target} | ${c.measured} | ${c.verdict} |`)].join('\n');
}
