// Summarises a V8 .cpuprofile (from node --cpu-prof): self time per function, and per origin
// (tenantgate's own code, undici, Node's http internals, GC, ...), in µs per proxied request.
import { readFileSync } from 'node:fs';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; hitCount?: number; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; startTime: number; endTime: number; samples?: number[]; timeDeltas?: number[] }

export interface ProfileRow { readonly name: string; readonly where: string; readonly selfMs: number; readonly share: number; readonly usPerRequest: number }
export interface ProfileSummary {
  readonly totalMs: number;
  readonly activeMs: number;
  readonly top: readonly ProfileRow[];
  readonly byOrigin: readonly ProfileRow[];
  /** tenantgate's own functions by inclusive time (self + callees): what each step costs in total. */
  readonly ownInclusive: readonly ProfileRow[];
}

/** tenantgate's own code: a file URL outside node_modules (the build may live anywhere, see TENANTGATE_CLI). */
const isOwn = (url: string) => url.startsWith('file://') && !url.includes('/node_modules/') && !url.includes('/bench/');
/** The path from the build's top folder on (`dist/gateway/gateway.js`). */
function ownPath(url: string): string {
  const m = /\/(dist|src)\/(.*)$/.exec(url);
  return m ? `${m[1]}/${m[2]}` : url.replace(/^file:\/\//, '');
}

/** Where a function comes from, for the per-origin table. */
export function origin(url: string, fn: string): string {
  if (url === '') {
    if (fn === '(garbage collector)') return 'GC';
    if (fn === '(idle)') return 'idle';
    if (fn === '(program)') return 'V8/native (program)';
    return 'native/builtin';
  }
  if (url.startsWith('node:internal/http') || url.startsWith('node:_http') || url === 'node:http') return 'node:http';
  if (url.startsWith('node:internal/streams') || url.startsWith('node:stream')) return 'node:streams';
  if (url.startsWith('node:net') || url.startsWith('node:internal/stream_base') || url.startsWith('node:internal/net')) return 'node:net';
  if (url.startsWith('node:internal/crypto') || url.startsWith('node:crypto')) return 'node:crypto';
  if (url.startsWith('node:')) return url.startsWith('node:internal/') ? `node:${url.slice(14).split('/')[0]}` : url;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] as string);
  }
  if (isOwn(url)) {
    const parts = ownPath(url).split('/');
    return `tenantgate ${parts.slice(0, Math.min(parts.length - 1, 2)).join('/')}`;
  }
  return url;
}

function shortWhere(url: string, line: number): string {
  if (url === '') return '';
  let u = isOwn(url) ? ownPath(url) : url;
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) u = u.slice(nm + 14);
  if (u.startsWith('file://')) u = u.slice(7);
  return `${u}:${line + 1}`;
}

export function summariseProfile(path: string, requests: number, topN = 20): ProfileSummary {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const totalSamples = p.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0);
  const totalMs = (p.endTime - p.startTime) / 1000;
  const msPerSample = totalSamples > 0 ? totalMs / totalSamples : 0;
  const byFn = new Map<string, { name: string; where: string; hits: number }>();
  const byOrigin = new Map<string, number>();
  let idle = 0;
  for (const n of p.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    const f = n.callFrame;
    if (f.functionName === '(idle)') { idle += hits; continue; }
    const key = `${f.functionName}|${f.url}|${f.lineNumber}`;
    const e = byFn.get(key) ?? { name: f.functionName || '(anonymous)', where: shortWhere(f.url, f.lineNumber), hits: 0 };
    e.hits += hits;
    byFn.set(key, e);
    const o = origin(f.url, f.functionName);
    byOrigin.set(o, (byOrigin.get(o) ?? 0) + hits);
  }
  const active = totalSamples - idle;
  // Inclusive hits: each sample counts once for every distinct function on its stack.
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const nodeById = new Map(p.nodes.map((n) => [n.id, n]));
  const inclusive = new Map<string, { name: string; where: string; hits: number }>();
  for (const n of p.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0 || n.callFrame.functionName === '(idle)') continue;
    const seen = new Set<string>();
    for (let cur: ProfileNode | undefined = n; cur !== undefined; cur = nodeById.get(parent.get(cur.id) ?? -1)) {
      const f = cur.callFrame;
      if (!isOwn(f.url)) continue;
      const key = `${f.functionName}|${f.url}|${f.lineNumber}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const e = inclusive.get(key) ?? { name: f.functionName || '(anonymous)', where: shortWhere(f.url, f.lineNumber), hits: 0 };
      e.hits += hits;
      inclusive.set(key, e);
    }
  }
  const row = (name: string, where: string, hits: number): ProfileRow => ({
    name, where,
    selfMs: hits * msPerSample,
    share: active > 0 ? hits / active : 0,
    usPerRequest: requests > 0 ? (hits * msPerSample * 1000) / requests : 0,
  });
  return {
    totalMs,
    activeMs: active * msPerSample,
    top: [...byFn.values()].sort((a, b) => b.hits - a.hits).slice(0, topN).map((e) => row(e.name, e.where, e.hits)),
    byOrigin: [...byOrigin.entries()].sort((a, b) => b[1] - a[1]).map(([o, h]) => row(o, '', h)),
    ownInclusive: [...inclusive.values()].sort((a, b) => b.hits - a.hits).slice(0, topN).map((e) => row(e.name, e.where, e.hits)),
  };
}
