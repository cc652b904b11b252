// The forward stage: picks a backend of the route, sends the (possibly rewritten) request and
// streams the answer back; fails over to another backend when that is safe (vmauth's rules:
// a buffered body small enough to resend, a network error or a retry_status_codes answer).
import { urlWithoutQuery } from '../observe/secrets.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayOptions } from '../gateway/options.ts';
import type { RequestContext } from '../gateway/request-context.ts';
import { refuse } from '../gateway/respond.ts';
import { REFUSALS, type RefusalCode } from '../errors/catalogue.ts';
import { JwtPlaceholderValueError, renderUrlPrefix, type VmAccess } from '../identify/jwt/index.ts';
import { parseQuery, unescape } from '../lib/go-url.ts';
import type { Logger } from '../observe/logger.ts';
import type { Metrics } from '../observe/metrics.ts';
import { clientIp } from '../listen/client-address.ts';
import { buildDefaultUrlPath, buildTargetPath } from '../route/target-url.ts';
import type { Backend, BackendTarget } from './backend-set.ts';
import { attempt, type OutgoingRequest } from './proxy.ts';
import { buildRequestHeaders } from './request-headers.ts';
import { responseTooLarge } from '../offload/offload.ts';

/** Network errors after which vmauth retries once at the same backend (a stale keep-alive socket). */
const TRIVIAL_NET_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

export type ForwardOptions = Pick<GatewayOptions, 'maxRequestBodySizeToRetry' | 'securityHeaders' | 'removeXffValue'>;

export class Forwarder {
  readonly #opts: ForwardOptions;
  readonly #metrics: Metrics;
  readonly #log: Logger;
  /** Answers a claim value that cannot be placed into the backend URL or a header. */
  readonly #refuseUnsafeClaim: (req: IncomingMessage, res: ServerResponse, err: JwtPlaceholderValueError) => number;

  constructor(opts: ForwardOptions, metrics: Metrics, log: Logger, refuseUnsafeClaim: (req: IncomingMessage, res: ServerResponse, err: JwtPlaceholderValueError) => number) {
    this.#opts = opts;
    this.#metrics = metrics;
    this.#log = log;
    this.#refuseUnsafeClaim = refuseUnsafeClaim;
  }

  #refuse(ctx: RequestContext, code: RefusalCode, message: string): number {
    ctx.reason = REFUSALS[code].reason;
    return refuse(ctx.res, this.#metrics, code, message);
  }

