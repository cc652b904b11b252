// Small HTTP helpers for the tenant enforcement integration tests: requests as a given user
// (bounded by a timeout) and the denial counters from the gateway's /metrics.

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
