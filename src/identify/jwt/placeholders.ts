// `{{.MetricsTenant}}`-style placeholders in url_prefix and request headers, filled from the
// token's vm_access. Compiled (and placement-checked) at config load, rendered per request.
//
// Placement follows vmauth (app/vmauth/jwt.go): in the URL path only the numeric tenant
// placeholders; in the query, any placeholder as the WHOLE value of an argument (lists expand
// into repeated arguments); in request headers, any placeholder as the whole value (lists joined
// with ","). Stricter than vmauth: list placeholders in the path, placeholders in the host, the
// query name or the fragment, and `{{` that is not a known placeholder are config errors.
//
// Rendering refuses, rather than escapes away, any value that could change the structure it
// lands in: a path value must be digits (and ":" for the tenant), a query value must not contain
// "&", "#" or control characters (it is also percent-encoded), a header value must not contain
// control characters (CR, LF, NUL...).
import { JwtPlaceholderConfigError, JwtPlaceholderValueError } from './errors.ts';
import type { VmAccess } from './vm-access.ts';

export const PLACEHOLDERS = [
  '{{.MetricsTenant}}',
  '{{.MetricsAccountID}}',
  '{{.MetricsProjectID}}',
  '{{.MetricsExtraLabels}}',
  '{{.MetricsExtraFilters}}',
  '{{.LogsAccountID}}',
  '{{.LogsProjectID}}',
  '{{.LogsExtraFilters}}',
  '{{.LogsExtraStreamFilters}}',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** The placeholders allowed in the URL path: they render to numbers only. */
export const PATH_PLACEHOLDERS: readonly Placeholder[] = [
  '{{.MetricsTenant}}',
  '{{.MetricsAccountID}}',
  '{{.MetricsProjectID}}',
  '{{.LogsAccountID}}',
  '{{.LogsProjectID}}',
];

const KNOWN: ReadonlySet<string> = new Set(PLACEHOLDERS);
const IN_PATH: ReadonlySet<string> = new Set(PATH_PLACEHOLDERS);
const SUPPORTED = PLACEHOLDERS.join(', ');

/** Tenant ids are never defaulted: a placeholder for a tenant the token does not name refuses the request. */
function requireTenant(access: VmAccess, ph: Placeholder): void {
  const metrics = ph === '{{.MetricsTenant}}' || ph === '{{.MetricsAccountID}}' || ph === '{{.MetricsProjectID}}';
  const logs = ph === '{{.LogsAccountID}}' || ph === '{{.LogsProjectID}}';
  if ((metrics && !access.metricsTenantGiven) || (logs && !access.logsTenantGiven)) {
    throw new JwtPlaceholderValueError(ph, `the token's vm_access does not set ${metrics ? 'metrics_account_id' : 'logs_account_id'}; refusing to default the tenant to 0`, true);
  }
}

function values(access: VmAccess, ph: Placeholder): readonly string[] {
  requireTenant(access, ph);
  switch (ph) {
    case '{{.MetricsTenant}}': return [`${access.metricsAccountId}:${access.metricsProjectId}`];
    case '{{.MetricsAccountID}}': return [String(access.metricsAccountId)];
    case '{{.MetricsProjectID}}': return [String(access.metricsProjectId)];
    case '{{.MetricsExtraLabels}}': return access.metricsExtraLabels;
    case '{{.MetricsExtraFilters}}': return access.metricsExtraFilters;
    case '{{.LogsAccountID}}': return [String(access.logsAccountId)];
    case '{{.LogsProjectID}}': return [String(access.logsProjectId)];
    case '{{.LogsExtraFilters}}': return access.logsExtraFilters;
    case '{{.LogsExtraStreamFilters}}': return access.logsExtraStreamFilters;
  }
}

/** True if the text contains the placeholder opener `{{` (raw or percent-encoded). */
export function containsPlaceholder(text: string): boolean {
  return text.includes('{{') || /%7b%7b/i.test(text);
}

/**
 * For places where placeholders are not allowed (users without `jwt`, response headers):
 * throws a config error naming `where`.
 */
export function rejectPlaceholders(text: string, where: string): void {
  if (containsPlaceholder(text)) throw new JwtPlaceholderConfigError(`${where}: placeholders are only allowed in url_prefix and request headers of jwt users`);
}

// ---- URL ----------------------------------------------------------------------------------

type PathPart = { readonly literal: string } | { readonly placeholder: Placeholder };
type QueryArg = { readonly raw: string } | { readonly rawName: string; readonly placeholder: Placeholder };

export interface CompiledUrlPrefix {
  readonly source: string;
  readonly hasPlaceholders: boolean;
  /** `scheme://authority`, as written. */
  readonly origin: string;
  readonly path: readonly PathPart[];
  /** `undefined` when the URL has no `?`. */
  readonly query: readonly QueryArg[] | undefined;
  /** Including the leading `#`, or "" */
  readonly fragment: string;
}

function decodeFormComponent(s: string, where: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw new JwtPlaceholderConfigError(`${where}: invalid percent-encoding`);
  }
}

