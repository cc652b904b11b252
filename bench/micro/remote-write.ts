// Micro-benchmark: remote-write tenant enforcement on a realistic batch.
// Run: ./node_modules/.bin/node bench/micro/remote-write.ts [series=2000] [iterations=400]
//
// The batch looks like what Prometheus/vmagent send (max_samples_per_send 2000): 2,000
// Kubernetes-style series with 10 labels each (pod names, IPs, histogram `le`) and 1–3 samples.
// Prints samples/s and MB/s (decoded protobuf bytes) for the whole decode+enforce+encode,
// and the time share of each stage.
import { zstdCompressSync } from 'node:zlib';
import { compress as snappyCompressJs } from 'snappyjs';
import { enforceRemoteWrite } from '../../src/enforce/remote-write/index.ts';
import { snappyDecompress } from '../../src/enforce/remote-write/snappy-decode.ts';
import { snappyCompress } from '../../src/enforce/remote-write/snappy-encode.ts';
import { nativeSnappyCompress, nativeSnappyDecompress, snappyCodec } from '../../src/enforce/remote-write/snappy-native.ts';
import { rewriteWriteRequestV1 } from '../../src/enforce/remote-write/rewrite-v1.ts';
import { prepareTenantLabels } from '../../src/enforce/remote-write/tenant-labels.ts';
import { OutputBuffer } from '../../src/enforce/remote-write/output-buffer.ts';
import { encodeWriteRequest, type Series } from '../../test/unit/remote-write/proto-reference.ts';

const SERIES = Number(process.argv[2] ?? 2000);
const ITERATIONS = Math.min(Number(process.argv[3] ?? 400), 100_000);
const TIME_CAP_MS = 20_000;

function makeBatch(seriesCount: number, seed: number): { raw: Uint8Array; samples: number } {
  let s = seed >>> 0;
  const rnd = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const families = ['http_requests_total', 'http_request_duration_seconds_bucket', 'container_cpu_usage_seconds_total', 'container_memory_working_set_bytes', 'queue_length'];
  const metrics = Array.from({ length: 60 }, (_, i) => `${families[i % families.length]}_${i}`);
  const namespaces = ['default', 'kube-system', 'monitoring', 'payments', 'checkout', 'search'];
  const t0 = 1_700_000_000_000;
  const timeseries: Series[] = [];
  let samples = 0;
  for (let i = 0; i < seriesCount; i++) {
    const ns = pick(namespaces);
    const app = `svc-${Math.floor(rnd() * 40)}`;
    const pod = `${app}-${Math.floor(rnd() * 1e9).toString(36)}-${Math.floor(rnd() * 1e6).toString(36)}`;
    const n = 1 + Math.floor(rnd() * 3);
    samples += n;
    timeseries.push({
      labels: [
        ['__name__', pick(metrics)], ['container', app], ['endpoint', 'http-metrics'],
        ['instance', `10.${Math.floor(rnd() * 255)}.${Math.floor(rnd() * 255)}.${Math.floor(rnd() * 255)}:8080`],
        ['job', `${ns}/${app}`], ['le', pick(['0.005', '0.01', '0.1', '0.5', '1', '+Inf'])], ['namespace', ns],
        ['node', `ip-10-0-${Math.floor(rnd() * 64)}-${Math.floor(rnd() * 255)}.ec2.internal`], ['pod', pod], ['service', app],
      ],
      samples: Array.from({ length: n }, (_, k) => ({
        value: rnd() < 0.5 ? Math.floor(rnd() * 1e6) : rnd() * 100,
        timestamp: t0 + k * 15_000 + Math.floor(rnd() * 1000),
      })),
    });
  }
  return { raw: encodeWriteRequest({ timeseries }), samples };
}

/**
 * CPU milliseconds per call (process.cpuUsage, so time spent waiting for a core on a busy
 * machine is not counted; GC threads are): the best of ROUNDS rounds of ITERATIONS/ROUNDS
 * calls each, with the median round printed alongside so a noisy run is visible.
 */
