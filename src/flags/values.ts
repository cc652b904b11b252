// Parsers for Go-style flag values: durations as Go's time.ParseDuration accepts them
// (plus VictoriaMetrics' `d`/`w`/`y` suffixes) and byte sizes as VictoriaMetrics' flagutil.Bytes.

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000,
  d: 86_400_000, w: 7 * 86_400_000, y: 365 * 86_400_000,
};

/** Parses `1m30s`, `250ms`, `10s`, `0`; returns milliseconds or throws with what was expected. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === '0' || s === '-0' || s === '+0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d|w|y)/y;
  let i = 0;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') { sign = s[0] === '-' ? -1 : 1; i = 1; }
  if (i >= s.length) throw new Error(`invalid duration ${JSON.stringify(text)}; expected e.g. 10s, 1m30s, 250ms`);
  let total = 0;
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (m === null) throw new Error(`invalid duration ${JSON.stringify(text)}; expected e.g. 10s, 1m30s, 250ms`);
    total += Number(m[1]) * (DURATION_UNITS_MS[m[2] as string] as number);
    i = re.lastIndex;
  }
  return sign * total;
}

export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = ms;
  const h = Math.floor(rest / 3_600_000); rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000); rest -= m * 60_000;
  if (h) parts.push(`${h}h`);
  if (m) parts.push(`${m}m`);
  if (rest || parts.length === 0) parts.push(rest % 1000 === 0 ? `${rest / 1000}s` : `${rest}ms`);
  return parts.join('');
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1, B: 1,
  KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12,
  KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4,
};

/** Parses `16KiB`, `1MB`, `32768`; returns bytes or throws with what was expected. */
export function parseBytes(text: string): number {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*$/.exec(text);
  if (m === null) throw new Error(`invalid size ${JSON.stringify(text)}; expected a number with an optional KB, MB, GB, KiB, MiB or GiB suffix`);
  return Math.round(Number(m[1]) * (SIZE_UNITS[m[2] ?? ''] as number));
}

export function formatBytes(n: number): string {
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  }
  return String(n);
}

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's strconv.ParseBool. */
export function parseBool(text: string): boolean {
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  throw new Error(`invalid boolean ${JSON.stringify(text)}; expected true or false`);
}

export function parseInteger(text: string): number {
  if (!/^[+-]?\d+$/.test(text.trim())) throw new Error(`invalid integer ${JSON.stringify(text)}`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`integer out of range: ${text}`);
  return n;
}

/**
 * Splits an array flag value on commas the way VictoriaMetrics' flagutil does: commas inside
 * quotes or brackets do not split, so `-mergeQueryArgs='a,b'` gives two values.
 */
export function splitArrayValue(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = '';
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      cur += c;
      if (c === '\\' && i + 1 < text.length) { cur += text[++i]; continue; }
      if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'") { quote = c; cur += c; continue; }
    if (c === '[' || c === '{' || c === '(') depth++;
    if ((c === ']' || c === '}' || c === ')') && depth > 0) depth--;
    if (c === ',' && depth === 0) { out.push(unquote(cur)); cur = ''; continue; }
    cur += c;
  }
  out.push(unquote(cur));
  return out;
}

function unquote(s: string): string {
  if (s.length >= 2 && ((s[0] === '"' && s.endsWith('"')) || (s[0] === "'" && s.endsWith("'")))) {
    const body = s.slice(1, -1);
    return s[0] === '"' ? body.replace(/\\(.)/g, '$1') : body;
  }
  return s;
}
