// The noisy-neighbour scenario of `npm run bench`: tenant B runs a steady small-GET load (wrk)
// through tenantgate with the shipped -workers=2 while tenant A runs one attack at a time from
// its own process (noisy-attacker.ts). Reports B's p50/p99 and errors under each attack beside
// B alone, the peak RSS of the gateway's largest process and of the whole tree, and what A got.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { processTree, peakRssMiB, rssMiB } from './proc-stats.ts';
import { freePort, runToEnd } from './processes.ts';
import { startProxy } from './proxies.ts';
import { runWrk } from './wrk.ts';

export interface NoisyRow {
  readonly attack: string;
  readonly bP50Us: number;
  readonly bP99Us: number;
  readonly bRps: number;
  readonly bErrors: number;
  /** VmHWM of the largest gateway process, and the sum over the tree (primary + workers). */
  readonly peakRssMiB: number;
  readonly treePeakRssMiB: number;
  /** RSS of the largest gateway process after the run (memory kept at rest). */
  readonly rssAfterMiB: number;
  readonly attacker: Readonly<Record<string, number>>;
}

export interface NoisyOptions {
  readonly dir: string;
  readonly backendPort: number;
  readonly loadCore: number | null;
  readonly nodeFlags: readonly string[];
  readonly seconds: number;
  readonly log: (s: string) => void;
}

const ATTACKS = ['match-flood', 'zstd-bomb', 'snappy-bomb', 'bcrypt-storm'] as const;
const B_AUTH = `Authorization: Basic ${Buffer.from('tenant-b:tenant-b-password').toString('base64')}`;
const safe = (f: (pid: number) => number, pid: number) => { try { return f(pid); } catch { return 0; } };

export async function noisyNeighbour(o: NoisyOptions): Promise<NoisyRow[]> {
  const config = join(o.dir, 'tenantgate-noisy.yml');
  const backend = `http://127.0.0.1:${o.backendPort}`;
  writeFileSync(config, `users:
- username: tenant-a
  password: tenant-a-password
  url_prefix: "${backend}"
  tenant: {labels: {namespace: team-a}}
- username: tenant-b
  password: tenant-b-password
  url_prefix: "${backend}"
  tenant: {labels: {namespace: team-b}}
- username: hashed
  password_hash: "${bcrypt.hashSync('the-password', 10)}"
  url_prefix: "${backend}"
`);
  const attacker = new URL('./noisy-attacker.ts', import.meta.url).pathname;
  const rows: NoisyRow[] = [];
  for (const attack of ['none', ...ATTACKS]) {
    const port = await freePort();
    // The shipped defaults: two worker processes, unpinned (they share both cores with wrk and A).
    const proc = await startProxy('tenantgate', { core: null, port, config, vmauthBin: '', nodeFlags: o.nodeFlags, gatewayFlags: ['-workers=2'] });
    try {
      const base = `http://127.0.0.1:${port}`;
      const load = { url: `${base}/api/v1/query?query=up`, headers: [B_AUTH], script: null };
      await runWrk(o.loadCore, load, 8, 1);
      const a = attack === 'none' ? null : runToEnd(null, process.execPath, [attacker, base, attack, String(o.seconds + 1)], (o.seconds + 40) * 1000);
      if (a !== null) await new Promise((r) => setTimeout(r, 500));
      const w = await runWrk(o.loadCore, load, 8, o.seconds);
      const done = a === null ? null : await a;
      const tree = processTree(proc.pid);
      const row: NoisyRow = {
        attack,
        bP50Us: w.p50Us, bP99Us: w.p99Us, bRps: w.rps, bErrors: w.non2xx + w.socketErrors,
        peakRssMiB: Math.max(...tree.map((p) => safe(peakRssMiB, p))),
        treePeakRssMiB: tree.reduce((s, p) => s + safe(peakRssMiB, p), 0),
        rssAfterMiB: Math.max(...tree.map((p) => safe(rssMiB, p))),
        attacker: done === null ? {} : parseStatuses(done.stdout, done.stderr),
      };
      rows.push(row);
      o.log(`noisy neighbour ${attack.padEnd(13)} B p50 ${(row.bP50Us / 1000).toFixed(2)} ms p99 ${(row.bP99Us / 1000).toFixed(2)} ms ${row.bRps.toFixed(0)} rps, ${row.bErrors} errors; peak RSS ${row.peakRssMiB.toFixed(0)} MiB/process, ${row.treePeakRssMiB.toFixed(0)} MiB total; A got ${JSON.stringify(row.attacker)}`);
    } finally {
      await proc.stop(5000);
    }
  }
  return rows;
}

function parseStatuses(stdout: string, stderr: string): Record<string, number> {
  try { return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, number>; } catch { return { error: 1, [stderr.slice(0, 80)]: 1 }; }
}

export function noisyTable(rows: readonly NoisyRow[]): string {
  const base = rows.find((r) => r.attack === 'none');
  const lines = [
    '| tenant A does | B p50 ms | B p99 ms | B p99 ÷ alone | B rps | B errors | peak RSS per process / total MiB | RSS after MiB | A got (status: count; 0 = connection closed) |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const ratio = base === undefined ? NaN : r.bP99Us / base.bP99Us;
    lines.push(`| ${r.attack === 'none' ? 'nothing (B alone)' : r.attack} | ${(r.bP50Us / 1000).toFixed(2)} | ${(r.bP99Us / 1000).toFixed(2)} | ${ratio.toFixed(2)} | ${r.bRps.toFixed(0)} | ${r.bErrors} | ${r.peakRssMiB.toFixed(0)} / ${r.treePeakRssMiB.toFixed(0)} | ${r.rssAfterMiB.toFixed(0)} | ${Object.entries(r.attacker).map(([k, v]) => `${k}: ${v}`).join(', ')} |`);
  }
  return lines.join('\n');
}