  /** Sends the request to a backend of `ctx.route`; returns the status the client got. */
  async forward(ctx: RequestContext): Promise<number> {
    const { req, res, user, target, body, access, gone } = ctx;
    const route = ctx.route as NonNullable<RequestContext['route']>;
    const stats = ctx.runtime.stats;
    const set = route.backends;
    const canRetry = body.kind === 'none' || (body.kind === 'whole' && body.data.length <= this.#opts.maxRequestBodySizeToRetry);
    const payload = body.kind === 'whole' ? body.data : body.kind === 'stream' ? body.stream : null;
    const ip = clientIp(req);
    const respOpts = {
      responseHeaders: route.responseHeaders,
      extraResponseHeaders: this.#opts.securityHeaders,
      retryStatusCodes: set.retryStatusCodes,
      responseFilter: ctx.responseFilter,
    };
    const attempts = set.backends.length;
    // Backends already tried; only a failover needs the set, so the first attempt allocates none.
    let tried: Set<Backend> | undefined;
    let previous: Backend | null = null;
    for (let i = 0; i < attempts; i++) {
      if (previous !== null) (tried ??= new Set()).add(previous);
      const backend: Backend = set.acquire(Date.now(), tried);
      previous = backend;
      let t: BackendTarget = backend.target;
      if (access !== null && t.template !== null && t.template.hasPlaceholders) {
        try { t = renderTarget(t, access); } catch (err) {
          set.release(backend);
          if (!(err instanceof JwtPlaceholderValueError)) throw err;
          ctx.reason = err.unscoped ? REFUSALS.jwt_tenant_unscoped.reason : REFUSALS.jwt_claim_unsafe.reason;
          return this.#refuseUnsafeClaim(req, res, err);
        }
      }
      const host = route.keepOriginalHost ? (req.headers.host ?? t.host) : (route.hostOverride ?? t.host);
      const out: OutgoingRequest = {
        method: req.method ?? 'GET',
        path: ctx.isDefaultUrl ? buildDefaultUrlPath(t, target) : buildTargetPath(t, target, route.dropSrcPathPrefixParts, route.mergeQueryArgs),
        headers: buildRequestHeaders(req, ctx.headerOps, { clientIp: ip, removeXffValue: this.#opts.removeXffValue, host, bodyInMemory: Buffer.isBuffer(payload) }),
        body: payload,
      };
      stats.backendRequests++;
      let result = await attempt(backend.dispatcher, out, res, respOpts, gone);
      if (result.kind === 'failed' && canRetry && TRIVIAL_NET_ERRORS.has(errCode(result.error))) {
        stats.backendRequests++;
        result = await attempt(backend.dispatcher, out, res, respOpts, gone);
      }
      set.release(backend);
      switch (result.kind) {
        case 'responded':
          if (!result.complete) stats.errors++;
          return result.status;
        case 'client-gone':
          this.#metrics.requestError('client_canceled');
          ctx.reason = 'client_canceled';
          return 499;
        case 'invalid-request':
          // A value from the client or its token that HTTP cannot carry: the request's fault, not the backend's.
          stats.errors++;
          return this.#refuse(ctx, 'bad_backend_request', `cannot build the backend request from this request: ${result.error.message}`);
        case 'filter-failed':
          // The backend is healthy; its answer just cannot be scoped to the tenant. Fail closed
          // without taking the backend out of rotation.
          stats.errors++;
          if (errCode(result.error) === 'ERR_RESPONSE_TOO_LARGE') return this.#refuse(ctx, 'tenant_response_too_large', responseTooLarge(ctx.responseFilter));
          this.#log.warn(`cannot filter the response of ${urlWithoutQuery(t.display)} for the tenant: ${result.error.message}`, { user: user.logName });
          return this.#refuse(ctx, 'tenant_response_unfilterable', 'the backend response could not be filtered for this tenant');
        case 'retry-status':
          if (!canRetry) {
            // As vmauth: a status listed for retries that cannot be retried (body too large to
            // resend, or retries disabled) is an error, not the backend's answer.
            stats.errors++;
            this.#log.warn(`got response status code=${result.status} from ${urlWithoutQuery(t.display)}, but cannot retry the request at another backend, because the request body has been already consumed`, { user: user.logName });
            return this.#refuse(ctx, 'backend_error_no_retry', `got response status code=${result.status} from the backend, but cannot retry the request at another backend, because the request body has been already consumed`);
          }
          stats.backendErrors++;
          set.markBroken(backend, Date.now(), `status ${result.status} (retry_status_codes)`); // as vmauth: skipped for -failTimeout like a failed backend
          this.#log.warn(`request to ${urlWithoutQuery(t.display)} failed with status ${result.status} listed in retry_status_codes; retrying at another backend`, { user: user.logName });
          continue;
        case 'failed': {
          stats.backendErrors++;
          set.markBroken(backend, Date.now(), result.error.message);
          if (!canRetry) {
            stats.errors++;
            // The backend's address and path stay in the log; the client learns only that it failed.
            this.#log.warn(`cannot proxy the request to ${urlWithoutQuery(t.display)}: ${result.error.message}`, { user: user.logName });
            return this.#refuse(ctx, 'backend_error_no_retry', `cannot proxy the request to the backend: ${errCode(result.error) || 'request failed'}`);
          }
          this.#log.warn(`request to ${urlWithoutQuery(t.display)} failed: ${result.error.message}; retrying at another backend`, { user: user.logName });
          continue;
        }
      }
    }
    stats.errors++;
    return this.#refuse(ctx, 'backends_unavailable',
      `all the ${attempts} backends for the user ${JSON.stringify(user.logName)} are unavailable for proxying the request`);
  }
}

/** A JWT user's backend, with the url_prefix placeholders filled from the token's vm_access. */
export function renderTarget(t: BackendTarget, access: VmAccess): BackendTarget {
  const url = renderUrlPrefix(t.template as NonNullable<BackendTarget['template']>, access);
  const rawQuery = url.search.slice(1);
  return { ...t, basePath: unescape(url.pathname, false) ?? url.pathname, rawQuery, query: parseQuery(rawQuery) };
}

function errCode(err: Error): string {
  return (err as { code?: string }).code ?? '';
}

