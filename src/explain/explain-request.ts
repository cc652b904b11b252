// "What would the gateway do with this request?" — answered from the compiled config alone, by
// running the same stage functions the pipeline runs (identification, route matching, the
// tenant policy, backend URL and header building) on a request that is never sent. The answer
// names the user and how it was matched (never a secret), the route with its config line, the
// backends, the headers set and removed, the tenant classification, and the request exactly as
// it would be forwarded — or the refusal with its status and reason.
import { urlWithoutQuery } from '../observe/secrets.ts';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { LineCounter, parseDocument, isNode } from 'yaml';
import type { CompiledConfig, CompiledUser, HeaderOp, RouteOptions } from '../config/model.ts';
import { applyTenantPolicy } from '../enforce/tenant/apply-policy.ts';
import { describeTenantScope, tenantEnforceKind } from '../enforce/tenant/describe.ts';
import { REFUSALS, type RefusalCode } from '../errors/catalogue.ts';
import type { BackendTarget } from '../forward/backend-set.ts';
import { renderTarget } from '../forward/forward-request.ts';
import { buildRequestHeaders } from '../forward/request-headers.ts';
import { RequestIdentifier } from '../identify/identify-request.ts';
import { JwtPlaceholderValueError, renderHeaders, type VmAccess } from '../identify/jwt/index.ts';
import { selectRoute } from '../route/select-route.ts';
import { checkRouteGuard } from '../authorize/route-guard.ts';
import { parseRequestTarget, type RequestTarget } from '../route/request-target.ts';
import { buildDefaultUrlPath, buildTargetPath } from '../route/target-url.ts';
import { redactUri } from '../observe/access-log.ts';

export interface ExplainInput {
  readonly method: string;
  /** Path and query, as the client would send it: `/api/v1/query?query=up`. */
  readonly url: string;
  /** Request headers, credentials included (`Authorization: Basic …`). */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer | null;
  /** Pick a user by `name` or `username` without credentials (operators' view). */
  readonly userName?: string | undefined;
  /** Pick a JWT user by these claims, as if a valid token carried them (no signature needed). */
  readonly jwtClaims?: Readonly<Record<string, unknown>> | undefined;
}

export interface ExplainContext {
  /** Header names credentials are read from (-httpAuthHeader), lower-case. */
  readonly authHeaderNames: readonly string[];
  /** The config text, to name the config line of the user and route; optional. */
  readonly configText?: string | undefined;
  readonly removeXffValue?: boolean;
}

export interface Explanation {
  readonly request: { readonly method: string; readonly path: string; readonly query: string };
  readonly user: {
    readonly name: string;
    readonly kind: string;
    /** How the user was found: `credentials`, `client_certificate`, `jwt_claims`, `name`, `unauthorized_user`. */
    readonly matched_by: string;
    readonly config: string;
    readonly line?: number | undefined;
  } | null;
  readonly route: {
    readonly kind: 'url_map' | 'url_prefix' | 'default_url';
    readonly config: string;
    readonly line?: number | undefined;
    readonly backends: readonly string[];
    readonly load_balancing_policy: string;
    readonly headers_set: readonly string[];
    readonly headers_removed: readonly string[];
  } | null;
  readonly tenant: { readonly scope: string; readonly enforce: string; readonly access: string } | null;
  readonly decision: 'forward' | 'refuse' | 'needs_lookup';
  /** With needs_lookup: what the gateway would read from the backend before deciding. */
  readonly lookup?: { readonly path: string; readonly why: string };
  readonly refusal?: { readonly status: number; readonly reason: string; readonly message: string };
  readonly forward?: {
    /** One entry per backend: what that backend would receive. */
    readonly requests: readonly { readonly backend: string; readonly method: string; readonly path: string; readonly headers: readonly string[] }[];
    /** The body as forwarded: text when printable and short, else its size. */
    readonly body: string | null;
    readonly body_bytes: number;
  };
}

