// Small HTTP helpers for the tenant enforcement integration tests: requests as a given user
// (bounded by a timeout) and the denial counters from the gateway's /metrics.
import { request } from 'node:http';

export interface Reply {
  readonly status: number;
  readonly body: string;
  readonly headers: Headers;
}

export async function tenantGet(base: string, path: string, auth: string, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(base + path, { headers: { authorization: auth, ...headers }, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

export async function tenantPost(base: string, path: string, auth: string, body: string | Uint8Array | FormData, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { authorization: auth, ...headers },
    body: body instanceof Uint8Array ? Buffer.from(body) : body,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

/** The value of tenantgate_requests_denied_total{reason="<reason>"} in a /metrics page (0 if absent). */
export function deniedTotal(metricsText: string, reason: string): number {
  const line = metricsText.split('\n').find((l) => l.startsWith(`tenantgate_requests_denied_total{reason="${reason}"}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/**
 * POSTs a large body. A gateway that refuses before reading the body answers and closes the
 * connection; depending on timing the client reads the answer or fails its upload with EPIPE /
 * ECONNRESET. The latter resolves as status 0 with the error code as body.
 */
export function postLarge(base: string, path: string, auth: string, body: Uint8Array | string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const data = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const req = request(url, { method: 'POST', agent: false, headers: { authorization: auth, 'content-length': String(data.length), ...headers }, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: h });
      });
      res.on('error', reject);
    });
    let answered = false;
    req.on('response', () => { answered = true; });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => {
      const code = (err as { code?: string }).code ?? '';
      if (answered) return;
      if (code === 'EPIPE' || code === 'ECONNRESET') resolve({ status: 0, body: code, headers: new Headers() });
      else reject(err);
    });
    req.end(data);
  });
}
