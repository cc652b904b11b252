// Reads the start of a request body before a backend is chosen: up to
// max(-requestBufferSize, -maxRequestBodySizeToRetry) bytes, within -maxQueueDuration. A body
// that fits is kept whole (so the request can be retried at another backend when it is small
// enough); a longer one continues as a stream: the buffered part is put back in front of the
// unread rest, and the request itself is handed to the backend dispatcher (no extra stream layer).
//
// A body whose Content-Length is known and at most WHOLE_BODY_MAX (or the caller's larger bound,
// for bodies that will be read whole anyway, such as a tenant's writes) is read whole into one
// pre-sized buffer instead: for remote-write-sized bodies this costs less than streaming
// (benchmark: docs/performance.md), and memory stays bounded by that size per request in flight.
import type { IncomingMessage } from 'node:http';

export type BufferedBody =
  | { readonly kind: 'none' }
  | { readonly kind: 'whole'; readonly data: Buffer }
  | { readonly kind: 'stream'; readonly stream: IncomingMessage }
  | { readonly kind: 'timeout'; readonly bytes: number }
  | { readonly kind: 'error'; readonly error: Error };

export const WHOLE_BODY_MAX = 128 * 1024;

export function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  if (cl !== undefined) return cl !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

/**
 * `wholeMax`: the largest declared length read whole into one buffer (the caller has already
 * refused longer bodies it must read whole, and reserved the memory).
 */
export function bufferBody(req: IncomingMessage, maxBuf: number, deadlineMs: number, wholeMax = WHOLE_BODY_MAX): Promise<BufferedBody> | BufferedBody {
  if (!hasBody(req)) return NONE;
  const cl = req.headers['content-length'];
  const declared = cl !== undefined && req.headers['transfer-encoding'] === undefined ? Number(cl) : -1;
  const wholeSize = declared > 0 && declared <= Math.max(maxBuf, wholeMax) ? declared : -1;
  if (maxBuf <= 0 && wholeSize < 0) return { kind: 'stream', stream: req };
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    // Known length: copy into one buffer as data arrives (node's parser enforces Content-Length).
    const whole = wholeSize > 0 ? Buffer.allocUnsafe(wholeSize) : null;
    let size = 0;
    const finish = (r: BufferedBody) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      resolve(r);
    };
    const onData = (c: Buffer) => {
      if (whole !== null) {
        if (size + c.length > whole.length) { finish({ kind: 'error', error: new Error('request body longer than its Content-Length') }); return; }
        c.copy(whole, size);
        size += c.length;
        return;
      }
      chunks.push(c);
      size += c.length;
      if (size < maxBuf) return;
      req.pause();
      // Put what was read back in front of the rest; the dispatcher reads the request from here.
      req.unshift(chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks, size));
      finish({ kind: 'stream', stream: req });
    };
    const onEnd = () => finish({
      kind: 'whole',
      data: whole !== null ? whole.subarray(0, size) : chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks, size),
    });
    const onError = (err: Error) => finish({ kind: 'error', error: err });
    const onAborted = () => finish({ kind: 'error', error: new Error('client aborted the request') });
    // An exhausted budget still lets bytes that already arrived be read (a zero-delay timer runs after them).
    const timer = setTimeout(() => { req.pause(); finish({ kind: 'timeout', bytes: size }); }, Math.max(0, deadlineMs));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

const NONE: BufferedBody = { kind: 'none' };

export type WholeBody = Buffer | null | 'too-large' | 'timeout' | 'error';

/**
 * The whole body, reading what buffering left in the stream: at most `max` bytes, and only
 * until `deadlineMs` from now, so a client that sends slowly cannot keep the read open.
 */
export function readWholeBody(body: BufferedBody, max: number, deadlineMs: number): WholeBody | Promise<WholeBody> {
  if (body.kind === 'none') return null;
  if (body.kind === 'whole') return body.data.length > max ? 'too-large' : body.data;
  if (body.kind !== 'stream') return 'error';
  const req = body.stream;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (r: WholeBody) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      if (typeof r === 'string') req.pause();
      resolve(r);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) { finish('too-large'); return; }
      chunks.push(c);
    };
    const onEnd = () => finish(chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks, size));
    const onError = () => finish('error');
    const onAborted = () => finish('error');
    const timer = setTimeout(() => finish('timeout'), Math.max(0, deadlineMs));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
    req.resume();
  });
}