/** Header names whose values are credentials: explain shows them as `***`. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'x-auth-token']);

export async function explainRequest(config: CompiledConfig, input: ExplainInput, ctx: ExplainContext): Promise<Explanation> {
  const qi = input.url.indexOf('?');
  const request = { method: input.method.toUpperCase(), path: qi < 0 ? input.url : input.url.slice(0, qi), query: qi < 0 ? '' : input.url.slice(qi + 1) };
  const lines = ctx.configText !== undefined ? configLines(ctx.configText) : null;
  const refuseWith = (code: RefusalCode, message: string, rest: Partial<Explanation> = {}): Explanation => ({
    request, user: null, route: null, tenant: null, ...rest, decision: 'refuse', refusal: { status: REFUSALS[code].status, reason: REFUSALS[code].reason, message },
  });
  const target = parseRequestTarget(input.url);
  if (target === null) return refuseWith('bad_request_target', 'cannot parse the request path: invalid percent-encoding');
  const req = fakeRequest(request.method, input.url, input.headers);
  const authHeaders = ctx.authHeaderNames.map((h) => h.toLowerCase());

  // identify
  let user: CompiledUser | null = null;
  let access: VmAccess | null = null;
  let matchedBy = '';
  if (input.userName !== undefined) {
    user = findUserByName(config, input.userName);
    matchedBy = 'name';
    if (user === null) return refuseWith('invalid_auth_token', `no user named ${JSON.stringify(input.userName)} in the config`);
  } else if (input.jwtClaims !== undefined) {
    if (config.jwt === null) return refuseWith('invalid_auth_token', 'the config has no jwt users');
    const r = config.jwt.authenticator.selectByClaims(input.jwtClaims);
    if (!r.ok) return { ...refuseWith('invalid_auth_token', `${r.code}: ${r.detail}`) };
    user = config.jwt.users.get(r.index) ?? null;
    access = r.access;
    matchedBy = 'jwt_claims';
  } else {
    const refusals: string[] = [];
    const identifier = new RequestIdentifier(authHeaders, (_req, r) => refusals.push(`${r.code}: ${r.detail}`));
    const id = await identifier.identify(config, req);
    if (id.kind === 'missing') return refuseWith('missing_auth', "missing 'Authorization' request header");
    if (id.kind === 'limited') return refuseWith('login_rate_limited', id.message);
    if (id.kind === 'invalid') return refuseWith('invalid_auth_token', refusals.length > 0 ? `invalid credentials (${refusals.join('; ')})` : 'invalid credentials: they match no user');
    user = id.user;
    access = id.access;
    matchedBy = user.kind === 'unauthorized' ? 'unauthorized_user' : user.kind === 'mtls' ? 'client_certificate' : user.kind === 'jwt' ? 'jwt' : 'credentials';
  }
  if (user === null) return refuseWith('invalid_auth_token', 'no user matched');
  const userPath = userConfigPath(config, user);
  const userInfo = { name: user.logName, kind: user.kind, matched_by: matchedBy, config: userPath, line: lines?.get(userPath) };

  // route
  const sel = selectRoute(config, user, target, req);
  if (sel.kind === 'ask_credentials') return refuseWith('missing_auth', "missing 'Authorization' request header", { user: userInfo });
  if (sel.kind === 'missing_route') return refuseWith('missing_route', `missing route for ${JSON.stringify(input.url)}`, { user: userInfo });
  const route: RouteOptions = sel.route;
  const kind: 'url_map' | 'url_prefix' | 'default_url' = sel.isDefaultUrl ? 'default_url' : sel.entry !== null ? 'url_map' : 'url_prefix';
  const routePath = sel.isDefaultUrl ? `${userPath}.default_url` : sel.entry !== null ? `${userPath}.url_map[${sel.entry.index}]` : userPath;
  const denied = route.guard === null ? null : checkRouteGuard(route.guard, target.path);
  if (denied !== null) {
    if (denied.reason === 'path_denied' && user.kind === 'unauthorized' && config.usersByCredential.size > 0) return refuseWith('missing_auth', "missing 'Authorization' request header", { user: userInfo });
    return refuseWith(denied.reason, denied.message, { user: userInfo });
  }
  let headerOps: readonly HeaderOp[] = route.requestHeaders;
  if (access !== null && route.headerTemplate !== null) {
    try {
      headerOps = renderHeaders(route.headerTemplate, access).map(([name, value]): HeaderOp => ({ name, lower: name.toLowerCase(), value }));
    } catch (err) {
      if (err instanceof JwtPlaceholderValueError) return refuseWith('jwt_claim_unsafe', "the token's vm_access claim cannot be used for this request", { user: userInfo });
      throw err;
    }
  }
  const set = route.backends;
  const routeInfo = (ops: readonly HeaderOp[]) => ({
    kind, config: routePath, line: lines?.get(routePath),
    backends: set.backends.map((b) => urlWithoutQuery(b.target.display, '?…')),
    load_balancing_policy: set.policy,
    headers_set: ops.filter((o) => o.value !== '').map((o) => `${o.name}: ${SECRET_HEADERS.has(o.lower) ? '***' : o.value}`),
    headers_removed: ops.filter((o) => o.value === '').map((o) => o.name),
  });

  // enforce
  let forwardTarget: RequestTarget = target;
  let body = input.body;
  let tenant: Explanation['tenant'] = null;
  if (route.tenant !== null) {
    const d = await applyTenantPolicy(route.tenant, {
      req, target, body: body === null ? { kind: 'none' } : { kind: 'whole', data: body }, headerOps, access, bodyDeadlineMs: 0, userKey: user.logName,
    }, async (decision) => (decision.kind === 'lookup' ? { kind: 'needs_lookup', path: decision.path } : decision));
    const scope = describeTenantScope(route.tenant);
    const enforce = tenantEnforceKind(route.tenant);
    if (d.kind === 'refuse') {
      return { request, user: userInfo, route: routeInfo(headerOps), tenant: { scope, enforce, access: '' }, decision: 'refuse', refusal: { status: d.status, reason: d.reason, message: d.message } };
    }
    if (d.kind === 'body') {
      if (d.bound !== undefined) return { request, user: userInfo, route: routeInfo(headerOps), tenant: { scope, enforce, access: '' }, decision: 'refuse', refusal: { status: d.bound.status, reason: d.bound.reason, message: d.bound.message } };
      return refuseWith(d.code, d.message, { user: userInfo, route: routeInfo(headerOps) });
    }
    if (d.kind === 'needs_lookup') {
      return { request, user: userInfo, route: routeInfo(headerOps), tenant: { scope, enforce, access: '' }, decision: 'needs_lookup', lookup: { path: d.path, why: 'the decision depends on who owns this object at the backend (e.g. a silence); explain contacts no backend' } };
    }
    tenant = { scope, enforce, access: d.access };
    forwardTarget = d.target;
    headerOps = d.headerOps;
    body = d.body.kind === 'whole' ? d.body.data : null;
  }

  // forward: what each backend of the route would receive
  const requests: { backend: string; method: string; path: string; headers: string[] }[] = [];
  for (const b of set.backends) {
    let t: BackendTarget = b.target;
    if (access !== null && t.template !== null && t.template.hasPlaceholders) {
      try { t = renderTarget(t, access); } catch (err) {
        if (err instanceof JwtPlaceholderValueError) return refuseWith('jwt_claim_unsafe', "the token's vm_access claim cannot be used for this request", { user: userInfo, route: routeInfo(headerOps), tenant });
        throw err;
      }
    }
    const host = route.keepOriginalHost ? (req.headers.host ?? t.host) : (route.hostOverride ?? t.host);
    const path = kind === 'default_url' ? buildDefaultUrlPath(t, forwardTarget) : buildTargetPath(t, forwardTarget, route.dropSrcPathPrefixParts, route.mergeQueryArgs);
    const raw = buildRequestHeaders(req, headerOps, { clientIp: '127.0.0.1', removeXffValue: ctx.removeXffValue ?? false, host, bodyInMemory: body !== null });
    const headers: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i] as string;
      headers.push(`${name}: ${SECRET_HEADERS.has(name.toLowerCase()) || authHeaders.includes(name.toLowerCase()) ? '***' : raw[i + 1] as string}`);
    }
    requests.push({ backend: urlWithoutQuery(t.display, '?…'), method: request.method, path: redactUri(path), headers });
  }
  return {
    request, user: userInfo, route: routeInfo(headerOps), tenant, decision: 'forward',
    forward: { requests, body: printableBody(body), body_bytes: body?.length ?? 0 },
  };
}

/** The users named `name` (by `name`, else `username`); JWT and mTLS users count by `name`. */
function findUserByName(config: CompiledConfig, name: string): CompiledUser | null {
  if (name === 'unauthorized_user') return config.unauthorizedUser;
  for (const u of config.users) if (u.logName === name || u.metricName === name) return u;
  return null;
}

