// The request pipeline: listen → identify → authorize → route → forward → observe.
// Holds the current config snapshot; a reload swaps it in one assignment, and each request
// keeps the snapshot it started with.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { clientIp, clientPort } from '../listen/client-address.ts';
import type { IpFilter } from '../authorize/ip-filter.ts';
import type { CompiledConfig, CompiledUser, RouteOptions } from '../config/model.ts';
import type { Backend } from '../forward/backend-set.ts';
import { attempt, type OutgoingRequest } from '../forward/proxy.ts';
import { buildRequestHeaders } from '../forward/request-headers.ts';
import { credentialDigest, requestCredentialKeys } from '../identify/credentials.ts';
import { matchClientCertificate } from '../identify/client-certificate.ts';
import { JwtPlaceholderValueError, renderHeaders, renderUrlPrefix, type VmAccess } from '../identify/jwt/index.ts';
import { parseQuery, unescape } from '../lib/go-url.ts';
import type { BackendTarget } from '../forward/backend-set.ts';
import type { HeaderOp } from '../config/model.ts';
import type { ResponseFilter, TenantPolicy } from '../enforce/tenant/policy.ts';
import { Semaphore } from '../limit/semaphore.ts';
import { ClientWatch } from '../limit/client-watch.ts';
import type { RateLimiter, RateTicket } from '../limit/rate-limiter.ts';
import type { RateStore } from '../limit/rate-store.ts';
import { createRateLimiter } from '../limit/store-settings.ts';
import type { Logger } from '../observe/logger.ts';
import { logAccess, redactHeaders, redactUri } from '../observe/access-log.ts';
import type { Metrics, RequestStats } from '../observe/metrics.ts';
import { matchRoute } from '../route/match-route.ts';
import { parseRequestTarget, targetString, type RequestTarget } from '../route/request-target.ts';
import { buildDefaultUrlPath, buildTargetPath } from '../route/target-url.ts';
import type { GatewayOptions } from './options.ts';
import { bufferBody, type BufferedBody } from './request-body.ts';
import { refuse, sendText } from './respond.ts';

interface UserRuntime {
  readonly stats: RequestStats;
  readonly limit: Semaphore;
}

/** Network errors after which vmauth retries once at the same backend (a stale keep-alive socket). */
const TRIVIAL_NET_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

export class Gateway {
  #config: CompiledConfig;
  readonly #opts: GatewayOptions;
  readonly #metrics: Metrics;
  readonly #log: Logger;
  readonly #global: Semaphore;
  readonly #runtime = new WeakMap<CompiledUser, UserRuntime>();
  /**
   * Credentials that matched a user in the current snapshot → that user, so known clients skip
   * hashing. Only successful matches are stored (bounded), and the cache is dropped on every swap.
   */
  #known = new Map<string, CompiledUser>();
  /** Per-user semaphores survive reloads when the user's metric identity is unchanged. */
  readonly #limits = new Map<string, Semaphore>();
  /** `limits:` of users: rate limits and concurrent queries (src/limit/rate-limiter.ts). */
  readonly #rate: RateLimiter;

