// The parts of Go's net/url that decide what vmauth sends to a backend: path unescaping,
// path re-escaping, query parsing (ParseQuery) and encoding (Values.Encode, sorted by key).
// Reproducing them keeps tenantgate byte-compatible with what backends see behind vmauth.

const HEX = '0123456789ABCDEF';

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Percent-decodes `s` (UTF-8). `plusIsSpace` is the query-component mode.
 * Returns null on a malformed escape, as Go's url.unescape errors.
 */
export function unescape(s: string, plusIsSpace: boolean): string | null {
  if (s.indexOf('%') < 0 && (!plusIsSpace || s.indexOf('+') < 0)) return s;
  // Native decoding for well-formed UTF-8 escapes (the common case); anything it rejects
  // (malformed escapes, escapes of invalid UTF-8) goes through the byte-exact path below.
  try {
    return decodeURIComponent(plusIsSpace ? s.replaceAll('+', ' ') : s);
  } catch {
    return unescapeBytes(s, plusIsSpace);
  }
}

/** The byte-exact decoder behind unescape (exported for the equivalence test). */
export function unescapeBytes(s: string, plusIsSpace: boolean): string | null {
  const bytes: number[] = [];
  let changed = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 /* % */) {
      if (i + 2 >= s.length) return null;
      const h = hexVal(s.charCodeAt(i + 1));
      const l = hexVal(s.charCodeAt(i + 2));
      if (h < 0 || l < 0) return null;
      bytes.push(h * 16 + l);
      i += 2;
      changed = true;
    } else if (c === 43 /* + */ && plusIsSpace) {
      bytes.push(32);
      changed = true;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      for (const b of Buffer.from(s.slice(i, i + (c >= 0xd800 && c <= 0xdbff ? 2 : 1)), 'utf8')) bytes.push(b);
      if (c >= 0xd800 && c <= 0xdbff) i++;
    }
  }
  return changed ? Buffer.from(bytes).toString('utf8') : s;
}

// Go's shouldEscape for encodePath: unreserved and `$&+,/:;=@` stay, everything else is escaped.
const PATH_SAFE = new Uint8Array(128);
// Go's shouldEscape for encodeQueryComponent: only unreserved characters stay.
const QUERY_SAFE = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  const unreserved = /[A-Za-z0-9\-_.~]/.test(ch);
  QUERY_SAFE[c] = unreserved ? 1 : 0;
  PATH_SAFE[c] = unreserved || '$&+,/:;=@'.includes(ch) ? 1 : 0;
}

function escapeWith(s: string, safe: Uint8Array, spaceAsPlus: boolean): string {
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || safe[c] === 0) break;
  }
  if (i === s.length) return s;
  let out = s.slice(0, i);
  const rest = Buffer.from(s.slice(i), 'utf8');
  for (const b of rest) {
    if (b < 128 && safe[b] === 1) out += String.fromCharCode(b);
    else if (b === 32 && spaceAsPlus) out += '+';
    else out += '%' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

const PCT: string[] = [];
for (let c = 0; c < 128; c++) PCT.push('%' + HEX[c >> 4] + HEX[c & 15]);

/** One pass over ASCII with precomputed escapes; non-ASCII text takes the byte-level path. */
function escapeAscii(s: string, safe: Uint8Array, spaceAsPlus: boolean): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128) return escapeWith(s, safe, spaceAsPlus);
    if (safe[c] === 1) continue;
    out += s.slice(last, i) + (c === 32 && spaceAsPlus ? '+' : PCT[c] as string);
    last = i + 1;
  }
  return last === 0 ? s : out + s.slice(last);
}

export const escapePath = (s: string): string => escapeAscii(s, PATH_SAFE, false);
export const queryEscape = (s: string): string => escapeAscii(s, QUERY_SAFE, true);

/** The byte-level escapers behind escapePath / queryEscape (exported for the equivalence test). */
export const escapePathBytes = (s: string): string => escapeWith(s, PATH_SAFE, false);
export const queryEscapeBytes = (s: string): string => escapeWith(s, QUERY_SAFE, true);

/** Query args in first-seen key order, values in order, like Go's url.Values. */
export type QueryValues = Map<string, string[]>;

/**
 * Go's url.ParseQuery: `&`-separated, `+` is space; pairs with a `;` in the key or a malformed
 * escape are dropped (Go returns an error for them and vmauth ignores it).
 */
export function parseQuery(raw: string): QueryValues {
  const out: QueryValues = new Map();
  if (raw === '') return out;
  let start = 0;
  while (start <= raw.length) {
    let end = raw.indexOf('&', start);
    if (end < 0) end = raw.length;
    const pair = raw.slice(start, end);
    start = end + 1;
    if (pair === '' ) { if (end === raw.length) break; continue; }
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    if (rawKey.indexOf(';') >= 0) continue;
    const key = unescape(rawKey, true);
    const value = unescape(eq < 0 ? '' : pair.slice(eq + 1), true);
    if (key === null || value === null) continue;
    const list = out.get(key);
    if (list === undefined) out.set(key, [value]); else list.push(value);
    if (end === raw.length) break;
  }
  return out;
}

/** Go's url.Values.Encode: keys sorted (by UTF-16 code units, as Go sorts bytes for ASCII keys). */
export function encodeQuery(values: QueryValues): string {
  const keys = [...values.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let out = '';
  for (const k of keys) {
    const ek = queryEscape(k);
    for (const v of values.get(k) as string[]) {
      if (out !== '') out += '&';
      out += ek + '=' + queryEscape(v);
    }
  }
  return out;
}
