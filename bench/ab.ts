// A/B of two tenantgate builds on the benchmark's scenarios: the same pinned cores, backend and
// load as `npm run bench`, the builds interleaved A B / B A round by round, and the per-round
// ratio B/A of CPU per request and rps summarised as median (min–max). Resolves changes of a few
// percent that the run-to-run noise of a shared machine hides in absolute figures.
//
//   node bench/ab.ts /tmp/before/dist/cli.js dist/cli.js        # BENCH_SCENARIOS, BENCH_ROUNDS (6), BENCH_DURATION (4)
//   BENCH_NODE_FLAGS_B='--max-semi-space-size=16' node bench/ab.ts dist/cli.js dist/cli.js   # same build, other Node flags for B
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { renderConfig } from './lib/configs.ts';
import { startBackend } from './lib/backend.ts';
import { BASIC_PASSWORD, BASIC_USER, BEARER_TOKEN, makeJwt, postBody, remoteWriteBatch } from './lib/payloads.ts';
import { coreBusy, coreTimes, treeCpuSeconds, treePeakRssMiB, waitForQuiet } from './lib/proc-stats.ts';
import { freePort, hasCommand, start, waitForPort } from './lib/processes.ts';
import { readSettings } from './lib/settings.ts';
import { scenarios as allScenarios } from './lib/scenarios.ts';
import { runWrk } from './lib/wrk.ts';

const log = (s: string) => process.stdout.write(`${s}\n`);
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] as number : ((s[m - 1] as number) + (s[m] as number)) / 2; };
const spread = (xs: number[]) => `${median(xs).toFixed(3)} (${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)})`;

async function main(): Promise<number> {
  const [a, bPath] = process.argv.slice(2).map((p) => resolve(p));
  // The same build twice is told apart by a suffix that only this script sees.
  const b = bPath === a ? `${bPath} (B)` : bPath;
  if (a === undefined || b === undefined) { log('usage: node bench/ab.ts <cli A> <cli B>'); return 2; }
  const settings = readSettings();
  const flagsB = process.env['BENCH_NODE_FLAGS_B'] === undefined ? settings.nodeFlags : (process.env['BENCH_NODE_FLAGS_B'] as string).split(/\s+/).filter((x) => x !== '');
  const rounds = Number(process.env['BENCH_ROUNDS'] || 6);
  const pin = settings.cores >= 2 && hasCommand('taskset');
  const proxyCore = pin ? 0 : null;
  const loadCore = pin ? 1 : null;
  const dir = mkdtempSync(join(tmpdir(), 'tenantgate-ab-'));
  try {
    const jwt = await makeJwt();
    writeFileSync(join(dir, 'post-64k.bin'), postBody(64 * 1024));
    const batch = remoteWriteBatch(2000);
    writeFileSync(join(dir, 'remote-write.bin'), batch.body);
    const files = { dir, postBody: join(dir, 'post-64k.bin'), rwBody: join(dir, 'remote-write.bin'), rwSamples: batch.samples, jwtToken: jwt.token, bare: false };
    const backendPort = await freePort();
    const backend = await startBackend(dir, backendPort, loadCore, log);
    const values = { BACKEND_PORT: String(backendPort), BASIC_USER, BASIC_PASSWORD, BEARER_TOKEN, JWT_PUBLIC_KEY: JSON.stringify(jwt.publicKeyPem) };
    try {
      const chosen = allScenarios(files).filter((s) => settings.only.length === 0 || settings.only.includes(s.id));
      log(`A = ${a}\nB = ${b}\n${rounds} rounds × ${chosen.length} scenarios × 2 builds, ${settings.warmupS} s warm-up + ${settings.durationS} s, -c${settings.connections}, node flags A: ${settings.nodeFlags.join(' ')}, B: ${flagsB.join(' ')}`);
      for (const s of chosen) {
        const config = renderConfig(s.tenantgateConfig, dir, values);
        const cpu: number[] = [], rps: number[] = [], p99: number[] = [];
        for (let round = 0; round < rounds; round++) {
          const got: Record<string, { cpu: number; rps: number; p99: number; other: number; rss: number }> = {};
          for (const cli of round % 2 === 0 ? [a, b] : [b, a]) {
            if (settings.quietWaitS > 0) await waitForQuiet(settings.quietWaitS * 1000);
            const port = await freePort();
            const isB = cli === b;
            const proc = start('tenantgate', proxyCore, process.execPath, [...(isB ? flagsB : settings.nodeFlags), isB ? (bPath as string) : cli, `-auth.config=${config}`, `-httpListenAddr=127.0.0.1:${port}`, '-loggerLevel=ERROR', ...(s.tenantgateFlags ?? [])]);
            try {
              await waitForPort(port, proc);
              const load = s.load(`http://127.0.0.1:${port}`);
              if (settings.warmupS > 0) await runWrk(loadCore, load, settings.connections, settings.warmupS);
              const c0 = treeCpuSeconds(proc.pid);
              const t0 = coreTimes();
              const w = await runWrk(loadCore, load, settings.connections, settings.durationS);
              const t1 = coreTimes();
              const used = treeCpuSeconds(proc.pid) - c0;
              const other = proxyCore === null ? NaN : Math.max(0, coreBusy(t0, t1, proxyCore) - used / w.seconds);
              got[cli] = { cpu: (used * 1e6) / w.requests, rps: w.rps, p99: w.p99Us, other, rss: treePeakRssMiB(proc.pid) };
            } finally {
              await proc.stop();
            }
          }
          const ra = got[a] as NonNullable<(typeof got)[string]>, rb = got[b] as NonNullable<(typeof got)[string]>;
          cpu.push(rb.cpu / ra.cpu); rps.push(rb.rps / ra.rps); p99.push(rb.p99 / ra.p99);
          log(`${s.id} round ${round + 1}: A ${ra.cpu.toFixed(1)} µs/req ${ra.rps.toFixed(0)} rps p99 ${(ra.p99 / 1000).toFixed(1)} ms RSS ${ra.rss.toFixed(0)} MiB (others ${(ra.other * 100).toFixed(0)}%) | B ${rb.cpu.toFixed(1)} µs/req ${rb.rps.toFixed(0)} rps p99 ${(rb.p99 / 1000).toFixed(1)} ms RSS ${rb.rss.toFixed(0)} MiB (others ${(rb.other * 100).toFixed(0)}%)`);
        }
        log(`${s.id}: B/A CPU per request ${spread(cpu)}, rps ${spread(rps)}, p99 ${spread(p99)}`);
      }
    } finally {
      await backend.proc.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}

process.exitCode = await main();