function compilePath(path: string, url: string): PathPart[] {
  const parts: PathPart[] = [];
  let rest = path;
  for (;;) {
    const open = rest.indexOf('{{');
    if (open < 0) break;
    const close = rest.indexOf('}}', open);
    const token = close < 0 ? rest.slice(open) : rest.slice(open, close + 2);
    if (!KNOWN.has(token)) {
      throw new JwtPlaceholderConfigError(`url_prefix ${JSON.stringify(url)}: unknown placeholder ${JSON.stringify(token)} in the URL path; supported values are: ${SUPPORTED}`);
    }
    if (!IN_PATH.has(token)) {
      throw new JwtPlaceholderConfigError(`url_prefix ${JSON.stringify(url)}: ${token} is not allowed in the URL path; allowed there: ${PATH_PLACEHOLDERS.join(', ')}`);
    }
    if (open > 0) parts.push({ literal: rest.slice(0, open) });
    parts.push({ placeholder: token as Placeholder });
    rest = rest.slice(close + 2);
  }
  if (rest !== '') parts.push({ literal: rest });
  for (const p of parts) {
    if ('literal' in p && /%7b%7b/i.test(p.literal)) {
      throw new JwtPlaceholderConfigError(`url_prefix ${JSON.stringify(url)}: percent-encoded "{{" in the URL path is not a supported placeholder`);
    }
  }
  return parts;
}

function compileQuery(query: string, url: string): QueryArg[] {
  const args: QueryArg[] = [];
  for (const piece of query.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const rawName = eq < 0 ? piece : piece.slice(0, eq);
    const name = decodeFormComponent(rawName, `url_prefix ${JSON.stringify(url)}`);
    const value = eq < 0 ? '' : decodeFormComponent(piece.slice(eq + 1), `url_prefix ${JSON.stringify(url)}`);
    if (name.includes('{{')) {
      throw new JwtPlaceholderConfigError(`url_prefix ${JSON.stringify(url)}: query arg name ${JSON.stringify(name)} contains a placeholder; placeholders are only allowed as the whole value`);
    }
    if (value.includes('{{')) {
      if (!KNOWN.has(value)) {
        throw new JwtPlaceholderConfigError(`url_prefix ${JSON.stringify(url)}: query arg ${JSON.stringify(name)} has unsupported placeholder string ${JSON.stringify(value)}; it must be exactly one of: ${SUPPORTED}`);
      }
      args.push({ rawName, placeholder: value as Placeholder });
    } else {
      args.push({ raw: piece });
    }
  }
  return args;
}

