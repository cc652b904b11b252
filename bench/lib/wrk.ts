// Runs wrk (one thread, N connections, --latency) and reads its summary.
import { programEnv, programPath } from '../../scripts/lib/backends.ts';
import { runToEnd } from './processes.ts';

export interface WrkLoad {
  readonly url: string;
  readonly headers: readonly string[];
  /** A wrk Lua script (POST bodies, request mixes), or null for plain GETs. */
  readonly script: string | null;
}

export interface WrkResult {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  /** Latency percentiles in microseconds. */
  readonly p50Us: number;
  readonly p99Us: number;
  /** Responses outside 2xx/3xx, plus socket errors: any of these makes the run invalid. */
  readonly non2xx: number;
  readonly socketErrors: number;
  readonly raw: string;
}

const UNIT_US: Record<string, number> = { us: 1, ms: 1e3, s: 1e6, m: 6e7 };

function durationUs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!m) throw new Error(`wrk: cannot read the duration ${JSON.stringify(text)}`);
  return Number(m[1]) * (UNIT_US[m[2] as string] as number);
}

export function parseWrk(out: string): WrkResult {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m),/.exec(out);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p50 = /^\s+50%\s+(\S+)/m.exec(out);
  const p99 = /^\s+99%\s+(\S+)/m.exec(out);
  if (!total || !rps || !p50 || !p99) throw new Error(`wrk: unexpected output:\n${out}`);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requests: Number(total[1]),
    seconds: durationUs(`${total[2]}${total[3]}`) / 1e6,
    rps: Number(rps[1]),
    p50Us: durationUs(p50[1] as string),
    p99Us: durationUs(p99[1] as string),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    raw: out,
  };
}

export async function runWrk(core: number | null, load: WrkLoad, connections: number, seconds: number): Promise<WrkResult> {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '--timeout', '10s'];
  for (const h of load.headers) args.push('-H', h);
  if (load.script !== null) args.push('-s', load.script);
  args.push(load.url);
  const r = await runToEnd(core, programPath('wrk'), args, (seconds + 30) * 1000, programEnv());
  if (r.code !== 0) throw new Error(`wrk exited with ${r.code}: ${r.stderr || r.stdout}`);
  return parseWrk(r.stdout);
}
