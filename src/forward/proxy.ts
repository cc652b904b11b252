// One attempt to proxy a request to one backend, streaming the response straight into the
// client's response (no intermediate Readable). The caller decides about failover: an attempt
// reports whether the client already got a response or whether another backend may be tried.
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { HeaderOp } from '../config/model.ts';
import type { ResponseFilter, ResponseLookup } from '../enforce/tenant/policy.ts';
import type { ClientWatch } from '../limit/client-watch.ts';
import { serverNameFor } from './dispatchers.ts';
import { connectionTokens, HOP_BY_HOP } from './hop-by-hop.ts';

export interface OutgoingRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: string[];
  readonly body: Buffer | Readable | null;
}

export type AttemptResult =
  /** The client got the backend's response (`complete` false when the body broke off). */
  | { readonly kind: 'responded'; readonly status: number; readonly complete: boolean }
  /** Nothing was sent to the client; the backend failed to connect or answer. */
  | { readonly kind: 'failed'; readonly error: Error }
  /** Nothing was sent to the client; the backend answered with a status listed for retries. */
  | { readonly kind: 'retry-status'; readonly status: number }
  /** The client went away. */
  | { readonly kind: 'client-gone' }
  /** The backend answered, but a tenant response filter could not process the answer. */
  | { readonly kind: 'filter-failed'; readonly error: Error }
  /**
   * Nothing was sent anywhere: the request could not be built from what the client (or its
   * token) supplied, e.g. a header value HTTP cannot carry. The request's fault, not the backend's.
   */
  | { readonly kind: 'invalid-request'; readonly error: Error };

/** Errors undici and node raise while validating a request before anything is sent. */
const LOCAL_REQUEST_ERRORS: ReadonlySet<string> = new Set(['UND_ERR_INVALID_ARG', 'ERR_INVALID_CHAR', 'ERR_INVALID_HTTP_TOKEN', 'ERR_INVALID_ARG_VALUE', 'ERR_UNESCAPED_CHARACTERS']);

function failure(err: Error, sentNothing: boolean): AttemptResult {
  const code = (err as { code?: unknown }).code;
  if (sentNothing && typeof code === 'string' && LOCAL_REQUEST_ERRORS.has(code)) return { kind: 'invalid-request', error: err };
  return { kind: 'failed', error: err };
}

export interface ResponseOptions {
  readonly responseHeaders: readonly HeaderOp[];
  readonly extraResponseHeaders: readonly (readonly [string, string])[];
  readonly retryStatusCodes: ReadonlySet<number>;
  /** Buffer the response and pass it through this filter before the client sees it. */
  readonly responseFilter?: ResponseFilter | undefined;
}

class RetryStatus extends Error {}

/**
 * A client that leaves after it got the status line may have the whole answer: a Go client that
 * decoded a complete JSON body closes the connection before the chunked terminator arrives (vmalert
 * does). The rest of the backend's answer is read and dropped, at most this long and this much,
 * so a response the backend completes is counted as the response it was, not as cancelled.
 */
const DRAIN_GRACE_MS = 1000;
const DRAIN_MAX_BYTES = 64 * 1024;

