// Micro-benchmark of a rate-limit decision in each store, without HTTP: the in-process GCRA
// (single process), a question to the cluster primary over node:cluster IPC (-workers, local
// store), and the Redis script (-ratelimit.store=redis, when redis-server is installed).
// Reports decisions per second and CPU µs per decision, summed over every process involved.
// Bounded: a fixed number of decisions per case, `PARALLEL` in flight for the asynchronous stores.
//   ./node_modules/.bin/node bench/micro/rate-limit.ts
import cluster from 'node:cluster';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { gcraLimit } from '../../src/limit/gcra.ts';
import { LocalRateStore } from '../../src/limit/local-store.ts';
import type { RateCheck, RateStore } from '../../src/limit/rate-store.ts';
import { RedisRateStore } from '../../src/limit/redis-store.ts';
import { ClusterRateStore, serveRateBuckets } from '../../src/process/rate-buckets-ipc.ts';
import type { IncomingMessage } from 'node:http';
import { parseConfigText } from '../../src/config/load.ts';
import { parseFlags } from '../../src/flags/parse.ts';
import { compileDefaultsFromFlags } from '../../src/gateway/main.ts';
import { RateLimiter } from '../../src/limit/rate-limiter.ts';
import { Logger } from '../../src/observe/logger.ts';
import { Metrics } from '../../src/observe/metrics.ts';
import { closeAllDispatchers } from '../../src/forward/dispatchers.ts';

const N_SYNC = 2_000_000;
const N_ASYNC = 100_000;
const PARALLEL = 64;
const checks: RateCheck[] = [{ key: '{user:bench}:requests', limit: gcraLimit(1e9, 1e9), cost: 1 }];

const cpuUs = () => { const u = process.cpuUsage(); return u.user + u.system; };

async function drive(store: RateStore, n: number): Promise<number> {
  let next = 0;
  const lane = async () => { while (next++ < n) await store.take(checks); };
  const t = performance.now();
  await Promise.all(Array.from({ length: PARALLEL }, lane));
  return performance.now() - t;
}

function line(name: string, n: number, ms: number, cpu: number): string {
  return `${name.padEnd(34)} ${(n / (ms / 1000) / 1000).toFixed(0).padStart(6)}k decisions/s  ${(cpu / n).toFixed(2).padStart(7)} µs CPU/decision`;
}

if (cluster.isPrimary) {
  // In-process.
  const local = new LocalRateStore();
  for (let i = 0; i < 100_000; i++) local.take(checks);
  let c0 = cpuUs();
  let t0 = performance.now();
  for (let i = 0; i < N_SYNC; i++) local.take(checks);
  console.log(line('local store (single process)', N_SYNC, performance.now() - t0, cpuUs() - c0));

  // The whole admission of a GET query as the gateway runs it: request kind, the requests and
  // queries buckets, the concurrent-query slot taken and released.
  const config = parseConfigText('users:\n- username: u\n  password: p\n  url_prefix: http://127.0.0.1:1/\n  limits: {requests_per_second: 1000000000, queries_per_second: 1000000000, max_concurrent_queries: 100000}\n', 'bench.yml', compileDefaultsFromFlags(parseFlags([], {})));
  const limiter = new RateLimiter({ store: new LocalRateStore(), failMode: 'open', maxPending: 10_000 }, new Metrics(), new Logger({ level: 'ERROR', format: 'default', output: 'stderr', disableTimestamps: true }));
  const user = config.users[0]!;
  const req = { headers: {} } as IncomingMessage;
  const admitOnce = () => { const a = limiter.admit(user, req, '/api/v1/query', null); if (a !== null && !(a instanceof Promise) && a.kind === 'admit') a.release(); };
  for (let i = 0; i < 100_000; i++) admitOnce();
  c0 = cpuUs();
  t0 = performance.now();
  for (let i = 0; i < N_SYNC; i++) admitOnce();
  console.log(line('RateLimiter.admit, GET query', N_SYNC, performance.now() - t0, cpuUs() - c0));
  await closeAllDispatchers();

  // Cluster IPC: this process is the primary, one forked worker asks.
  serveRateBuckets(cluster, 100_000);
  cluster.setupPrimary({ serialization: 'advanced' });
  const w = cluster.fork();
  const primaryBefore = cpuUs();
  const result = await new Promise<{ ms: number; cpu: number }>((resolve) => w.on('message', (m: { done?: boolean; ms: number; cpu: number }) => { if (m.done) resolve(m); }));
  const primaryCpu = cpuUs() - primaryBefore;
  w.kill();
  console.log(line(`cluster IPC, ${PARALLEL} in flight`, N_ASYNC, result.ms, result.cpu + primaryCpu));

  // Redis, if there is one to start.
  const port = await new Promise<number>((r) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => r(p)); }); });
  const redis = spawn(process.env.REDIS_SERVER || 'redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const started = await new Promise<boolean>((r) => { redis.once('error', () => r(false)); setTimeout(() => r(redis.exitCode === null), 300); });
  if (!started) {
    console.log('redis: skipped (redis-server not found)');
  } else {
    const store = new RedisRateStore({ addr: `127.0.0.1:${port}`, username: '', password: '', db: 0, tls: false, tlsCaFile: '', tlsServerName: '', tlsInsecureSkipVerify: false, keyPrefix: 'bench:', timeoutMs: 1000 });
    for (let i = 0; i < 50 && !store.connected; i++) await new Promise((r) => setTimeout(r, 20));
    await drive(store, 5_000);
    c0 = cpuUs();
    const redisCpu0 = procCpuUs(redis.pid as number);
    t0 = performance.now();
    const ms = await drive(store, N_ASYNC);
    console.log(line(`redis, ${PARALLEL} in flight`, N_ASYNC, ms, cpuUs() - c0 + procCpuUs(redis.pid as number) - redisCpu0) + ' (gateway + redis-server)');
    console.log(line('  of which in the gateway', N_ASYNC, ms, cpuUs() - c0));
    await store.close();
    redis.kill('SIGTERM');
  }
  process.exit(0);
} else {
  const store = new ClusterRateStore(5000, 10_000);
  await drive(store, 5_000);
  const c0 = cpuUs();
  const ms = await drive(store, N_ASYNC);
  process.send?.({ done: true, ms, cpu: cpuUs() - c0 });
  await store.close();
}

function procCpuUs(pid: number): number {
  // utime + stime in clock ticks (fields 14 and 15 of /proc/<pid>/stat), at 100 ticks per second.
  const { readFileSync } = process.getBuiltinModule('node:fs');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
}
