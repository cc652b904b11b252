// The request pipeline. `handle` runs the stages in order, each reading and extending one
// RequestContext:
//
//   listen     parse the request target; the global IP filter
//   identify   who is calling (credentials, certificate, JWT, unauthorized_user)
//   authorize  the user's IP filter
//   route      url_map / default_url, route IP filter, JWT header placeholders
//   admit      the user's connection cap; the body, bounded in bytes per user and in time;
//              the user's concurrency slot, then a global one — a client still sending its
//              body, or a user waiting for its own slot, holds no slot other users need
//   enforce    the route's tenant policy
//   forward    a backend of the route, with failover
//   observe    per-user duration, access log
//
// Holds the current config snapshot; a reload swaps it in one assignment, and each request
// keeps the snapshot it started with.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { IpFilter } from '../authorize/ip-filter.ts';
import type { CompiledConfig, CompiledUser, HeaderOp } from '../config/model.ts';
import { applyTenantPolicy } from '../enforce/tenant/apply-policy.ts';
import type { TenantRefusal } from '../enforce/tenant/policy.ts';
import { checkRouteGuard } from '../authorize/route-guard.ts';
import { refuseGuarded } from '../authorize/guard-refusal.ts';
import { Forwarder } from '../forward/forward-request.ts';
import { resolveTenantDecision } from '../forward/tenant-lookup.ts';
import { RequestIdentifier, type Identity, type JwtRefusal } from '../identify/identify-request.ts';
import { InFlightRequests } from '../identify/in-flight.ts';
import { realClientIp } from '../authorize/real-ip.ts';
import { JwtPlaceholderValueError, renderHeaders } from '../identify/jwt/index.ts';
import { Semaphore } from '../limit/semaphore.ts';
import type { Admission, RateLimiter, RateTicket } from '../limit/rate-limiter.ts';
import type { RateStore } from '../limit/rate-store.ts';
import { createRateLimiter } from '../limit/store-settings.ts';
import { UserRuntime } from '../limit/user-runtime.ts';
import { clientIp, clientPort } from '../listen/client-address.ts';
import { logAccess, redactHeaders, redactUri } from '../observe/access-log.ts';
import type { Logger } from '../observe/logger.ts';
import type { Metrics } from '../observe/metrics.ts';
import { selectRoute } from '../route/select-route.ts';
import { parseRequestTarget, targetString, type RequestTarget } from '../route/request-target.ts';
import type { GatewayOptions } from './options.ts';
import { bufferBody, hasBody, readWholeBody, WHOLE_BODY_MAX, type BufferedBody } from './request-body.ts';
import { newRequestContext, type RequestContext } from './request-context.ts';
import { refuse, sendTenantRefusal, sendText } from './respond.ts';
import { REFUSALS, type RefusalCode } from '../errors/catalogue.ts';
import type { AuditLog } from '../observe/audit-log.ts';
import { auditRequest, pathOnly } from '../observe/audit-request.ts';
import { RefusalRing } from '../observe/refusal-ring.ts';

export class Gateway {
  #config: CompiledConfig;
  readonly #opts: GatewayOptions;
  readonly #metrics: Metrics;
  readonly #log: Logger;
  readonly #audit: AuditLog | null;
  readonly #global: Semaphore;
  readonly #identifier: RequestIdentifier;
  readonly #forwarder: Forwarder;
  /** Requests in flight, closed when a reload leaves them without a user. */
  readonly #inFlight: InFlightRequests;
  /** `limits:` of users: rate limits and concurrent queries (src/limit/rate-limiter.ts). */
  readonly #rate: RateLimiter;
  readonly #runtime = new WeakMap<CompiledUser, UserRuntime>();
  /** Per-user runtimes survive reloads when the user's metric identity is unchanged. */
  readonly #runtimeByKey = new Map<string, UserRuntime>();
  /** The latest refusals, for the status page. */
  readonly refusals = new RefusalRing(100);
  /** Which user each client connection counts against (for -maxConnectionsPerUser). */
  readonly #connectionOwners = new WeakMap<Socket, UserRuntime>();

