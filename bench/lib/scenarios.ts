// The benchmark scenarios: what request wrk sends, to which config, and which proxies run it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BEARER_TOKEN, basicHeader, bearerHeader, dashboardPath } from './payloads.ts';
import type { ProxyKind } from './proxies.ts';
import type { WrkLoad } from './wrk.ts';

export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** Config file in bench/configs/ for tenantgate; vmauth always uses auth.yml. */
  readonly tenantgateConfig: string;
  readonly proxies: readonly ProxyKind[];
  /** For enforcement scenarios: the tenantgate-only scenario's plain twin (same request, no enforcement). */
  readonly baseline?: string;
  /** Probe the config with tenantgate -dryRun first; report n/a when it is refused. */
  readonly probe?: boolean;
  /** Remote-write samples per request, to report samples/s. */
  readonly samplesPerRequest?: number;
  /** Extra tenantgate flags for this scenario. */
  readonly tenantgateFlags?: readonly string[];
  load(base: string): WrkLoad;
}

export interface ScenarioFiles {
  readonly dir: string;
  readonly postBody: string;
  readonly rwBody: string;
  readonly rwSamples: number;
  readonly jwtToken: string;
  /** Run the bare Node proxy (the floor) in the headline scenarios. */
  readonly bare: boolean;
}

const luaString = (s: string) => JSON.stringify(s); // JSON string escapes are valid Lua for ASCII

/** A wrk script that POSTs the file at `bodyPath` with the given headers. */
function postScript(dir: string, name: string, bodyPath: string, headers: Readonly<Record<string, string>>): string {
  const lines = [
    'wrk.method = "POST"',
    `local f = assert(io.open(${luaString(bodyPath)}, "rb"))`,
    'wrk.body = f:read("*a")',
    'f:close()',
    ...Object.entries(headers).map(([k, v]) => `wrk.headers[${luaString(k)}] = ${luaString(v)}`),
  ];
  const path = join(dir, `${name}.lua`);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

const SMALL_GET = '/api/v1/query?query=up';
const basicValue = () => basicHeader().slice('Authorization: '.length);

export function scenarios(f: ScenarioFiles): Scenario[] {
  const postLua = postScript(f.dir, 'post-64k', f.postBody, { Authorization: basicValue(), 'Content-Type': 'application/octet-stream' });
  const rwHeaders = { Authorization: basicValue(), 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0' };
  const rwLua = postScript(f.dir, 'remote-write', f.rwBody, rwHeaders);
  const both: readonly ProxyKind[] = ['tenantgate', 'vmauth'];
  // The headline scenarios also run the bare Node proxy, the floor of what Node can do (BENCH_BARE=0 skips it).
  const floor: readonly ProxyKind[] = f.bare ? ['tenantgate', 'vmauth', 'bare'] : both;
  return [
    { id: 'get-basic', title: 'small GET, Basic auth', tenantgateConfig: 'auth.yml', proxies: floor,
      load: (b) => ({ url: b + SMALL_GET, headers: [basicHeader()], script: null }) },
    { id: 'get-bearer', title: 'small GET, bearer token', tenantgateConfig: 'auth.yml', proxies: both,
      load: (b) => ({ url: b + SMALL_GET, headers: [bearerHeader()], script: null }) },
    { id: 'get-limits', title: 'small GET, Basic auth, rate limits on the user', tenantgateConfig: 'tenantgate-limits.yml', proxies: ['tenantgate'],
      baseline: 'get-basic',
      load: (b) => ({ url: b + SMALL_GET, headers: [basicHeader()], script: null }) },
    { id: 'get-jwt', title: 'small GET, JWT RS256', tenantgateConfig: 'tenantgate-jwt.yml', proxies: ['tenantgate'],
      load: (b) => ({ url: b + SMALL_GET, headers: [`Authorization: Bearer ${f.jwtToken}`], script: null }) },
    { id: 'post-64k', title: '64 KiB POST', tenantgateConfig: 'auth.yml', proxies: floor,
      load: (b) => ({ url: b + '/api/v1/import', headers: [], script: postLua }) },
    { id: 'promql-plain', title: 'dashboard query_range, no enforcement', tenantgateConfig: 'auth.yml', proxies: both,
      load: (b) => ({ url: b + dashboardPath(), headers: [basicHeader()], script: null }) },
    { id: 'promql-enforced', title: 'dashboard query_range, enforce: promql', tenantgateConfig: 'tenantgate-promql.yml', proxies: ['tenantgate'],
      baseline: 'promql-plain', probe: true,
      load: (b) => ({ url: b + dashboardPath(), headers: [basicHeader()], script: null }) },
    { id: 'rw-plain', title: `remote-write ${f.rwSamples} samples, no enforcement`, tenantgateConfig: 'auth.yml', proxies: floor,
      samplesPerRequest: f.rwSamples,
      load: (b) => ({ url: b + '/api/v1/write', headers: [], script: rwLua }) },
    { id: 'rw-enforced', title: `remote-write ${f.rwSamples} samples, label enforcement`, tenantgateConfig: 'tenantgate-remote-write.yml', proxies: ['tenantgate'],
      baseline: 'rw-plain', probe: true, samplesPerRequest: f.rwSamples,
      // All 64 connections are one user: with the default queue of 16 large requests per user
      // waiting for enforcement, most batches would be refused with 429 (that bound is what keeps
      // one tenant from filling the work pool). Raised here so every batch is enforced and measured.
      tenantgateFlags: ['-enforce.maxQueuedPerUser=64'],
      load: (b) => ({ url: b + '/api/v1/write', headers: [], script: rwLua }) },
  ];
}

/** A wrk script for the soak: every request kind in turn, so a leak on any path shows. */
export function soakScript(f: ScenarioFiles): string {
  const lines = [
    'local reqs = {}',
    'local i = 0',
    'local function slurp(p) local h = assert(io.open(p, "rb")); local d = h:read("*a"); h:close(); return d end',
    'init = function(args)',
    `  local basic = ${luaString(basicValue())}`,
    `  reqs[1] = wrk.format("GET", ${luaString(SMALL_GET)}, { Authorization = basic })`,
    `  reqs[2] = wrk.format("GET", ${luaString(SMALL_GET)}, { Authorization = ${luaString(`Bearer ${BEARER_TOKEN}`)} })`,
    `  reqs[3] = wrk.format("GET", ${luaString(SMALL_GET)}, { Authorization = ${luaString(`Bearer ${f.jwtToken}`)} })`,
    `  reqs[4] = wrk.format("GET", ${luaString(dashboardPath())}, { Authorization = basic })`,
    `  reqs[5] = wrk.format("POST", "/api/v1/import", { Authorization = basic, ["Content-Type"] = "application/octet-stream" }, slurp(${luaString(f.postBody)}))`,
    `  reqs[6] = wrk.format("POST", "/api/v1/write", { Authorization = basic, ["Content-Type"] = "application/x-protobuf", ["Content-Encoding"] = "snappy" }, slurp(${luaString(f.rwBody)}))`,
    'end',
    'request = function() i = i % #reqs + 1; return reqs[i] end',
  ];
  const path = join(f.dir, 'soak.lua');
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