/** Throws JwtPlaceholderConfigError for a malformed URL or a misplaced/unknown placeholder. */
export function compileUrlPrefix(url: string): CompiledUrlPrefix {
  const m = /^(https?:\/\/[^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/is.exec(url);
  if (m === null) throw new JwtPlaceholderConfigError(`url_prefix ${JSON.stringify(url)}: must be an absolute http:// or https:// URL`);
  const origin = m[1]!;
  if (containsPlaceholder(origin)) throw new JwtPlaceholderConfigError(`url_prefix ${JSON.stringify(url)}: placeholders are not allowed in the scheme or host`);
  const fragment = m[4] ?? '';
  if (containsPlaceholder(fragment)) throw new JwtPlaceholderConfigError(`url_prefix ${JSON.stringify(url)}: placeholders are not allowed in the fragment`);
  const path = compilePath(m[2] ?? '', url);
  const query = m[3] === undefined ? undefined : compileQuery(m[3].slice(1), url);
  const hasPlaceholders = path.some((p) => 'placeholder' in p) || (query?.some((a) => 'placeholder' in a) ?? false);
  const compiled: CompiledUrlPrefix = Object.freeze({ source: url, hasPlaceholders, origin, path: Object.freeze(path), query: query && Object.freeze(query), fragment });
  // the URL must also be valid once filled in; sample values have the worst-case shape
  try {
    assemble(compiled, (ph) => (ph === '{{.MetricsTenant}}' ? ['0:0'] : ['0']));
  } catch (err) {
    throw new JwtPlaceholderConfigError(`url_prefix ${JSON.stringify(url)}: not a valid URL: ${(err as Error).message}`);
  }
  return compiled;
}

const PATH_VALUE = /^[0-9]{1,10}(:[0-9]{1,10})?$/;
const QUERY_FORBIDDEN = /[&#\u0000-\u001f\u007f]/;

function pathValue(ph: Placeholder, v: string): string {
  // Digits (and one ":") only: nothing here can become "/", "..", "%2f", "?" or "#".
  if (!PATH_VALUE.test(v)) throw new JwtPlaceholderValueError(ph, 'value is not a numeric tenant id; refusing to put it in the URL path');
  return v;
}

function queryValue(ph: Placeholder, v: string): string {
  if (QUERY_FORBIDDEN.test(v)) throw new JwtPlaceholderValueError(ph, 'value contains "&", "#" or a control character; refusing to put it in a query argument');
  return encodeURIComponent(v);
}

function assemble(c: CompiledUrlPrefix, lookup: (ph: Placeholder) => readonly string[]): URL {
  let out = c.origin;
  for (const p of c.path) {
    if ('literal' in p) {
      out += p.literal;
    } else {
      const [v] = lookup(p.placeholder);
      out += pathValue(p.placeholder, v ?? '');
    }
  }
  if (c.query !== undefined) {
    const pieces: string[] = [];
    for (const a of c.query) {
      if ('raw' in a) {
        pieces.push(a.raw);
      } else {
        for (const v of lookup(a.placeholder)) pieces.push(`${a.rawName}=${queryValue(a.placeholder, v)}`);
      }
    }
    if (pieces.length > 0) out += `?${pieces.join('&')}`;
  }
  out += c.fragment;
  return new URL(out);
}

/** The backend URL for this request. Throws JwtPlaceholderValueError for an unsafe claim value. */
export function renderUrlPrefix(compiled: CompiledUrlPrefix, access: VmAccess): URL {
  if (!compiled.hasPlaceholders) return new URL(compiled.source);
  return assemble(compiled, (ph) => values(access, ph));
}

// ---- headers ------------------------------------------------------------------------------

type HeaderTemplate = { readonly name: string; readonly value: string } | { readonly name: string; readonly placeholder: Placeholder };

export interface CompiledHeaders {
  readonly hasPlaceholders: boolean;
  readonly headers: readonly HeaderTemplate[];
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Request headers as vmauth writes them (`"Name: value"`) or as `[name, value]` pairs.
 * A header value containing `{{` must be exactly one placeholder.
 */
export function compileHeaders(headers: readonly (string | readonly [string, string])[]): CompiledHeaders {
  const out: HeaderTemplate[] = headers.map((h) => {
    let name: string;
    let value: string;
    if (typeof h === 'string') {
      const colon = h.indexOf(':');
      if (colon <= 0) throw new JwtPlaceholderConfigError(`header ${JSON.stringify(h)}: expected "Name: value"`);
      name = h.slice(0, colon).trim();
      value = h.slice(colon + 1).trim();
    } else {
      [name, value] = h;
    }
    if (!HEADER_NAME.test(name)) throw new JwtPlaceholderConfigError(`header name ${JSON.stringify(name)} is not a valid HTTP header name`);
    if (value.includes('{{')) {
      if (!KNOWN.has(value)) {
        throw new JwtPlaceholderConfigError(`request header ${JSON.stringify(name)} has unsupported placeholder ${JSON.stringify(value)}; it must be exactly one of: ${SUPPORTED}`);
      }
      return Object.freeze({ name, placeholder: value as Placeholder });
    }
    if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) throw new JwtPlaceholderConfigError(`header ${JSON.stringify(name)}: value contains a control character`);
    return Object.freeze({ name, value });
  });
  return Object.freeze({ hasPlaceholders: out.some((h) => 'placeholder' in h), headers: Object.freeze(out) });
}

// Control characters could split the header line; characters beyond Latin-1 cannot be sent in
// an HTTP/1.1 header at all, and building the request would fail at the gateway, not the backend.
const HEADER_FORBIDDEN = /[\u0000-\u001f\u007f]|[^\u0000-\u00ff]/;

/**
 * `[name, value]` for every configured header, in order. List placeholders are joined with ",".
 * An empty value means "no value" (vmauth removes such headers from the proxied request); the
 * gateway must always overwrite client-sent headers of these names. Throws
 * JwtPlaceholderValueError when a value contains a control character (CR, LF, NUL, ...).
 */
export function renderHeaders(compiled: CompiledHeaders, access: VmAccess): [string, string][] {
  return compiled.headers.map((h): [string, string] => {
    if ('value' in h) return [h.name, h.value];
    const list = values(access, h.placeholder);
    for (const v of list) {
      if (HEADER_FORBIDDEN.test(v)) throw new JwtPlaceholderValueError(h.placeholder, 'value contains a control character or a character outside Latin-1; refusing to put it in a header');
    }
    return [h.name, list.join(',')];
  });
}
