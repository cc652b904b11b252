// Reads the start of a request body before a backend is chosen: up to
// max(-requestBufferSize, -maxRequestBodySizeToRetry) bytes, within -maxQueueDuration. A body
// that fits is kept whole (so the request can be retried at another backend when it is small
// enough); a longer one continues as a stream after the buffered part.
import type { IncomingMessage } from 'node:http';

export type BufferedBody =
  | { readonly kind: 'none' }
  | { readonly kind: 'whole'; readonly data: Buffer }
  | { readonly kind: 'stream'; readonly stream: AsyncIterable<Buffer> }
  | { readonly kind: 'timeout'; readonly bytes: number }
  | { readonly kind: 'error'; readonly error: Error };

export function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  if (cl !== undefined) return cl !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

export async function bufferBody(req: IncomingMessage, maxBuf: number, deadlineMs: number): Promise<BufferedBody> {
  if (!hasBody(req)) return { kind: 'none' };
  const it = req[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  if (maxBuf <= 0) return { kind: 'stream', stream: { [Symbol.asyncIterator]: () => it } };
  const chunks: Buffer[] = [];
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  // An exhausted budget still lets bytes that already arrived be read (a zero-delay timer runs after them).
  const timeout = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), Math.max(0, deadlineMs)); });
  try {
    while (size < maxBuf) {
      const r = await Promise.race([it.next(), timeout]);
      if (r === 'timeout') return { kind: 'timeout', bytes: size };
      if (r.done) return { kind: 'whole', data: chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks, size) };
      chunks.push(r.value);
      size += r.value.length;
    }
  } catch (err) {
    return { kind: 'error', error: err as Error };
  } finally {
    clearTimeout(timer);
  }
  async function* rest(): AsyncGenerator<Buffer> {
    yield* chunks;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { kind: 'stream', stream: rest() };
}
