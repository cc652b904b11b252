// Micro-benchmark of the per-request routing work, without sockets: identify (credential digest
// lookup among 1,000 users), url_map matching over 1,000 users × 5 routes, backend URL building
// and backend header building. Bounded: a fixed number of iterations per case.
//   ./node_modules/.bin/node bench/micro/routing.ts
import type { IncomingMessage } from 'node:http';
import { compileDefaultsFromFlags } from '../../src/gateway/main.ts';
import { parseFlags } from '../../src/flags/parse.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { credentialDigest, requestCredentialKeys } from '../../src/identify/credentials.ts';
import { matchRoute } from '../../src/route/match-route.ts';
import { parseRequestTarget } from '../../src/route/request-target.ts';
import { buildTargetPath } from '../../src/route/target-url.ts';
import { buildRequestHeaders } from '../../src/forward/request-headers.ts';
import { closeAllDispatchers } from '../../src/forward/dispatchers.ts';

const USERS = 1000;
const lines = ['users:'];
for (let i = 0; i < USERS; i++) {
  lines.push(`- username: user-${i}`, `  password: pass-${i}`, '  url_map:');
  for (const [j, p] of ['/api/v1/write', '/api/v1/query', '/api/v1/query_range', '/api/v1/label/[^/]+/values', '/select/.*'].entries()) {
    lines.push(`  - src_paths: ["${p}"]`, `    url_prefix: "http://backend-${j}:8428/select/${i}/prometheus?extra_label=tenant=t${i}"`);
  }
}
const config = parseConfigText(lines.join('\n'), 'bench.yml', compileDefaultsFromFlags(parseFlags([], {})));
const auth = `Basic ${Buffer.from('user-777:pass-777').toString('base64')}`;
const url = '/api/v1/query_range?query=sum(rate(http_requests_total{job="api"}[5m]))%20by%20(code)&start=1700000000&end=1700003600&step=15';
const req = {
  url,
  headers: { authorization: auth, host: 'gateway:8427', 'user-agent': 'Grafana/11.0', accept: 'application/json', connection: 'keep-alive' },
  rawHeaders: ['Host', 'gateway:8427', 'Authorization', auth, 'User-Agent', 'Grafana/11.0', 'Accept', 'application/json', 'Connection', 'keep-alive', 'X-Grafana-Org-Id', '1'],
} as unknown as IncomingMessage;

function bench(name: string, iterations: number, fn: () => unknown): void {
  for (let i = 0; i < Math.min(iterations, 20_000); i++) fn(); // warm-up
  const t0 = process.hrtime.bigint();
  let sink: unknown;
  for (let i = 0; i < iterations; i++) sink = fn();
  const ns = Number(process.hrtime.bigint() - t0) / iterations;
  if (sink === Symbol.for('never')) console.log(sink);
  console.log(`${name.padEnd(44)} ${(ns / 1000).toFixed(3).padStart(8)} µs/op  ${Math.round(1e9 / ns).toLocaleString('en').padStart(12)} ops/s`);
}

const N = 300_000;
console.log(`routing micro-benchmark: ${USERS} users × 5 url_map routes, ${N} iterations per case`);
bench('identify: credential keys + SHA-256 digest + lookup', N, () => {
  const keys = requestCredentialKeys(req.headers, ['authorization']);
  return config.usersByCredential.get(credentialDigest(keys[0] as string));
});
const user = config.usersByCredential.get(credentialDigest(`http_auth:${auth}`));
if (user === undefined) throw new Error('benchmark user not found');
bench('parse request target (decode + clean path)', N, () => parseRequestTarget(url));
const target = parseRequestTarget(url);
if (target === null) throw new Error('bad url');
bench('match url_map (3rd of 5 routes)', N, () => matchRoute(user, target.path, target.rawQuery, req));
const match = matchRoute(user, target.path, target.rawQuery, req);
if (match === null) throw new Error('no route');
const backend = match.route.backends.backends[0];
if (backend === undefined) throw new Error('no backend');
bench('build backend path + merged query', N, () => buildTargetPath(backend.target, target, 0, match.route.mergeQueryArgs));
bench('build backend request headers', N, () => buildRequestHeaders(req, match.route.requestHeaders, { clientIp: '10.0.0.1', removeXffValue: false, host: backend.target.host, bodyInMemory: false }));
bench('all of the above', N, () => {
  const keys = requestCredentialKeys(req.headers, ['authorization']);
  const u = config.usersByCredential.get(credentialDigest(keys[0] as string));
  const t = parseRequestTarget(url);
  if (u === undefined || t === null) throw new Error('unreachable');
  const m = matchRoute(u, t.path, t.rawQuery, req);
  if (m === null) throw new Error('unreachable');
  const b = m.route.backends.backends[0];
  if (b === undefined) throw new Error('unreachable');
  buildTargetPath(b.target, t, 0, m.route.mergeQueryArgs);
  return buildRequestHeaders(req, m.route.requestHeaders, { clientIp: '10.0.0.1', removeXffValue: false, host: b.target.host, bodyInMemory: false });
});
await closeAllDispatchers();
