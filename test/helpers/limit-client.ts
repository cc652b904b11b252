// Small HTTP client for rate-limit tests: one request per connection (agent: false), so a
// -workers gateway spreads them over its workers, with status, headers and body.
import { request } from 'node:http';

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export function send(url: string, opts: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The value of `series` (exact name and labels) in a /metrics page. */
export function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  return undefined;
}

/**
 * Sends `total` requests, `parallel` at a time, and counts the statuses. Bounded by count and
 * by `maxMs`, whichever ends first. Also returns the wall time it took, for rate bounds.
 */
export async function burst(total: number, parallel: number, maxMs: number, one: (i: number) => Promise<number>): Promise<{ statuses: Map<number, number>; sent: number; elapsedMs: number }> {
  const statuses = new Map<number, number>();
  const start = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < total && performance.now() - start < maxMs) {
      const i = next++;
      const s = await one(i);
      statuses.set(s, (statuses.get(s) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { statuses, sent: next, elapsedMs: performance.now() - start };
}
