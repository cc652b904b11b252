// RE2 regexes matched against a whole value, as vmauth anchors them (`^(?:re)$`).
// re2js guarantees linear-time matching whatever the pattern; the literal and literal-prefix
// fast paths skip it for the common `src_paths` shapes (`/api/v1/query`, `/select/.*`).
import { RE2JS } from 're2js';

export interface WholeMatcher {
  readonly source: string;
  test(value: string): boolean;
}

export class RegexError extends Error {
  readonly code = 'ERR_REGEX';
}

const META = new Set('\\.+*?()|[]{}^$'.split(''));

/** Returns the literal text of `pattern` if it has no regex meaning (escaped punctuation allowed). */
function literalOf(pattern: string): string | null {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const n = pattern[i + 1];
      if (n === undefined || /[A-Za-z0-9]/.test(n)) return null;
      out += n;
      i++;
      continue;
    }
    if (META.has(c)) return null;
    out += c;
  }
  return out;
}

export function compileWholeMatch(pattern: string): WholeMatcher {
  let re: RE2JS;
  try {
    re = RE2JS.compile(`^(?:${pattern})$`);
  } catch (err) {
    throw new RegexError(`invalid RE2 regex ${JSON.stringify(pattern)}: ${(err as Error).message}`);
  }
  const literal = literalOf(pattern);
  if (literal !== null) return { source: pattern, test: (v) => v === literal };
  // `prefix.*`: `.` does not match a newline in RE2, so the rest must not contain one.
  if (pattern.endsWith('.*')) {
    const prefix = literalOf(pattern.slice(0, -2));
    if (prefix !== null) return { source: pattern, test: (v) => v.startsWith(prefix) && v.indexOf('\n', prefix.length) < 0 };
  }
  if (pattern.endsWith('.+')) {
    const prefix = literalOf(pattern.slice(0, -2));
    if (prefix !== null) {
      return { source: pattern, test: (v) => v.length > prefix.length && v.startsWith(prefix) && v.indexOf('\n', prefix.length) < 0 };
    }
  }
  return { source: pattern, test: (v) => re.matches(v) };
}
