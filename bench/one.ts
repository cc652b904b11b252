// One scenario on one tenantgate build, once, with the proxy's own output kept: for looking at
// what a run does rather than comparing runs (e.g. BENCH_NODE_FLAGS='--trace-gc' to see each
// collection, or extra gateway flags after the scenario id).
//
//   BENCH_NODE_FLAGS='--max-semi-space-size=4 --trace-gc' node bench/one.ts rw-enforced [-enforce.threads=1 ...]
//   TENANTGATE_CLI=/tmp/other/dist/cli.js node bench/one.ts get-basic
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderConfig } from './lib/configs.ts';
import { startBackend } from './lib/backend.ts';
import { BASIC_PASSWORD, BASIC_USER, BEARER_TOKEN, makeJwt, postBody, remoteWriteBatch } from './lib/payloads.ts';
import { coreBusy, coreTimes, cpuSplit, threadCpu, treeCpuSeconds, treePeakRssMiB } from './lib/proc-stats.ts';
import { freePort, hasCommand, start, waitForPort } from './lib/processes.ts';
import { TENANTGATE_CLI } from './lib/proxies.ts';
import { readSettings } from './lib/settings.ts';
import { scenarios as allScenarios } from './lib/scenarios.ts';
import { runWrk } from './lib/wrk.ts';

const log = (s: string) => process.stdout.write(`${s}\n`);

async function main(): Promise<number> {
  const [id, ...gatewayFlags] = process.argv.slice(2);
  if (id === undefined) { log('usage: node bench/one.ts <scenario> [gateway flags...]'); return 2; }
  const settings = readSettings();
  const pin = settings.cores >= 2 && hasCommand('taskset');
  const proxyCore = pin ? 0 : null;
  const loadCore = pin ? 1 : null;
  const dir = mkdtempSync(join(tmpdir(), 'tenantgate-one-'));
  try {
    const jwt = await makeJwt();
    writeFileSync(join(dir, 'post-64k.bin'), postBody(64 * 1024));
    const batch = remoteWriteBatch(2000);
    writeFileSync(join(dir, 'remote-write.bin'), batch.body);
    const files = { dir, postBody: join(dir, 'post-64k.bin'), rwBody: join(dir, 'remote-write.bin'), rwSamples: batch.samples, jwtToken: jwt.token, bare: false };
    const s = allScenarios(files).find((x) => x.id === id);
    if (s === undefined) { log(`unknown scenario ${id}`); return 2; }
    const backendPort = await freePort();
    const backend = await startBackend(dir, backendPort, loadCore, () => {});
    try {
      const config = renderConfig(s.tenantgateConfig, dir, { BACKEND_PORT: String(backendPort), BASIC_USER, BASIC_PASSWORD, BEARER_TOKEN, JWT_PUBLIC_KEY: JSON.stringify(jwt.publicKeyPem) });
      const port = await freePort();
      const proc = start('tenantgate', proxyCore, process.execPath, [...settings.nodeFlags, TENANTGATE_CLI, `-auth.config=${config}`, `-httpListenAddr=127.0.0.1:${port}`, '-loggerLevel=ERROR', ...(s.tenantgateFlags ?? []), ...gatewayFlags]);
      try {
        await waitForPort(port, proc);
        const load = s.load(`http://127.0.0.1:${port}`);
        if (settings.warmupS > 0) await runWrk(loadCore, load, settings.connections, settings.warmupS);
        const mark = proc.output().length;
        const c0 = treeCpuSeconds(proc.pid);
        const split0 = cpuSplit(proc.pid);
        const threads0 = threadCpu(proc.pid);
        const t0 = coreTimes();
        const w = await runWrk(loadCore, load, settings.connections, settings.durationS);
        const t1 = coreTimes();
        const used = treeCpuSeconds(proc.pid) - c0;
        const split1 = cpuSplit(proc.pid);
        // CPU per request by thread name (main thread, worker threads, V8's GC helpers, libuv).
        const byName = new Map<string, number>();
        for (const [tid, t] of threadCpu(proc.pid)) byName.set(t.name, (byName.get(t.name) ?? 0) + t.seconds - (threads0.get(tid)?.seconds ?? 0));
        const other = proxyCore === null ? NaN : Math.max(0, coreBusy(t0, t1, proxyCore) - used / w.seconds);
        process.stdout.write(proc.output().slice(mark));
        log(`threads, µs CPU per request: ${[...byName].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).map(([n, v]) => `${n} ${((v * 1e6) / w.requests).toFixed(1)}`).join(', ')}`);
        log(`${s.id}: ${w.rps.toFixed(0)} rps, ${((used * 1e6) / w.requests).toFixed(1)} µs CPU/req (${((split1.system - split0.system) * 1e6 / w.requests).toFixed(1)} in the kernel), p50 ${(w.p50Us / 1000).toFixed(2)} ms, p99 ${(w.p99Us / 1000).toFixed(2)} ms, non-2xx ${w.non2xx}, socket errors ${w.socketErrors}, peak RSS ${treePeakRssMiB(proc.pid).toFixed(0)} MiB, others on the proxy core ${(other * 100).toFixed(0)}%`);
      } finally {
        // A graceful stop, so --cpu-prof and similar flags get to write their files.
        await proc.stop(30_000);
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