  constructor(config: CompiledConfig, opts: GatewayOptions, metrics: Metrics, log: Logger) {
    this.#opts = opts;
    this.#metrics = metrics;
    this.#log = log;
    this.#global = new Semaphore(opts.maxConcurrentRequests);
    metrics.gauge('vmauth_concurrent_requests_capacity', () => this.#global.capacity);
    metrics.gauge('vmauth_concurrent_requests_current', () => this.#global.current);
    this.#config = config;
    this.#prepare(config);
    this.#rate = createRateLimiter(opts, metrics, log);
  }

  get config(): CompiledConfig { return this.#config; }

  get rateStore(): RateStore { return this.#rate.store; }

  /** Atomically replaces the config; requests in flight finish on the snapshot they started with. */
  swapConfig(next: CompiledConfig): void {
    this.#prepare(next);
    const prev = this.#config;
    this.#config = next;
    this.#known = new Map();
    prev.jwt?.authenticator.close();
    // Stops discovery of the old snapshot and returns its pool leases once its requests finish.
    for (const s of prev.backendSets) s.retire();
  }

  #prepare(config: CompiledConfig): void {
    this.#metrics.hasUnauthorizedUser = config.unauthorizedUser !== null;
    const users = config.unauthorizedUser !== null ? [...config.users, config.unauthorizedUser] : config.users;
    for (const u of users) {
      const stats = u.kind === 'unauthorized' ? this.#metrics.unauthorized : this.#metrics.userStats(u.metricLabels);
      const key = u.kind === 'unauthorized' ? '\0unauthorized' : JSON.stringify(u.metricLabels);
      let limit = this.#limits.get(key);
      const capacity = this.#opts.userLimitShare?.(u.maxConcurrentRequests) ?? u.maxConcurrentRequests;
      if (limit === undefined) { limit = new Semaphore(capacity); this.#limits.set(key, limit); }
      limit.capacity = capacity;
      stats.capacity = capacity;
      this.#runtime.set(u, { stats, limit });
    }
  }

  /** Entry point for proxied requests. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const start = performance.now();
    const target = parseRequestTarget(req.url ?? '/');
    if (target === null) {
      refuse(res, this.#metrics, 'bad_request_target', 'cannot parse the request path: invalid percent-encoding');
      return;
    }
    const config = this.#config;
    if (config.ipFilter !== null && !this.#ipAllowed(config.ipFilter, req)) {
      refuse(res, this.#metrics, 'ip_denied', 'access from this IP address is denied');
      return;
    }

    const keys = requestCredentialKeys(req.headers, this.#opts.authHeaderNames);
    const uu = config.unauthorizedUser;
    for (const k of keys) {
      const user = this.#lookup(config, k);
      if (user !== undefined) { void this.#process(req, res, user, target, start); return; }
    }
    const certUser = matchClientCertificate(req, config.mtlsUsers);
    if (certUser !== null) { void this.#process(req, res, certUser, target, start); return; }
    if (keys.length === 0) {
      if (uu !== null && uu.hasAnyUrls) { void this.#process(req, res, uu, target, start); return; }
      const status = refuse(res, this.#metrics, 'missing_auth', "missing 'Authorization' request header", { 'www-authenticate': 'Basic realm="Restricted"' });
      this.#access(uu, req, status, start, 'unauthorized');
      return;
    }
    if (config.hashedPasswordUsers.size > 0) { void this.#identifyHashed(req, res, config, keys, target, start); return; }
    void this.#afterStaticCredentials(req, res, config, keys, target, start);
  }

  /** No static, hashed or certificate user matched: a JWT, else unauthorized_user, else 401. */
  async #afterStaticCredentials(req: IncomingMessage, res: ServerResponse, config: CompiledConfig, keys: readonly string[], target: RequestTarget, start: number): Promise<void> {
    const token = config.jwt !== null ? bearerJwt(keys) : null;
    if (token !== null) { await this.#identifyJwt(req, res, config, token, target, start); return; }
    await this.#unauthorizedOrReject(req, res, config, target, start);
  }

  async #unauthorizedOrReject(req: IncomingMessage, res: ServerResponse, config: CompiledConfig, target: RequestTarget, start: number): Promise<void> {
    const uu = config.unauthorizedUser;
    if (uu !== null && uu.hasAnyUrls) { await this.#process(req, res, uu, target, start); return; }
    await this.#rejectInvalidCredentials(req, res, uu, start);
  }

  #lookup(config: CompiledConfig, key: string): CompiledUser | undefined {
    const known = this.#known;
    const hit = known.get(key);
    if (hit !== undefined && config === this.#config) return hit;
    const user = config.usersByCredential.get(credentialDigest(key));
    if (user !== undefined && config === this.#config) {
      if (known.size >= 10_000) known.clear();
      known.set(key, user);
    }
    return user;
  }

  async #identifyHashed(req: IncomingMessage, res: ServerResponse, config: CompiledConfig, keys: readonly string[], target: RequestTarget, start: number): Promise<void> {
    for (const k of keys) {
      const user = await config.hashedPasswordUsers.verify(k.slice('http_auth:'.length));
      if (user !== null) { await this.#process(req, res, user, target, start); return; }
    }
    await this.#afterStaticCredentials(req, res, config, keys, target, start);
  }

  async #identifyJwt(req: IncomingMessage, res: ServerResponse, config: CompiledConfig, token: string, target: RequestTarget, start: number): Promise<void> {
    const jwt = config.jwt as NonNullable<CompiledConfig['jwt']>;
    const r = await jwt.authenticator.authenticate(token);
    if (r.ok) {
      const user = jwt.users.get(r.index);
      if (user !== undefined) { await this.#process(req, res, user, target, start, r.access); return; }
    } else {
      this.#metrics.requestError(r.code.toLowerCase().replace(/^err_/, ''));
      // Every refused token is logged with its reason; never the token or its claims.
      this.#log.warn(`JWT refused: ${r.code}: ${r.detail}`, { remote_addr: clientAddr(req), request_uri: redactUri(req.url ?? '') });
    }
    await this.#unauthorizedOrReject(req, res, config, target, start);
  }

  async #rejectInvalidCredentials(req: IncomingMessage, res: ServerResponse, uu: CompiledUser | null, start: number): Promise<void> {
    this.#metrics.requestError('invalid_auth_token');
    if (this.#opts.logInvalidAuthTokens) {
      // The presented credential is never logged, only where it came from.
      this.#log.warn('cannot authorize request: invalid auth token', { remote_addr: clientAddr(req), request_uri: redactUri(req.url ?? '') });
    }
    // A random 2–3 s pause (as vmauth) makes guessing credentials slow.
    if (this.#opts.unauthorizedDelayMs > 0) {
      const ac = new AbortController();
      const onClose = () => ac.abort();
      req.once('close', onClose);
      try { await delay(this.#opts.unauthorizedDelayMs + Math.random() * 1000, undefined, { signal: ac.signal }); } catch { /* client left */ }
      req.off('close', onClose);
    }
    sendText(res, 401, 'Unauthorized');
    this.#access(uu, req, 401, start, 'unauthorized');
  }

  #ipAllowed(filter: IpFilter, req: IncomingMessage): boolean {
    let ip = clientIp(req);
    const header = filter.realIpHeader ?? this.#opts.realIpHeader;
    if (header !== null) {
      const h = req.headers[header];
      const v = Array.isArray(h) ? h[0] : h;
      if (v !== undefined && v !== '') ip = (v.split(',')[0] as string).trim();
    }
    return filter.allows(ip);
  }

  async #process(req: IncomingMessage, res: ServerResponse, user: CompiledUser, target: RequestTarget, start: number, access: VmAccess | null = null): Promise<void> {
    const rt = this.#runtime.get(user) as UserRuntime;
    const stats = rt.stats;
    stats.requests++;
    let status = 0;
    const gone = new ClientWatch();
    const onClose = () => { if (!res.writableFinished) gone.abort(); };
    res.once('close', onClose);
    let globalHeld = false;
    let userHeld = false;
    let ticket: RateTicket | null = null;
    try {
      if (user.ipFilter !== null && !this.#ipAllowed(user.ipFilter, req)) {
        status = refuse(res, this.#metrics, 'ip_denied', 'access from this IP address is denied for this user');
        return;
      }
      // Rate limits before any slot is taken or byte read: a user over its limit costs nobody else.
      const admission = this.#rate.admit(user, req, target.path, access);
      if (admission !== null) {
        const a = admission instanceof Promise ? await admission : admission;
        if (a.kind === 'refuse') { status = this.#rate.respond(res, a); return; }
        ticket = a;
      }
      const opts = this.#opts;
      // One -maxQueueDuration budget covers the global wait, body buffering and the per-user wait, as in vmauth.
      const deadline = start + opts.maxQueueDurationMs;
      globalHeld = this.#global.tryAcquire() || await this.#global.acquire(deadline - performance.now(), gone);
      if (!globalHeld) {
        if (gone.aborted) { this.#metrics.requestError('client_canceled'); return; }
        this.#metrics.inc('vmauth_concurrent_requests_limit_reached_total');
        status = refuse(res, this.#metrics, 'concurrency_limit',
          `cannot start executing the request during -maxQueueDuration=${opts.maxQueueDurationMs / 1000}s because -maxConcurrentRequests=${this.#global.capacity} concurrent requests are executed`,
          { 'retry-after': '10' });
        return;
      }
      const bufferStart = performance.now();
      const buffering = bufferBody(req, Math.max(opts.requestBufferSize, opts.maxRequestBodySizeToRetry), Math.max(0, deadline - performance.now()));
      const body = buffering instanceof Promise ? await buffering : buffering;
      if (body.kind !== 'none') this.#metrics.bufferBody.observe((performance.now() - bufferStart) / 1000);
      if (body.kind === 'timeout') {
        status = refuse(res, this.#metrics, 'reject_slow_client',
          `reject request from the user ${user.logName} because the request body couldn't be read in -maxQueueDuration=${opts.maxQueueDurationMs / 1000}s; read ${body.bytes} bytes`);
        req.destroy();
        return;
      }
      if (body.kind === 'error') {
        status = refuse(res, this.#metrics, 'body_read_error', `cannot read request body: ${body.error.message}`);
        return;
      }
      userHeld = rt.limit.tryAcquire() || await rt.limit.acquire(deadline - performance.now(), gone);
      if (!userHeld) {
        if (gone.aborted) { this.#metrics.requestError('client_canceled'); return; }
        stats.limitReached++;
        status = refuse(res, this.#metrics, 'concurrency_limit',
          `cannot start executing the request during -maxQueueDuration=${opts.maxQueueDurationMs / 1000}s because ${rt.limit.capacity} concurrent requests from the user ${user.logName} are executed`,
          { 'retry-after': '10' });
        return;
      }
      stats.current++;
      try {
        status = await this.#route(req, res, user, target, body, stats, gone, access);
      } finally {
        stats.current--;
      }
    } catch (err) {
      this.#log.error('unexpected error while proxying', { error: (err as Error).stack ?? String(err) });
      stats.errors++;
      if (!res.headersSent) { sendText(res, 500, 'internal error'); status = 500; } else res.destroy();
    } finally {
      ticket?.release();
      if (userHeld) rt.limit.release();
      if (globalHeld) this.#global.release();
      res.off('close', onClose);
      const seconds = (performance.now() - start) / 1000;
      stats.duration.observe(seconds);
      this.#access(user, req, status, start, user.logName);
    }
  }

  async #route(req: IncomingMessage, res: ServerResponse, user: CompiledUser, target: RequestTarget, body: BufferedBody, stats: RequestStats, gone: ClientWatch, access: VmAccess | null): Promise<number> {
    const match = matchRoute(user, target.path, target.rawQuery, req);
    let route: RouteOptions;
    let isDefault = false;
    if (match !== null) {
      route = match.route;
    } else if (user.defaultUrl !== null) {
      route = user.defaultUrl;
      isDefault = true;
    } else {
      // A request without credentials that unauthorized_user cannot route must be asked for
      // credentials: another user may have that route (vmauth issue 5236).
      if ((user.kind === 'unauthorized' || user.kind === 'auth_token') && this.#config.usersByCredential.size > 0) {
        return refuse(res, this.#metrics, 'missing_auth', "missing 'Authorization' request header", { 'www-authenticate': 'Basic realm="Restricted"' });
      }
      stats.errors++;
      const dump = user.dumpRequestOnErrors ? ' ' + debugInfo(req, target) : '';
      if (user.dumpRequestOnErrors) this.#log.warn(`user ${user.logName} missing route for ${JSON.stringify(targetString(target))}${dump}`);
      return refuse(res, this.#metrics, 'missing_route', `missing route for ${JSON.stringify(targetString(target))}${dump}`);
    }
    if (route.ipFilter !== null && !this.#ipAllowed(route.ipFilter, req)) {
      return refuse(res, this.#metrics, 'ip_denied', 'access from this IP address is denied for this route');
    }
    let headerOps: readonly HeaderOp[] = route.requestHeaders;
    if (access !== null && route.headerTemplate !== null) {
      try {
        headerOps = renderHeaders(route.headerTemplate, access).map(([name, value]): HeaderOp => ({ name, lower: name.toLowerCase(), value }));
      } catch (err) {
        if (err instanceof JwtPlaceholderValueError) return this.#refuseUnsafeClaim(req, res, err);
        throw err;
      }
    }
    let responseFilter: ResponseFilter | undefined;
    if (route.tenant !== null) {
      const e = await this.#enforceTenant(req, res, route.tenant, target, body, headerOps, access);
      if (typeof e === 'number') return e;
      ({ target, body, headerOps, responseFilter } = e);
      if (e.samples !== undefined) {
        const over = this.#rate.chargeWriteSamples(user, req, e.samples);
        const o = over instanceof Promise ? await over : over;
        if (o !== null) return this.#rate.respond(res, o);
      }
    }
    return this.#forward(req, res, user, target, route, headerOps, isDefault, body, stats, gone, access, responseFilter);
  }

  /** Applies a route's tenant policy: a refusal (status returned) or the rewritten request. */
  async #enforceTenant(req: IncomingMessage, res: ServerResponse, policy: TenantPolicy, target: RequestTarget, body: BufferedBody, headerOps: readonly HeaderOp[], access: VmAccess | null) {
    const whole = await wholeBody(body, policy.maxBodyBytes);
    if (whole === 'too-large') return refuse(res, this.#metrics, 'tenant_body_too_large', `request body is larger than ${policy.maxBodyBytes} bytes, the most tenant enforcement reads`);
    if (whole === 'error') return refuse(res, this.#metrics, 'body_read_error', 'cannot read request body');
    const d = policy.enforce({ method: req.method ?? 'GET', path: target.path, rawQuery: target.rawQuery, headers: req.headers, body: whole, access });
    if (d.kind === 'refuse') {
      this.#metrics.requestError(d.reason);
      sendText(res, d.status, d.message);
      return d.status;
    }
    const ops: HeaderOp[] = [];
    const overridden = new Set<string>();
    for (const [name, value] of d.setHeaders ?? []) { ops.push({ name, lower: name.toLowerCase(), value }); overridden.add(name.toLowerCase()); }
    // removeHeaders drops what the client sent; a header the route itself sets (e.g. Mimir's
    // X-Scope-OrgID from `headers:`) stays, because route ops are applied after client headers.
    for (const lower of d.removeHeaders ?? []) {
      if (!overridden.has(lower) && !headerOps.some((h) => h.lower === lower)) ops.push({ name: lower, lower, value: '' });
    }
    // A filtered response must arrive uncompressed.
    if (d.responseFilter !== undefined && !overridden.has('accept-encoding')) { ops.push({ name: 'accept-encoding', lower: 'accept-encoding', value: '' }); overridden.add('accept-encoding'); }
    const newBody = d.body !== undefined ? d.body : whole;
    return {
      target: { path: d.path ?? target.path, rawQuery: d.rawQuery },
      body: (newBody === null ? { kind: 'none' } : { kind: 'whole', data: newBody }) as BufferedBody,
      headerOps: [...headerOps.filter((h) => !overridden.has(h.lower)), ...ops],
      responseFilter: d.responseFilter,
      samples: d.writeSamples,
    };
  }

  async #forward(req: IncomingMessage, res: ServerResponse, user: CompiledUser, target: RequestTarget, route: RouteOptions, headerOps: readonly HeaderOp[], isDefault: boolean, body: BufferedBody, stats: RequestStats, gone: ClientWatch, access: VmAccess | null, responseFilter?: ResponseFilter): Promise<number> {
    const set = route.backends;
    const canRetry = body.kind === 'none' || (body.kind === 'whole' && body.data.length <= this.#opts.maxRequestBodySizeToRetry);
    const payload = body.kind === 'whole' ? body.data : body.kind === 'stream' ? body.stream : null;
    const ip = clientIp(req);
    const respOpts = {
      responseHeaders: route.responseHeaders,
      extraResponseHeaders: this.#opts.securityHeaders,
      retryStatusCodes: canRetry ? set.retryStatusCodes : EMPTY,
      responseFilter,
    };
    const attempts = set.backends.length;
    const tried = new Set<Backend>();
    for (let i = 0; i < attempts; i++) {
      const backend: Backend = set.acquire(Date.now(), tried);
      tried.add(backend);
      let t: BackendTarget = backend.target;
      if (access !== null && t.template !== null && t.template.hasPlaceholders) {
        try { t = renderTarget(t, access); } catch (err) {
          set.release(backend);
          if (err instanceof JwtPlaceholderValueError) return this.#refuseUnsafeClaim(req, res, err);
          throw err;
        }
      }
      const host = route.keepOriginalHost ? (req.headers.host ?? t.host) : (route.hostOverride ?? t.host);
      const out: OutgoingRequest = {
        method: req.method ?? 'GET',
        path: isDefault ? buildDefaultUrlPath(t, target) : buildTargetPath(t, target, route.dropSrcPathPrefixParts, route.mergeQueryArgs),
        headers: buildRequestHeaders(req, headerOps, { clientIp: ip, removeXffValue: this.#opts.removeXffValue, host, bodyInMemory: Buffer.isBuffer(payload) }),
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
          return 499;
        case 'filter-failed':
          // The backend is healthy; its answer just cannot be scoped to the tenant. Fail closed
          // without taking the backend out of rotation.
          stats.errors++;
          this.#log.warn(`cannot filter the response of ${safeUrl(t.display)} for the tenant: ${result.error.message}`, { user: user.logName });
          return refuse(res, this.#metrics, 'tenant_response_unfilterable', 'the backend response could not be filtered for this tenant');
        case 'retry-status':
          stats.backendErrors++;
          set.markBroken(backend, Date.now()); // as vmauth: skipped for -failTimeout like a failed backend
          this.#log.warn(`request to ${safeUrl(t.display)} failed with status ${result.status} listed in retry_status_codes; retrying at another backend`, { user: user.logName });
          continue;
        case 'failed': {
          stats.backendErrors++;
          set.markBroken(backend, Date.now());
          if (!canRetry) {
            stats.errors++;
            return refuse(res, this.#metrics, 'backend_error_no_retry', `cannot proxy the request to ${safeUrl(t.display)}: ${result.error.message}`);
          }
          this.#log.warn(`request to ${safeUrl(t.display)} failed: ${result.error.message}; retrying at another backend`, { user: user.logName });
          continue;
        }
      }
    }
    stats.errors++;
    return refuse(res, this.#metrics, 'backends_unavailable',
      `all the ${attempts} backends for the user ${JSON.stringify(user.logName)} are unavailable for proxying the request`);
  }

  /** A claim value that would change the URL or a header line beyond its placeholder. */
  #refuseUnsafeClaim(req: IncomingMessage, res: ServerResponse, err: JwtPlaceholderValueError): number {
    this.#log.warn(`JWT refused: ERR_JWT_CLAIM_UNSAFE: ${err.message}`, { remote_addr: clientAddr(req), request_uri: redactUri(req.url ?? '') });
    return refuse(res, this.#metrics, 'jwt_claim_unsafe', "the token's vm_access claim cannot be used for this request");
  }

  #access(user: CompiledUser | null, req: IncomingMessage, status: number, start: number, name: string): void {
    if (user === null || user.accessLog === null || user.accessLog.skipStatusCodes.has(status)) return;
    logAccess(this.#log, req, status, performance.now() - start, name, this.#rate.refusalReason(req));
  }
}

const EMPTY: ReadonlySet<number> = new Set();

/** The whole request body for tenant enforcement, reading what buffering left in the stream. */
async function wholeBody(body: BufferedBody, max: number): Promise<Buffer | null | 'too-large' | 'error'> {
  if (body.kind === 'none') return null;
  if (body.kind === 'whole') return body.data.length > max ? 'too-large' : body.data;
  if (body.kind !== 'stream') return 'error';
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of body.stream) {
      size += c.length;
      if (size > max) return 'too-large';
      chunks.push(c);
    }
  } catch {
    return 'error';
  }
  return Buffer.concat(chunks, size);
}

/** The bare token of an `Authorization: Bearer a.b.c` credential, if it looks like a JWT. */
function bearerJwt(keys: readonly string[]): string | null {
  const prefix = 'http_auth:Bearer ';
  for (const k of keys) {
    if (!k.startsWith(prefix)) continue;
    const t = k.slice(prefix.length);
    const dot = t.indexOf('.');
    if (dot > 0 && t.indexOf('.', dot + 1) > dot + 1) return t;
  }
  return null;
}

/** A JWT user's backend, with the url_prefix placeholders filled from the token's vm_access. */
function renderTarget(t: BackendTarget, access: VmAccess): BackendTarget {
  const url = renderUrlPrefix(t.template as NonNullable<BackendTarget['template']>, access);
  const rawQuery = url.search.slice(1);
  return { ...t, basePath: unescape(url.pathname, false) ?? url.pathname, rawQuery, query: parseQuery(rawQuery) };
}

function errCode(err: Error): string {
  return (err as { code?: string }).code ?? '';
}

function clientAddr(req: IncomingMessage): string {
  return `${clientIp(req)}:${clientPort(req)}`;
}

/** A backend URL for messages: no query string, which may hold secrets such as auth keys. */
function safeUrl(display: string): string {
  const q = display.indexOf('?');
  return q < 0 ? display : display.slice(0, q);
}

function debugInfo(req: IncomingMessage, target: RequestTarget): string {
  return `(host: ${JSON.stringify(req.headers.host ?? '')}; path: ${JSON.stringify(target.path)}; args: ${JSON.stringify(redactUri('?' + target.rawQuery).slice(1))}; headers: ${JSON.stringify(redactHeaders(req.rawHeaders))})`;
}
