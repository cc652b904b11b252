// A bounded GET for small JSON documents (OIDC discovery, JWKS): time limit, size limit,
// no credentials, no redirects (the URLs are pinned to the issuer), and errors that name the URL
// and what went wrong.

export interface HttpJsonOptions {
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly signal?: AbortSignal;
}

export async function getJson(url: string, opts: HttpJsonOptions): Promise<unknown> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal === undefined ? timeout : AbortSignal.any([timeout, opts.signal]);
  const init: RequestInit = { method: 'GET', headers: { accept: 'application/json' }, signal, redirect: 'error' };
  let res: Response;
  try {
    res = await opts.fetch(url, init);
  } catch {
    // A pooled keep-alive connection the provider already closed (e.g. it restarted) fails at
    // once; one immediate retry on a fresh connection avoids a needless refresh failure.
    if (signal.aborted) throw new Error(`GET ${url}: ${timeout.aborted ? `no answer within ${opts.timeoutMs} ms` : 'aborted'}`);
    try {
      res = await opts.fetch(url, init);
    } catch (err) {
      throw new Error(`GET ${url}: ${timeout.aborted ? `no answer within ${opts.timeoutMs} ms` : describe(err)}`);
    }
  }
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`GET ${url}: status ${res.status}, expected 200`);
  }
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > opts.maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`GET ${url}: body of ${declared} bytes exceeds the ${opts.maxBytes}-byte limit`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (res.body !== null) {
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > opts.maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw new Error(`GET ${url}: body exceeds the ${opts.maxBytes}-byte limit`);
        }
        chunks.push(value);
      }
    } catch (err) {
      if ((err as Error).message.startsWith(`GET ${url}`)) throw err;
      throw new Error(`GET ${url}: reading body: ${(err as Error).message}`);
    }
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new Error(`GET ${url}: body is not valid JSON`);
  }
}

function describe(err: unknown): string {
  const e = err as Error & { cause?: { message?: string } };
  const cause = e.cause?.message;
  return cause === undefined ? e.message : `${e.message}: ${cause}`;
}