export function attempt(dispatcher: Dispatcher, out: OutgoingRequest, res: ServerResponse, opts: ResponseOptions, clientGone: ClientWatch): Promise<AttemptResult> {
  return new Promise((resolve) => {
    let settled = false;
    let status = 0;
    let controller: Dispatcher.DispatchController | null = null;
    let draining: { timer: NodeJS.Timeout; bytes: number } | null = null;
    /** Whether anything of the answer (status line onwards) went to the client's socket. */
    let delivered = false;
    const settle = (r: AttemptResult) => {
      if (settled) return;
      settled = true;
      if (draining !== null) clearTimeout(draining.timer);
      clientGone.offAbort(onClientGone);
      resolve(r);
    };
    const cancel = () => {
      controller?.abort(new Error('client disconnected'));
      settle({ kind: 'client-gone' });
    };
    const onClientGone = () => {
      if (controller !== null && delivered && filter === undefined) {
        draining = { timer: setTimeout(cancel, DRAIN_GRACE_MS), bytes: 0 };
        controller.resume();
        return;
      }
      cancel();
    };
    if (clientGone.aborted) { settle({ kind: 'client-gone' }); return; }
    clientGone.onAbort(onClientGone);

    const filter = opts.responseFilter;
    let held: Record<string, string | string[]> | null = null;
    const chunks: Buffer[] = [];
    let size = 0;
    /** Bytes still expected by Content-Length, or -1 when the length is unknown (streaming). */
    let remaining = -1;
    let ended = false;
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) { controller = c; },
      onResponseStart(c, statusCode, headers) {
        status = statusCode;
        if (opts.retryStatusCodes.has(statusCode)) {
          // Settle first: abort() reports the abort through onResponseError synchronously.
          settle({ kind: 'retry-status', status: statusCode });
          c.abort(new RetryStatus());
          return;
        }
        if (filter !== undefined) { held = responseHeaders(headers, opts); return; }
        res.writeHead(statusCode, responseHeaders(headers, opts));
        const cl = headers['content-length'];
        remaining = typeof cl === 'string' && /^\d+$/.test(cl) ? Number(cl) : -1;
        // Streaming answers (live tail, long exports: no Content-Length) get their headers at once;
        // sized ones send headers and body in one write.
        if (remaining < 0) { res.flushHeaders(); delivered = true; }
      },
      onResponseData(c, chunk) {
        if (draining !== null) {
          draining.bytes += chunk.length;
          if (draining.bytes > DRAIN_MAX_BYTES) cancel();
          return;
        }
        if (filter !== undefined) {
          size += chunk.length;
          if (size > filter.maxBytes) {
            const err = Object.assign(new Error(`response larger than ${filter.maxBytes} bytes cannot be filtered`), { code: 'ERR_RESPONSE_TOO_LARGE' });
            settle({ kind: 'filter-failed', error: err });
            c.abort(err);
            return;
          }
          chunks.push(chunk);
          return;
        }
        if (remaining >= 0) {
          remaining -= chunk.length;
          if (remaining <= 0) { ended = true; delivered = true; res.end(chunk); return; }
        }
        delivered = true;
        if (!res.write(chunk)) {
          c.pause();
          res.once('drain', () => { if (draining === null) c.resume(); });
        }
      },
      onResponseEnd() {
        if (filter !== undefined && held !== null) {
          const headers = held;
          const body = Buffer.concat(chunks, size);
          const send = (filtered: Buffer) => {
            if (settled) return;
            delete headers['content-length'];
            delete headers['content-encoding'];
            headers['content-length'] = String(filtered.length);
            res.writeHead(status, headers);
            res.end(filtered);
            settle({ kind: 'responded', status, complete: true });
          };
          const finish = (lookup: Buffer | undefined) => {
            if (settled) return; // the client left while the lookup ran
            let filtered: Buffer | Promise<Buffer>;
            try {
              const ct = headers['content-type'];
              filtered = filter.filter(status, Array.isArray(ct) ? ct[0] : ct, body, lookup);
            } catch (err) {
              settle({ kind: 'filter-failed', error: err as Error });
              return;
            }
            if (Buffer.isBuffer(filtered)) send(filtered);
            else filtered.then(send, (err: Error) => settle({ kind: 'filter-failed', error: err }));
          };
          if (filter.lookup !== undefined && status >= 200 && status < 300) {
            lookupAnswer(dispatcher, out, filter.lookup, filter.maxBytes).then(finish, (err: Error) => settle({ kind: 'filter-failed', error: err }));
            return;
          }
          finish(undefined);
          return;
        }
        if (!ended && draining === null) res.end();
        settle({ kind: 'responded', status, complete: true });
      },
      onResponseError(_c, err) {
        if (settled) return;
        if (clientGone.aborted) { settle({ kind: 'client-gone' }); return; }
        if (res.headersSent) {
          // The status is already on the wire: cut the connection so the client sees a broken
          // response instead of a truncated one that looks complete.
          res.destroy(err);
          settle({ kind: 'responded', status, complete: false });
          return;
        }
        settle(failure(err, controller === null));
      },
    };
    try {
      const body = out.body;
      // A fixed TLS server name per pool: undici would otherwise derive it from the Host header and
      // reconnect whenever that changes (keep_original_host), although TLS verifies the configured name.
      const servername = serverNameFor(dispatcher);
      const opts: Dispatcher.DispatchOptions & { servername?: string } = { path: out.path, method: out.method, headers: out.headers, body };
      if (servername !== undefined) opts.servername = servername;
      dispatcher.dispatch(opts, handler);
    } catch (err) {
      settle(failure(err as Error, true));
    }
  });
}

/** Request headers that describe a body; the lookup is a GET without one. */
const BODY_HEADERS = new Set(['content-length', 'content-type', 'content-encoding', 'transfer-encoding']);

/** The answer to a response filter's lookup: a GET to the same backend with the request's headers. */
async function lookupAnswer(dispatcher: Dispatcher, out: OutgoingRequest, lookup: ResponseLookup, maxBytes: number): Promise<Buffer> {
  const q = out.path.indexOf('?');
  const path = q < 0 ? out.path : out.path.slice(0, q);
  const query = [q < 0 ? '' : out.path.slice(q + 1), lookup.addQuery].filter((x) => x !== '').join('&');
  if (!path.endsWith(lookup.replaces)) throw new Error(`cannot derive ${lookup.path} from the backend path`);
  const headers: string[] = [];
  for (let i = 0; i + 1 < out.headers.length; i += 2) {
    if (!BODY_HEADERS.has(out.headers[i]!.toLowerCase())) headers.push(out.headers[i]!, out.headers[i + 1]!);
  }
  const servername = serverNameFor(dispatcher);
  const r = await dispatcher.request({ method: 'GET', path: `${path.slice(0, -lookup.replaces.length)}${lookup.path}${query === '' ? '' : '?' + query}`, headers, ...(servername !== undefined ? { servername } : {}) } as Dispatcher.RequestOptions);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of r.body) {
    size += (c as Buffer).length;
    if (size > maxBytes) { r.body.destroy(); throw new Error(`${lookup.path} answer larger than ${maxBytes} bytes`); }
    chunks.push(c as Buffer);
  }
  if (r.statusCode !== 200) throw new Error(`${lookup.path} answered ${r.statusCode}`);
  return Buffer.concat(chunks, size);
}

function responseHeaders(headers: Record<string, string | string[] | undefined>, opts: ResponseOptions): Record<string, string | string[]> {
  const conn = connectionTokens(headers['connection']);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined || HOP_BY_HOP.has(name) || (conn !== null && conn.has(name))) continue;
    out[name] = v;
  }
  for (const o of opts.responseHeaders) {
    if (o.value === '') delete out[o.lower]; else out[o.lower] = o.value;
  }
  for (const [k, v] of opts.extraResponseHeaders) out[k] = v;
  return out;
}
