// Runs the library micro-benchmarks (bench/micro/*.ts, owned by the enforcement code) pinned to
// the proxy core and picks their headline numbers, so the table is complete while the gateway
// does not run the enforcement yet.
import { join } from 'node:path';
import { runToEnd } from './processes.ts';

const MICRO = new URL('../micro/', import.meta.url).pathname;

export interface PromqlMicro { readonly coldMedianUs: number; readonly coldMultiMedianUs: number; readonly memoHitUs: number; readonly raw: string }
export interface RemoteWriteMicro { readonly snappyMsPerBatch: number; readonly snappyMSamplesPerS: number; readonly identityMSamplesPerS: number; readonly batch: string; readonly raw: string }

export async function promqlMicro(core: number | null): Promise<PromqlMicro | { error: string }> {
  try {
    const r = await runToEnd(core, process.execPath, [join(MICRO, 'promql.ts')], 180_000);
    const cold = /median per query: cold ([\d.]+) µs .*cold multi-value\+filter ([\d.]+) µs/.exec(r.stdout);
    const memo = /memo hit ([\d.]+) µs/.exec(r.stdout);
    if (r.code !== 0 || !cold || !memo) return { error: `exit ${r.code}: ${(r.stderr || r.stdout).slice(-300)}` };
    return { coldMedianUs: Number(cold[1]), coldMultiMedianUs: Number(cold[2]), memoHitUs: Number(memo[1]), raw: r.stdout };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

export async function remoteWriteMicro(core: number | null): Promise<RemoteWriteMicro | { error: string }> {
  try {
    const r = await runToEnd(core, process.execPath, [join(MICRO, 'remote-write.ts')], 180_000);
    const snappy = /snappy \(\w+\): decode\+enforce\+encode\s+([\d.]+) ms\/batch\s+([\d.]+) M samples\/s/.exec(r.stdout);
    const identity = /identity: enforce only\s+[\d.]+ ms\/batch\s+([\d.]+) M samples\/s/.exec(r.stdout);
    const batch = /^batch: (.*)$/m.exec(r.stdout);
    if (r.code !== 0 || !snappy || !identity) return { error: `exit ${r.code}: ${(r.stderr || r.stdout).slice(-300)}` };
    return { snappyMsPerBatch: Number(snappy[1]), snappyMSamplesPerS: Number(snappy[2]), identityMSamplesPerS: Number(identity[1]), batch: batch?.[1] ?? '', raw: r.stdout };
  } catch (err) {
    return { error: (err as Error).message };
  }
}
