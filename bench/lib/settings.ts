// Benchmark settings from the environment. Defaults keep `npm run bench` to about five minutes
// on a 2-core machine; every value is bounded so a typo cannot start an hour-long run.
import { findProgram } from '../../scripts/lib/backends.ts';
import { availableParallelism } from 'node:os';

export interface Settings {
  /** Seconds of measured load per proxy per scenario per round. */
  readonly durationS: number;
  /** Seconds of unmeasured load before each measurement (JIT warm-up, pools filled). */
  readonly warmupS: number;
  readonly rounds: number;
  readonly connections: number;
  /** The vmauth binary to compare against. */
  readonly vmauthBin: string;
  /** Scenario ids to run; empty means all. */
  readonly only: readonly string[];
  /** Seconds of soak; 0 runs the normal rounds instead. */
  readonly soakS: number;
  readonly profile: boolean;
  /** Scenarios to CPU-profile after the rounds (those that did not run are skipped). */
  readonly profileScenarios: readonly string[];
  readonly micro: boolean;
  /** Seconds to wait for other processes to go quiet before each run. */
  readonly quietWaitS: number;
  /** Repeats of a run disturbed by other processes on the proxy core. */
  readonly retries: number;
  /**
   * Node flags for tenantgate (BENCH_NODE_FLAGS, space-separated). The default is what the
   * `tenantgate` binary, `npm start` and the Docker image use, so the benchmark measures what users run.
   */
  readonly nodeFlags: readonly string[];
  readonly cores: number;
  /** Seconds of B's load per attack in the noisy-neighbour scenario; 0 skips it. */
  readonly noisyS: number;
  /** Whether the headline scenarios also run the bare Node proxy (the floor). */
  readonly bare: boolean;
}

function num(name: string, dflt: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) throw new Error(`${name}=${JSON.stringify(raw)}: expected a number from ${min} to ${max}`);
  return v;
}

function flag(name: string, dflt: boolean): boolean {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  return !['0', 'false', 'no', 'off'].includes(raw.toLowerCase());
}

export function readSettings(): Settings {
  return {
    durationS: num('BENCH_DURATION', 4, 1, 600),
    warmupS: num('BENCH_WARMUP', 1, 0, 60),
    rounds: Math.round(num('BENCH_ROUNDS', 3, 1, 20)),
    connections: Math.round(num('BENCH_CONNECTIONS', 64, 1, 1024)),
    vmauthBin: process.env['VMAUTH_BIN'] || (findProgram('vmauth') ?? 'vmauth'),
    only: (process.env['BENCH_SCENARIOS'] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''),
    soakS: Math.round(num('BENCH_SOAK', 0, 0, 3600)),
    profile: flag('BENCH_PROFILE', true),
    profileScenarios: (process.env['BENCH_PROFILE_SCENARIOS'] ?? 'get-basic,post-64k,rw-enforced').split(',').map((x) => x.trim()).filter((x) => x !== ''),
    micro: flag('BENCH_MICRO', true),
    quietWaitS: num('BENCH_QUIET_WAIT', 20, 0, 600),
    retries: Math.round(num('BENCH_RETRIES', 1, 0, 5)),
    nodeFlags: (process.env['BENCH_NODE_FLAGS'] ?? '--max-semi-space-size=4').split(/\s+/).filter((x) => x !== ''),
    cores: availableParallelism(),
    noisyS: Math.round(num('BENCH_NOISY', 5, 0, 120)),
    bare: flag('BENCH_BARE', true),
  };
}