  constructor(config: CompiledConfig, opts: GatewayOptions, metrics: Metrics, log: Logger, audit: AuditLog | null = null) {
    this.#opts = opts;
    this.#audit = audit;
    this.#metrics = metrics;
    this.#log = log;
    this.#global = new Semaphore(opts.maxConcurrentRequests);
    this.#identifier = new RequestIdentifier(opts.authHeaderNames, (req, r) => this.#jwtRefused(req, r));
    this.#inFlight = new InFlightRequests(opts.authHeaderNames);
    this.#rate = createRateLimiter(opts, metrics, log);
    this.#forwarder = new Forwarder(opts, metrics, log, (req, res, err) => this.#refuseUnsafeClaim(req, res, err));
    metrics.gauge('vmauth_concurrent_requests_capacity', () => this.#global.capacity);
    metrics.gauge('vmauth_concurrent_requests_current', () => this.#global.current);
    this.#config = config;
    this.#prepare(config);
  }

  get config(): CompiledConfig { return this.#config; }

  get rateStore(): RateStore { return this.#rate.store; }

  /** Atomically replaces the config; requests in flight finish on the snapshot they started with. */
  swapConfig(next: CompiledConfig): void {
    this.#prepare(next);
    const prev = this.#config;
    this.#config = next;
    prev.jwt?.authenticator.close();
    void this.#inFlight.revalidate(next, this.#log);
    // Stops discovery of the old snapshot and returns its pool leases once its requests finish.
    for (const s of prev.backendSets) s.retire();
  }

  #prepare(config: CompiledConfig): void {
    this.#metrics.hasUnauthorizedUser = config.unauthorizedUser !== null;
    const users = config.unauthorizedUser !== null ? [...config.users, config.unauthorizedUser] : config.users;
    const budgets = { maxBufferedBytes: this.#opts.maxBufferedBytesPerUser, maxConnections: this.#opts.maxConnectionsPerUser };
    for (const u of users) {
      const stats = u.kind === 'unauthorized' ? this.#metrics.unauthorized : this.#metrics.userStats(u.metricLabels);
      const key = u.kind === 'unauthorized' ? '\0unauthorized' : JSON.stringify(u.metricLabels);
      const capacity = this.#opts.userLimitShare?.(u.maxConcurrentRequests) ?? u.maxConcurrentRequests;
      let rt = this.#runtimeByKey.get(key);
      if (rt === undefined) { rt = new UserRuntime(stats, new Semaphore(capacity), budgets); this.#runtimeByKey.set(key, rt); }
      rt.limit.capacity = capacity;
      stats.capacity = capacity;
      this.#runtime.set(u, rt);
    }
  }

  /** Entry point for proxied requests. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const start = performance.now();
    // listen
    const target = parseRequestTarget(req.url ?? '/');
    if (target === null) {
      const status = refuse(res, this.#metrics, 'bad_request_target', 'cannot parse the request path: invalid percent-encoding');
      this.#auditAnonymous(req, null, status, 'bad_request_target');
      return;
    }
    const config = this.#config;
    if (config.ipFilter !== null && !this.#ipAllowed(config.ipFilter, req)) {
      const status = refuse(res, this.#metrics, 'ip_denied', 'access from this IP address is denied');
      this.#auditAnonymous(req, null, status, 'ip_denied');
      return;
    }
    // identify
    const id = this.#identifier.identify(config, req);
    if (id instanceof Promise) id.then((i) => this.#identified(i, req, res, config, target, start), (err) => this.#crashed(res, err));
    else this.#identified(id, req, res, config, target, start);
  }

  #identified(id: Identity, req: IncomingMessage, res: ServerResponse, config: CompiledConfig, target: RequestTarget, start: number): void {
    if (id.kind === 'user') { void this.#serve(newRequestContext(req, res, start, config, target, this.#opts.maxQueueDurationMs, id.user, id.access, this.#runtime.get(id.user) as UserRuntime)); return; }
    if (id.kind === 'missing') {
      const status = refuse(res, this.#metrics, 'missing_auth', "missing 'Authorization' request header", { 'www-authenticate': 'Basic realm="Restricted"' });
      this.#access(config.unauthorizedUser, req, status, start, 'unauthorized');
      this.#auditAnonymous(req, null, status, 'missing_auth');
      return;
    }
    if (id.kind === 'limited') {
      const status = refuse(res, this.#metrics, 'login_rate_limited', id.message, { 'retry-after': String(id.retryAfterSeconds) });
      this.#auditAnonymous(req, null, status, 'login_rate_limited');
      return;
    }
    void this.#rejectInvalidCredentials(req, res, config.unauthorizedUser, start);
  }

  /** The stages after identification, for one user's request. */
  async #serve(ctx: RequestContext): Promise<void> {
    const { res, runtime } = ctx;
    const stats = runtime.stats;
    stats.requests++;
    // 'close' comes once per response; after a finished one the check makes it a no-op, so the
    // listener need not be removed.
    res.on('close', () => { if (!res.writableFinished) ctx.gone.abort(); });
    this.#inFlight.add(ctx);
    const held: Held = { user: false, global: false, bytes: 0, ticket: null };
    try {
      // A stage answers synchronously when nothing needs waiting (no remote rate store, no body,
      // free slots), so a plain GET awaits only the backend.
      if (!this.#authorize(ctx)) return;
      const rate = this.#admitRate(ctx, held);
      if (!(rate === true || (rate !== false && await rate))) return;
      if (!this.#route(ctx)) return;
      const body = this.#readBody(ctx, held);
      if (!(body === true || (body !== false && await body))) return;
      const slots = this.#acquireSlots(ctx, held);
      if (!(slots === true || (slots !== false && await slots))) return;
      stats.current++;
      try {
        if (ctx.route?.tenant != null && !await this.#enforce(ctx)) return;
        ctx.status = await this.#forwarder.forward(ctx);
      } finally {
        stats.current--;
      }
    } catch (err) {
      this.#log.error('unexpected error while proxying', { error: (err as Error).stack ?? String(err) });
      stats.errors++;
      if (!res.headersSent) { sendText(res, 500, 'internal error'); ctx.status = 500; } else res.destroy();
    } finally {
      held.ticket?.release();
      if (held.global) this.#global.release();
      if (held.user) runtime.limit.release();
      if (held.bytes > 0) runtime.releaseBytes(held.bytes);
      this.#inFlight.remove(ctx);
      this.#observe(ctx);
    }
  }

  /**
   * admit, part zero: the user's rate limits (`limits:`), before any slot is taken or byte read,
   * so a user over its limit costs nobody else anything.
   */
  #admitRate(ctx: RequestContext, held: Held): boolean | Promise<boolean> {
    const admission = this.#rate.admit(ctx.user, ctx.req, ctx.target.path, ctx.access);
    if (admission === null) return true;
    if (admission instanceof Promise) return admission.then((a) => this.#rateDecided(ctx, held, a));
    return this.#rateDecided(ctx, held, admission);
  }

  #rateDecided(ctx: RequestContext, held: Held, a: Admission): boolean {
    if (a.kind === 'refuse') {
      ctx.status = this.#rate.respond(ctx.res, a);
      ctx.reason = this.#rate.refusalReason(ctx.req) ?? 'rate_limited';
      return false;
    }
    held.ticket = a;
    return true;
  }

  /** authorize: the user's own IP filter. */
  #authorize(ctx: RequestContext): boolean {
    const f = ctx.user.ipFilter;
    if (f === null || this.#ipAllowed(f, ctx.req)) return true;
    this.#refuse(ctx, 'ip_denied', 'access from this IP address is denied for this user');
    return false;
  }

  /**
   * admit, part one: the user's connection cap, then the body — bounded by the user's share of
   * body memory and by the -maxQueueDuration budget, and read before any concurrency slot is
   * taken, so a client trickling its body holds no slot. A tenant route reads the whole body
   * here (up to its max_body_size), since enforcement needs all of it. False when answered here.
   */
  #readBody(ctx: RequestContext, held: Held): boolean | Promise<boolean> {
    const { req, res, user, runtime } = ctx;
    if (!runtime.claimConnection(req.socket, this.#connectionOwners)) {
      res.shouldKeepAlive = false;
      runtime.stats.limitReached++;
      this.#refuse(ctx, 'user_connection_limit',
        `the user ${user.logName} already has -maxConnectionsPerUser=${this.#opts.maxConnectionsPerUser} open connections`, { 'retry-after': '10' });
      return false;
    }
    if (!hasBody(req)) return true;
    return this.#bufferBody(ctx, held);
  }

  /** The body part of admit: reserved against the user's memory share, then read within the deadline. */
  async #bufferBody(ctx: RequestContext, held: Held): Promise<boolean> {
    const { req, user, runtime } = ctx;
    const opts = this.#opts;
    const policy = ctx.route?.tenant ?? null;
    const limit = policy !== null ? policy.bodyLimit(req.method ?? 'GET', ctx.target.path) : null;
    const maxBuf = Math.max(opts.requestBufferSize, opts.maxRequestBodySizeToRetry);
    const declared = declaredLength(req);
    if (limit !== null && declared > limit.bytes) return this.#refuseBound(ctx, limit.refusal);
    const bytes = limit !== null ? (declared >= 0 ? declared : limit.bytes) : declared > 0 && declared <= Math.max(maxBuf, WHOLE_BODY_MAX) ? declared : maxBuf;
    if (!runtime.reserveBytes(bytes)) {
      this.#refuse(ctx, 'user_buffer_limit',
        `the user ${user.logName} already holds ${runtime.bufferedBytes} bytes of request bodies in memory; -maxBufferedBytesPerUser=${opts.maxBufferedBytesPerUser}`, { 'retry-after': '10' });
      return false;
    }
    held.bytes = bytes;
    const bufferStart = performance.now();
    // A tenant body is read whole whatever its size: with a declared length, straight into one buffer.
    const buffering = bufferBody(req, maxBuf, Math.max(0, ctx.deadline - performance.now()), limit !== null ? Math.max(limit.bytes, WHOLE_BODY_MAX) : WHOLE_BODY_MAX);
    let body = buffering instanceof Promise ? await buffering : buffering;
    if (body.kind === 'stream' && limit !== null) {
      const reading = readWholeBody(body, limit.bytes, Math.max(0, ctx.deadline - performance.now()));
      const whole = reading instanceof Promise ? await reading : reading;
      if (whole === 'too-large') return this.#refuseBound(ctx, limit.refusal);
      body = whole === 'timeout' ? { kind: 'timeout', bytes: -1 } : whole === 'error' ? { kind: 'error', error: new Error('cannot read the rest of the body') } : whole === null ? NO_BODY : { kind: 'whole', data: whole };
    }
    this.#metrics.bufferBody.observe((performance.now() - bufferStart) / 1000);
    if (body.kind === 'timeout') {
      this.#refuse(ctx, 'reject_slow_client',
        `reject request from the user ${user.logName} because the request body couldn't be read in -maxQueueDuration=${opts.maxQueueDurationMs / 1000}s${body.bytes >= 0 ? `; read ${body.bytes} bytes` : ''}`);
      req.destroy();
      return false;
    }
    if (body.kind === 'error') {
      this.#refuse(ctx, 'body_read_error', `cannot read request body: ${body.error.message}`);
      return false;
    }
    if (body.kind === 'stream') watchStreamIdle(req, opts.requestBodyIdleTimeoutMs);
    ctx.body = body;
    return true;
  }

  /**
   * admit, part two: the user's concurrency slot, then a global one, within what is left of the
   * -maxQueueDuration budget. A user at its own limit waits without holding a global slot.
   */
  #acquireSlots(ctx: RequestContext, held: Held): boolean | Promise<boolean> {
    if (!ctx.runtime.limit.tryAcquire()) return this.#waitForSlots(ctx, held);
    held.user = true;
    if (!this.#global.tryAcquire()) return this.#waitForSlots(ctx, held);
    held.global = true;
    return true;
  }

  /** The slots that were not free at once, waited for within what is left of the budget. */
  async #waitForSlots(ctx: RequestContext, held: Held): Promise<boolean> {
    const { user, runtime, gone } = ctx;
    const queueSeconds = this.#opts.maxQueueDurationMs / 1000;
    held.user = held.user || await runtime.limit.acquire(ctx.deadline - performance.now(), gone);
    if (!held.user) {
      if (gone.aborted) { this.#metrics.requestError('client_canceled'); ctx.reason = 'client_canceled'; return false; }
      runtime.stats.limitReached++;
      this.#refuse(ctx, 'concurrency_limit',
        `cannot start executing the request during -maxQueueDuration=${queueSeconds}s because ${runtime.limit.capacity} concurrent requests from the user ${user.logName} are executed`,
        { 'retry-after': '10' });
      return false;
    }
    held.global = this.#global.tryAcquire() || await this.#global.acquire(ctx.deadline - performance.now(), gone);
    if (!held.global) {
      if (gone.aborted) { this.#metrics.requestError('client_canceled'); ctx.reason = 'client_canceled'; return false; }
      this.#metrics.inc('vmauth_concurrent_requests_limit_reached_total');
      this.#refuse(ctx, 'concurrency_limit',
        `cannot start executing the request during -maxQueueDuration=${queueSeconds}s because -maxConcurrentRequests=${this.#global.capacity} concurrent requests are executed`,
        { 'retry-after': '10' });
      return false;
    }
    return true;
  }

  /** route: the url_map entry or default_url, its IP filter, and the headers it sets. */
  #route(ctx: RequestContext): boolean {
    const { req, res, user, target } = ctx;
    const sel = selectRoute(ctx.config, user, target, req);
    if (sel.kind === 'route') {
      ctx.route = sel.route;
      ctx.isDefaultUrl = sel.isDefaultUrl;
    } else if (sel.kind === 'ask_credentials') {
      return this.#refuse(ctx, 'missing_auth', "missing 'Authorization' request header", { 'www-authenticate': 'Basic realm="Restricted"' });
    } else {
      ctx.runtime.stats.errors++;
      const dump = user.dumpRequestOnErrors ? ' ' + debugInfo(req, target) : '';
      if (user.dumpRequestOnErrors) this.#log.warn(`user ${user.logName} missing route for ${JSON.stringify(redactUri(targetString(target)))}${dump}`);
      this.#refuse(ctx, 'missing_route', `missing route for ${JSON.stringify(redactUri(targetString(target)))}${dump}`);
      return false;
    }
    const route = ctx.route;
    const denied = route.guard === null ? null : checkRouteGuard(route.guard, target.path);
    if (denied !== null) {
      ctx.status = refuseGuarded(res, this.#metrics, this.#log, user, target.path, denied, ctx.config.usersByCredential.size > 0);
      ctx.reason = ctx.status === 401 ? REFUSALS.missing_auth.reason : REFUSALS[denied.reason].reason;
      return false;
    }
    if (route.ipFilter !== null && !this.#ipAllowed(route.ipFilter, req)) {
      this.#refuse(ctx, 'ip_denied', 'access from this IP address is denied for this route');
      return false;
    }
    ctx.headerOps = route.requestHeaders;
    if (ctx.access !== null && route.headerTemplate !== null) {
      try {
        ctx.headerOps = renderHeaders(route.headerTemplate, ctx.access).map(([name, value]): HeaderOp => ({ name, lower: name.toLowerCase(), value }));
      } catch (err) {
        if (!(err instanceof JwtPlaceholderValueError)) throw err;
        ctx.status = this.#refuseUnsafeClaim(req, res, err);
        ctx.reason = err.unscoped ? REFUSALS.jwt_tenant_unscoped.reason : REFUSALS.jwt_claim_unsafe.reason;
        return false;
      }
    }
    return true;
  }

  /** enforce: the route's tenant policy rewrites the request or refuses it. */
  async #enforce(ctx: RequestContext): Promise<boolean> {
    const policy = (ctx.route as NonNullable<RequestContext['route']>).tenant as NonNullable<NonNullable<RequestContext['route']>['tenant']>;
    const route = ctx.route as NonNullable<RequestContext['route']>;
    const lookup = { req: ctx.req, route, headerOps: ctx.headerOps, access: ctx.access, removeXffValue: this.#opts.removeXffValue };
    const d = await applyTenantPolicy(policy, {
      req: ctx.req, target: ctx.target, body: ctx.body, headerOps: ctx.headerOps, access: ctx.access,
      bodyDeadlineMs: Math.max(0, ctx.deadline - performance.now()), userKey: ctx.user.logName, gone: ctx.gone,
    }, (decision) => resolveTenantDecision(decision, lookup));
    switch (d.kind) {
      case 'forward': {
        if (d.samples !== undefined) {
          const over = this.#rate.chargeWriteSamples(ctx.user, ctx.req, d.samples);
          const o = over instanceof Promise ? await over : over;
          if (o !== null) {
            ctx.status = this.#rate.respond(ctx.res, o);
            ctx.reason = this.#rate.refusalReason(ctx.req) ?? 'rate_limited';
            return false;
          }
        }
        ctx.target = d.target;
        ctx.body = d.body;
        ctx.headerOps = d.headerOps;
        ctx.responseFilter = d.responseFilter;
        ctx.tenantAccess = d.access;
        return true;
      }
      case 'body':
        if (d.bound !== undefined) return this.#refuseBound(ctx, d.bound);
        this.#refuse(ctx, d.code, d.message);
        if (d.code === 'reject_slow_client') ctx.req.destroy();
        return false;
      case 'refuse':
        this.#metrics.requestError(d.reason);
        sendTenantRefusal(ctx.res, d);
        ctx.status = d.status;
        ctx.reason = d.reason;
        return false;
      case 'needs_lookup':
        throw new Error('a tenant lookup was left unresolved');
    }
  }

  /** observe: duration, the access log line and the audit trail. */
  #observe(ctx: RequestContext): void {
    ctx.runtime.stats.duration.observe((performance.now() - ctx.start) / 1000);
    this.#access(ctx.user, ctx.req, ctx.status, ctx.start, ctx.user.logName);
    if (this.#audit !== null) auditRequest(this.#audit, ctx);
    if (ctx.reason !== '' && ctx.reason !== 'client_canceled') this.refusals.add({ at: Date.now(), user: ctx.user.logName, method: ctx.req.method ?? '', path: pathOnly(ctx.req.url), status: ctx.status, reason: ctx.reason });
  }

  /** The live state of a user of the current config (counters, limits), for the status page. */
  userRuntime(user: CompiledUser): UserRuntime | undefined {
    return this.#runtime.get(user);
  }

  get globalSlots(): { readonly current: number; readonly capacity: number } {
    return { current: this.#global.current, capacity: this.#global.capacity };
  }

  /** Answers the request from the gateway's error catalogue; always false, to end the stage. */
  #refuse(ctx: RequestContext, code: RefusalCode, message: string, headers?: Record<string, string>): false {
    ctx.status = refuse(ctx.res, this.#metrics, code, message, headers);
    ctx.reason = REFUSALS[code].reason;
    return false;
  }

  /**
   * A body over a tenant bound: refused before or while reading. The rest of the body is never
   * read, so the connection cannot carry another request.
   */
  #refuseBound(ctx: RequestContext, r: TenantRefusal): false {
    this.#metrics.requestError(r.reason);
    sendText(ctx.res, r.status, r.message, { connection: 'close' });
    ctx.status = r.status;
    ctx.reason = r.reason;
    return false;
  }

  /** A refusal before the caller is known (bad target, IP filter, missing or invalid credentials). */
  #auditAnonymous(req: IncomingMessage, user: CompiledUser | null, status: number, code: RefusalCode): void {
    this.refusals.add({ at: Date.now(), user: user?.logName ?? '', method: req.method ?? '', path: pathOnly(req.url), status, reason: REFUSALS[code].reason });
    this.#audit?.record({ event: 'refusal', user: user?.logName ?? '', method: req.method ?? '', path: pathOnly(req.url), status, reason: REFUSALS[code].reason, remote_addr: clientAddr(req) });
  }

