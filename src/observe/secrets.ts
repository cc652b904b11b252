// The one masking list: which names (query args, headers, flags, config keys) hold secrets, and
// how values carrying them (URIs, URLs, header lists, flag values) are shown in logs, /metrics,
// /flags and error messages. Every place that prints something a client or an operator
// configured goes through here, so widening the list widens it everywhere at once.

/** Shown instead of a secret value. */
export const MASK = '***';

/**
 * Words that make a name secret, matched against the name's parts (split at `-`, `_`, `.`,
 * spaces and lower→upper case changes) and against the whole name run together: `X-Vault-Token`,
 * `api_key`, `authKey`, `sessionid`, `X-Amz-Security-Token` all match; `monkey` and `tokenizer` do not.
 */
const SECRET_WORDS: ReadonlySet<string> = new Set([
  'authkey', 'authorization', 'authtoken', 'apikey', 'accesskey', 'secretkey', 'privatekey',
  'key', 'token', 'jwt', 'bearer', 'password', 'passwd', 'pass', 'pwd', 'passphrase', 'secret',
  'session', 'sessionid', 'sid', 'cookie', 'credential', 'credentials', 'signature', 'sig',
  'license', 'licence', 'otp', 'csrf', 'xsrf',
]);

const NOT_SECRET_LAST: ReadonlySet<string> = new Set(['file', 'files', 'dir', 'path', 'header', 'headers', 'flags', 'user', 'username', 'name', 'type', 'url']);

/** Header names that carry credentials without a secret word in them. */
const SECRET_HEADER_NAMES: ReadonlySet<string> = new Set(['set-cookie', 'proxy-authorization']);

/** Names configured at run time (-httpAuthHeader, -secret.flags) that hold secrets too. */
const extraSecretNames = new Set<string>();

export function addSecretName(name: string): void {
  extraSecretNames.add(name.toLowerCase());
}

/** True when a query arg, header, flag or config key of this name holds a secret. */
export function isSecretName(name: string): boolean {
  const lower = name.toLowerCase();
  if (extraSecretNames.has(lower) || SECRET_HEADER_NAMES.has(lower)) return true;
  const parts = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z0-9]+/).filter((p) => p !== '');
  // `tlsKeyFile`, `httpAuthHeader`, `X-Auth-User` name where a secret is, or who; they hold none.
  if (parts.length > 1 && NOT_SECRET_LAST.has(parts[parts.length - 1] as string)) return false;
  for (const p of parts) if (SECRET_WORDS.has(p)) return true;
  // `id_token`, `accessToken` and `x-api-key` match by part; `apikey` and `sessiontoken` by suffix.
  const joined = parts.join('');
  if (SECRET_WORDS.has(joined)) return true;
  for (const w of ['token', 'password', 'secret', 'authkey', 'apikey', 'sessionid', 'jwt']) if (joined.endsWith(w)) return true;
  return false;
}

/** Masks the values of query args whose names look like credentials: `a=1&token=***`. */
export function redactQuery(rawQuery: string): string {
  if (rawQuery === '') return rawQuery;
  return rawQuery.split('&').map((p) => {
    const eq = p.indexOf('=');
    let name = eq < 0 ? p : p.slice(0, eq);
    try { name = decodeURIComponent(name.replace(/\+/g, ' ')); } catch { /* keep raw */ }
    if (!isSecretName(name)) return p;
    return eq < 0 ? p : `${p.slice(0, eq)}=${MASK}`;
  }).join('&');
}

/** A request URI (`/path?query`) with secret query args masked. */
export function redactUri(uri: string): string {
  const q = uri.indexOf('?');
  if (q < 0) return uri;
  const hash = uri.indexOf('#', q);
  const query = hash < 0 ? uri.slice(q + 1) : uri.slice(q + 1, hash);
  return uri.slice(0, q + 1) + redactQuery(query) + (hash < 0 ? '' : uri.slice(hash));
}

/**
 * An absolute URL for messages: the password of `user:password@` and secret query args masked.
 * Text that is not a URL is returned unchanged.
 */
export function redactUrl(text: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*@)?(.*)$/is.exec(text);
  if (m === null) return text;
  let userinfo = m[2] ?? '';
  if (userinfo !== '') {
    const colon = userinfo.indexOf(':');
    userinfo = colon < 0 ? userinfo : `${userinfo.slice(0, colon)}:${MASK}@`;
  }
  return m[1] + userinfo + redactUri(m[3] as string);
}

/**
 * A backend URL for messages and pages: no query string, which may hold auth keys; `marker` (e.g.
 * `?…`) says that one was there.
 */
export function urlWithoutQuery(display: string, marker = ''): string {
  const q = display.indexOf('?');
  return q < 0 ? display : display.slice(0, q) + marker;
}

/** Every URL inside free text (an error message, a flag list) redacted. */
export function redactUrlsIn(text: string): string {
  return text.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (u) => redactUrl(u));
}

/** `Name: value` lines of a raw header list, secret values masked. */
export function redactHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    out.push(`${name}: ${isSecretName(name) ? MASK : raw[i + 1] as string}`);
  }
  return out;
}

/** How a flag's value is shown at /flags and in the `flag` metric. */
export function redactFlagValue(name: string, value: string, declaredSecret: boolean): string {
  if (value === '') return value;
  if (declaredSecret || isSecretName(name)) return 'secret';
  return redactUrlsIn(value);
}
