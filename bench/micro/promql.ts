/**
 * Micro-benchmark of PromQL tenant enforcement over realistic dashboard
 * queries. Run: ./node_modules/.bin/node bench/micro/promql.ts
 * Reports, per query, the median µs of (a) a cold enforcement (parse + inject
 * + print, memo disabled), (b) lezer's parse alone, and (c) a memo hit — the
 * common case for dashboards that re-send identical query text on refresh.
 */
import { parser } from '@prometheus-io/lezer-promql';
import { compileTenant, enforceQuery } from '../../src/enforce/promql/index.ts';
import { DASHBOARD_QUERIES } from '../../test/unit/promql/corpus.ts';

// Same configuration as src/enforce/promql/parse.ts, so "parse alone" is comparable.
const strictParser = parser.configure({ strict: true });
const ROUNDS = Number(process.env.ROUNDS ?? 15);
const ITER = Number(process.env.ITER ?? 200);

const cold = compileTenant({ matchers: [{ label: 'namespace', values: ['team-a'] }] }, { cacheSize: 0 });
const coldMulti = compileTenant({ matchers: [{ label: 'namespace', values: ['team-a', 'team-b'] }], filters: ['{env=~"prod|dev"}'] }, { cacheSize: 0 });
const warm = compileTenant({ matchers: [{ label: 'namespace', values: ['team-a'] }] });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Median over rounds of the mean µs per call within a round, for one query. */
function measure(fn: () => unknown): number {
  for (let i = 0; i < ITER; i++) fn();
  const per: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < ITER; i++) fn();
    per.push(Number(process.hrtime.bigint() - t0) / 1000 / ITER);
  }
  return median(per);
}

const rows = DASHBOARD_QUERIES.map((q) => ({
  len: q.length,
  cold: measure(() => enforceQuery(q, cold)),
  coldMulti: measure(() => enforceQuery(q, coldMulti)),
  parse: measure(() => strictParser.parse(q)),
  warm: measure(() => enforceQuery(q, warm)),
}));

const f = (x: number) => x.toFixed(2).padStart(8);
console.log(`PromQL enforcement, ${DASHBOARD_QUERIES.length} dashboard queries, ${ROUNDS}×${ITER} calls each, node ${process.version}`);
console.log(' query  chars   cold µs  cold-multi µs  lezer-parse µs  memo-hit µs');
rows.forEach((r, i) => console.log(`${String(i + 1).padStart(6)} ${String(r.len).padStart(6)} ${f(r.cold)} ${f(r.coldMulti)}       ${f(r.parse)}       ${f(r.warm)}`));
const mc = median(rows.map((r) => r.cold));
const mm = median(rows.map((r) => r.coldMulti));
const mp = median(rows.map((r) => r.parse));
const mw = median(rows.map((r) => r.warm));
console.log('');
console.log(`median per query: cold ${mc.toFixed(2)} µs (${Math.round(1e6 / mc)} ops/s), cold multi-value+filter ${mm.toFixed(2)} µs (${Math.round(1e6 / mm)} ops/s)`);
console.log(`                  lezer parse alone ${mp.toFixed(2)} µs = ${((mp / mc) * 100).toFixed(0)}% of cold; our convert+inject+print ≈ ${(mc - mp).toFixed(2)} µs`);
console.log(`                  memo hit ${mw.toFixed(3)} µs (${Math.round(1e6 / mw)} ops/s)`);