function userConfigPath(config: CompiledConfig, user: CompiledUser): string {
  if (user === config.unauthorizedUser) return 'unauthorized_user';
  const i = config.users.indexOf(user);
  return i >= 0 ? `users[${i}]` : 'users[?]';
}

/** Line numbers of every user and url_map entry, keyed like `users[1].url_map[0]`. */
function configLines(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, schema: 'failsafe' });
  const put = (key: string, path: (string | number)[]) => {
    const node = doc.getIn(path, true);
    if (isNode(node) && node.range != null) out.set(key, lc.linePos(node.range[0]).line);
  };
  const users = doc.getIn(['users'], true) as { items?: unknown[] } | undefined;
  for (let i = 0; i < (users?.items?.length ?? 0); i++) {
    put(`users[${i}]`, ['users', i]);
    const maps = doc.getIn(['users', i, 'url_map'], true) as { items?: unknown[] } | undefined;
    for (let j = 0; j < (maps?.items?.length ?? 0); j++) put(`users[${i}].url_map[${j}]`, ['users', i, 'url_map', j]);
    put(`users[${i}].default_url`, ['users', i, 'default_url']);
  }
  put('unauthorized_user', ['unauthorized_user']);
  const uuMaps = doc.getIn(['unauthorized_user', 'url_map'], true) as { items?: unknown[] } | undefined;
  for (let j = 0; j < (uuMaps?.items?.length ?? 0); j++) put(`unauthorized_user.url_map[${j}]`, ['unauthorized_user', 'url_map', j]);
  return out;
}


function printableBody(body: Buffer | null): string | null {
  if (body === null) return null;
  if (body.length > 4096) return null;
  const text = body.toString('utf8');
  return /^[\x09\x0a\x0d\x20-\x7e\u00a0-\uffff]*$/.test(text) && !text.includes('\ufffd') ? text : null;
}

/** Just enough of an IncomingMessage for the stage functions: method, URL, headers, a socket. */
function fakeRequest(method: string, url: string, headers: readonly (readonly [string, string])[]): IncomingMessage {
  const rawHeaders: string[] = [];
  const map: IncomingHttpHeaders = {};
  for (const [name, value] of headers) {
    rawHeaders.push(name, value);
    const lower = name.toLowerCase();
    const prev = map[lower];
    if (prev === undefined) map[lower] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else map[lower] = lower === 'set-cookie' ? [prev, value] : `${prev}, ${value}`;
  }
  return { method, url, headers: map, rawHeaders, socket: { remoteAddress: '127.0.0.1', remotePort: 0 } } as unknown as IncomingMessage;
}
