// `match_claims`: dot paths into the token's claims, each compared with an RE2 regex against the
// WHOLE claim value (vmauth matches substrings; anchoring by default is deliberate: `role: admin`
// must not match `not-admin`). Regexes are compiled once at config load.
import { RE2JS } from 're2js';

export interface ClaimMatcher {
  /** The key as written in the config, e.g. `vm_access.metrics_account_id`. */
  readonly key: string;
  readonly pattern: string;
  readonly path: readonly string[];
  readonly re: RE2JS;
}

/** Splits `a.b\.c.d` into `['a', 'b.c', 'd']`: a backslash before a dot makes it literal. */
export function splitClaimPath(key: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < key.length; i++) {
    const ch = key[i];
    if (ch === '\\' && key[i + 1] === '.') {
      current += '.';
      i++;
    } else if (ch === '.') {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  if (parts.some((p) => p === '')) throw new Error(`claim name ${JSON.stringify(key)} has an empty path segment`);
  return parts;
}

/** Throws an Error naming the offending key when a name or regex is invalid. */
export function compileMatchClaims(matchClaims: Readonly<Record<string, string>>): ClaimMatcher[] {
  return Object.entries(matchClaims).map(([key, pattern]) => {
    const path = splitClaimPath(key);
    let re: RE2JS;
    try {
      re = RE2JS.compile(pattern);
    } catch (err) {
      throw new Error(`claim ${JSON.stringify(key)}: invalid RE2 regex ${JSON.stringify(pattern)}: ${(err as Error).message}`);
    }
    return Object.freeze({ key, pattern, path: Object.freeze(path), re });
  });
}

/** A canonical text of a claim set, used to detect two sections with identical conditions. */
export function claimSetSignature(matchClaims: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(matchClaims).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : undefined;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return undefined; // objects, arrays, null never match
}

function lookup(root: unknown, path: readonly string[], from: number): unknown {
  let cur = root;
  for (let i = from; i < path.length; i++) {
    const seg = path[i]!;
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9][0-9]{0,8})$/.test(seg)) return undefined;
      cur = cur[Number(seg)];
    } else if (typeof cur === 'object' && cur !== null) {
      // own properties only: a path like `constructor` or `__proto__` must never reach Object.prototype
      if (!Object.hasOwn(cur, seg)) return undefined;
      cur = (cur as Record<string, unknown>)[seg];
    } else {
      return undefined;
    }
  }
  return cur;
}

/**
 * The claims view used for matching. `vmAccessObject` is the parsed value when the token carries
 * `vm_access` as a JSON string, so `vm_access.metrics_account_id` works for both encodings.
 */
export interface ClaimsView {
  readonly claims: Readonly<Record<string, unknown>>;
  readonly vmAccessObject: unknown;
}

function matchOne(view: ClaimsView, m: ClaimMatcher): boolean {
  let value: unknown;
  if (m.path[0] === 'vm_access' && m.path.length > 1 && view.vmAccessObject !== undefined) {
    value = lookup(view.vmAccessObject, m.path, 1);
  } else {
    value = lookup(view.claims, m.path, 0);
  }
  if (m.path.length === 1 && m.path[0] === 'scope' && typeof value === 'string') {
    // RFC 8693 §4.2: `scope` is a space-separated list; match each scope on its own.
    return value.split(' ').some((s) => s !== '' && m.re.testExact(s));
  }
  if (Array.isArray(value)) {
    for (const el of value) {
      const text = scalarText(el);
      if (text !== undefined && m.re.testExact(text)) return true;
    }
    return false;
  }
  const text = scalarText(value);
  return text !== undefined && m.re.testExact(text);
}

export function matchesAll(view: ClaimsView, matchers: readonly ClaimMatcher[]): boolean {
  for (const m of matchers) {
    if (!matchOne(view, m)) return false;
  }
  return true;
}
