// The HTTPS server of `tenantgate webhook`: POST /mutate and /validate take an AdmissionReview
// v1 and answer one; GET /healthz for probes. Bodies are bounded and must be JSON.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IsolateOptions } from '../options.ts';
import { answer, ReviewFormatError, type AdmissionDecision, type ReviewMode } from './admission.ts';

export interface WebhookServerOptions {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  readonly isolate: IsolateOptions;
  /** Largest accepted request body; Kubernetes objects are at most ~1.5 MiB. */
  readonly maxBodyBytes?: number;
  /** Called once per answered review with its decision record (the audit log). */
  readonly onReview?: (e: { path: string; decision: AdmissionDecision }) => void;
  /** Called for a request refused before any decision (not an AdmissionReview, too large…). */
  readonly onReject?: (e: { path: string; status: number; error: string }) => void;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) { reject(new Error('request body too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function createWebhookServer(o: WebhookServerOptions): Server {
  const limit = o.maxBodyBytes ?? 3 * 1024 * 1024;
  const server = createServer({ cert: o.cert, key: o.key, minVersion: 'TLSv1.2' }, (req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method === 'GET' && (path === '/healthz' || path === '/readyz')) { send(res, 200, { status: 'ok' }); return; }
    const reject = (status: number, error: string) => { o.onReject?.({ path, status, error }); send(res, status, { error }); };
    if (path !== '/mutate' && path !== '/validate') { send(res, 404, { error: 'not found' }); return; }
    if (req.method !== 'POST') { reject(405, 'POST an AdmissionReview'); return; }
    const ct = req.headers['content-type'] ?? '';
    if (!ct.startsWith('application/json')) { reject(415, 'content-type must be application/json'); return; }
    readBody(req, limit).then((buf) => {
      let body: unknown;
      try { body = JSON.parse(buf.toString('utf8')); } catch { reject(400, 'body is not JSON'); return; }
      const mode: ReviewMode = path === '/mutate' ? 'mutate' : 'validate';
      try {
        const { review, decision } = answer(body, mode, o.isolate);
        o.onReview?.({ path, decision });
        send(res, 200, review);
      } catch (err) {
        if (err instanceof ReviewFormatError) { reject(400, err.message); return; }
        reject(500, 'internal error');
      }
    }, (err: Error) => {
      if (!res.headersSent) reject(413, err.message);
    });
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  return server;
}