const ROUNDS = 8;
const medians: number[] = [];
function time(fn: () => unknown): number {
  for (let i = 0; i < Math.min(50, ITERATIONS); i++) fn(); // warm-up
  const deadline = Date.now() + TIME_CAP_MS;
  const per = Math.max(1, Math.floor(ITERATIONS / ROUNDS));
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS && Date.now() < deadline; r++) {
    const start = process.cpuUsage();
    for (let i = 0; i < per; i++) fn();
    const used = process.cpuUsage(start);
    rounds.push((used.user + used.system) / 1e3 / per);
  }
  rounds.sort((a, b) => a - b);
  medians.push(rounds[Math.floor(rounds.length / 2)]!);
  return rounds[0]!;
}

const batch = makeBatch(SERIES, 42);
const raw = new Uint8Array(batch.raw); // protobufjs hands out a Buffer; the gateway decodes into a Uint8Array
const samples = batch.samples;
const snappyBody = snappyCompress(raw);
const zstdBody = zstdCompressSync(raw);
const tenant = [['tenant', 'team-a']] as const;
const limits = { maxCompressedBytes: 64 << 20, maxDecodedBytes: 64 << 20 };
const mb = raw.length / 1e6;

console.log(`batch: ${SERIES} series, ${samples} samples, ${raw.length} bytes protobuf, ${snappyBody.length} bytes snappy, ${zstdBody.length} bytes zstd`);
const report = (name: string, ms: number) =>
  console.log(`${name.padEnd(34)} ${ms.toFixed(3).padStart(8)} ms/batch  ${(samples / ms * 1000 / 1e6).toFixed(2).padStart(6)} M samples/s  ${(mb / ms * 1000).toFixed(0).padStart(5)} MB/s  (median round ${medians.at(-1)!.toFixed(3)} ms)`);

const total = time(() => enforceRemoteWrite(snappyBody, 'snappy', tenant, limits));
report(`snappy (${snappyCodec}): decode+enforce+encode`, total);
const scratch = new Uint8Array(raw.length);
const prepared = prepareTenantLabels(tenant);
const out = new OutputBuffer();
const opts = { maxSeries: Infinity, maxLabelsPerSeries: Infinity, labelNames: 'legacy' as const };
const tRewrite = time(() => rewriteWriteRequestV1(raw, prepared, opts, out));
rewriteWriteRequestV1(raw, prepared, opts, out);
const rewritten = out.view().slice();
const codecs = [{ name: 'js', decode: () => snappyDecompress(snappyBody, limits.maxDecodedBytes, scratch), encode: () => snappyCompress(rewritten) }];
if (snappyCodec === 'native') codecs.unshift({ name: 'native', decode: () => nativeSnappyDecompress(snappyBody, limits.maxDecodedBytes), encode: () => nativeSnappyCompress(rewritten) });
for (const c of codecs) {
  const tDecode = time(c.decode);
  const tEncode = time(c.encode);
  const stages = tDecode + tRewrite + tEncode;
  console.log(`  stages with the ${c.name} snappy codec: decode ${tDecode.toFixed(3)} ms (${(100 * tDecode / stages).toFixed(0)}%), ` +
    `label rewrite ${tRewrite.toFixed(3)} ms (${(100 * tRewrite / stages).toFixed(0)}%), encode ${tEncode.toFixed(3)} ms (${(100 * tEncode / stages).toFixed(0)}%); ` +
    `snappy share ${(100 * (tDecode + tEncode) / stages).toFixed(0)}%`);
}
console.log(`  (snappyjs compress for comparison: ${time(() => snappyCompressJs(rewritten)).toFixed(3)} ms)`);
report('zstd: decode+enforce+encode', time(() => enforceRemoteWrite(zstdBody, 'zstd', tenant, limits)));
report('identity: enforce only', time(() => enforceRemoteWrite(raw, 'identity', tenant, limits)));