  #jwtRefused(req: IncomingMessage, r: JwtRefusal): void {
    this.#metrics.requestError(r.code.toLowerCase().replace(/^err_/, ''));
    // Every refused token is logged with its reason; never the token or its claims.
    this.#log.warn(`JWT refused: ${r.code}: ${r.detail}`, { remote_addr: clientAddr(req), request_uri: redactUri(req.url ?? '') });
    this.#audit?.record({ event: 'jwt_rejected', reason_code: r.code, method: req.method ?? '', path: pathOnly(req.url), remote_addr: clientAddr(req) });
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
    this.#auditAnonymous(req, null, 401, 'invalid_auth_token');
  }

  #crashed(res: ServerResponse, err: unknown): void {
    this.#log.error('unexpected error while identifying the request', { error: (err as Error).stack ?? String(err) });
    if (!res.headersSent) sendText(res, 500, 'internal error'); else res.destroy();
  }

  #ipAllowed(filter: IpFilter, req: IncomingMessage): boolean {
    const trusted = filter.trustedProxies ?? this.#opts.compile.trustedProxies ?? null;
    return filter.allows(realClientIp(clientIp(req), req.headers, filter.realIpHeader ?? this.#opts.realIpHeader, trusted));
  }

  /** A claim value that would change the URL or a header line beyond its placeholder. */
  #refuseUnsafeClaim(req: IncomingMessage, res: ServerResponse, err: JwtPlaceholderValueError): number {
    this.#log.warn(`JWT refused: ${err.unscoped ? 'ERR_JWT_TENANT_UNSCOPED' : 'ERR_JWT_CLAIM_UNSAFE'}: ${err.message}`, { remote_addr: clientAddr(req), request_uri: redactUri(req.url ?? '') });
    if (err.unscoped) return refuse(res, this.#metrics, 'jwt_tenant_unscoped', `the token's vm_access names no tenant for ${err.placeholder}`);
    return refuse(res, this.#metrics, 'jwt_claim_unsafe', "the token's vm_access claim cannot be used for this request");
  }

  #access(user: CompiledUser | null, req: IncomingMessage, status: number, start: number, name: string): void {
    if (user === null || user.accessLog === null || user.accessLog.skipStatusCodes.has(status)) return;
    logAccess(this.#log, req, status, performance.now() - start, name, this.#rate.refusalReason(req));
  }
}

/** Concurrency slots, body memory and a rate-limit ticket one request holds, released when it ends. */
interface Held { user: boolean; global: boolean; bytes: number; ticket: RateTicket | null }

const NO_BODY: BufferedBody = { kind: 'none' };

/** The Content-Length the client announced, or -1 (chunked or absent). Node enforces it. */
function declaredLength(req: IncomingMessage): number {
  const cl = req.headers['content-length'];
  return cl !== undefined && req.headers['transfer-encoding'] === undefined ? Number(cl) : -1;
}

/**
 * A body that continues as a stream must keep arriving: after `idleMs` without a byte the
 * connection is closed, so a client trickling its body cannot hold a global slot indefinitely.
 */
function watchStreamIdle(req: IncomingMessage, idleMs: number): void {
  if (idleMs <= 0) return;
  const socket = req.socket;
  // A PROXY-protocol TLS connection is a plain Duplex without socket timeouts.
  if (typeof socket.setTimeout !== 'function') return;
  socket.setTimeout(idleMs);
  req.once('end', () => socket.setTimeout(0));
}

function clientAddr(req: IncomingMessage): string {
  return `${clientIp(req)}:${clientPort(req)}`;
}

function debugInfo(req: IncomingMessage, target: RequestTarget): string {
  return `(host: ${JSON.stringify(req.headers.host ?? '')}; path: ${JSON.stringify(target.path)}; args: ${JSON.stringify(redactUri('?' + target.rawQuery).slice(1))}; headers: ${JSON.stringify(redactHeaders(req.rawHeaders))})`;
}

