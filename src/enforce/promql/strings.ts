/**
 * PromQL string literals: decoding with Go (`strconv.Unquote`) semantics, as
 * the Prometheus lexer does, and canonical re-quoting. Every string we print
 * goes through `quotePromqlString`, so no user byte ever reaches the output
 * outside a literal we closed ourselves.
 */

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/** Thrown by the decoder with the offset (inside the literal) of the bad escape. */
export class StringLiteralError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Decodes a complete literal token (quotes included). Rejects what Go's
 * unquoting rejects: unterminated literals, unknown escapes, the other
 * quote's escape, surrogate code points, and invalid UTF-8 made of \x/octal bytes.
 */
export function decodePromqlString(raw: string): string {
  const quote = raw.charCodeAt(0);
  if (raw.length < 2 || (quote !== 34 && quote !== 39 && quote !== 96)) {
    throw new StringLiteralError('string literal is not terminated', raw.length);
  }
  if (quote === 96) {
    if (raw.charCodeAt(raw.length - 1) !== 96) throw new StringLiteralError('raw string literal is not terminated', raw.length);
    // Go drops carriage returns from raw strings.
    return checkWellFormed(raw.slice(1, -1).replaceAll('\r', ''), 1);
  }
  const body = raw.slice(1);
  if (!body.includes('\\')) {
    const end = body.indexOf(String.fromCharCode(quote));
    if (end !== body.length - 1) throw new StringLiteralError('string literal is not terminated', raw.length);
    const value = body.slice(0, -1);
    if (value.includes('\n')) throw new StringLiteralError('newline in string literal', 1 + value.indexOf('\n'));
    return checkWellFormed(value, 1);
  }
  return decodeEscaped(raw, quote);
}

function decodeEscaped(raw: string, quote: number): string {
  const bytes: number[] = [];
  let i = 1;
  for (;;) {
    if (i >= raw.length) throw new StringLiteralError('string literal is not terminated', raw.length);
    const c = raw.charCodeAt(i);
    if (c === quote) {
      if (i !== raw.length - 1) throw new StringLiteralError('unexpected text after string literal', i + 1);
      break;
    }
    if (c === 10) throw new StringLiteralError('newline in string literal', i);
    if (c !== 92) {
      // Copy a run of plain characters (keeping surrogate pairs together).
      let j = i + 1;
      while (j < raw.length) {
        const d = raw.charCodeAt(j);
        if (d === 92 || d === quote || d === 10) break;
        j++;
      }
      const run = raw.slice(i, j);
      checkWellFormed(run, i);
      for (const b of utf8Encoder.encode(run)) bytes.push(b);
      i = j;
      continue;
    }
    const at = i;
    const e = raw.charCodeAt(i + 1);
    i += 2;
    switch (e) {
      case 97: bytes.push(7); break; // \a
      case 98: bytes.push(8); break; // \b
      case 102: bytes.push(12); break; // \f
      case 110: bytes.push(10); break; // \n
      case 114: bytes.push(13); break; // \r
      case 116: bytes.push(9); break; // \t
      case 118: bytes.push(11); break; // \v
      case 92: bytes.push(92); break;
      case 34:
      case 39:
        if (e !== quote) throw new StringLiteralError(`escape \\${String.fromCharCode(e)} is not allowed in this literal`, at);
        bytes.push(e);
        break;
      case 120: { // \xHH → one byte
        const v = readHex(raw, i, 2, at);
        bytes.push(v);
        i += 2;
        break;
      }
      case 117: // \uHHHH
      case 85: { // \UHHHHHHHH
        const n = e === 117 ? 4 : 8;
        const v = readHex(raw, i, n, at);
        i += n;
        if ((v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff) throw new StringLiteralError('escape is not a valid Unicode code point', at);
        for (const b of utf8Encoder.encode(String.fromCodePoint(v))) bytes.push(b);
        break;
      }
      default: {
        if (e >= 48 && e <= 55) { // \ooo → one byte
          let v = 0;
          for (let k = 0; k < 3; k++) {
            const d = raw.charCodeAt(at + 1 + k);
            if (!(d >= 48 && d <= 55)) throw new StringLiteralError('octal escape needs three digits', at);
            v = v * 8 + (d - 48);
          }
          if (v > 255) throw new StringLiteralError('octal escape is above \\377', at);
          bytes.push(v);
          i = at + 4;
          break;
        }
        throw new StringLiteralError(`unknown escape sequence \\${Number.isNaN(e) ? '' : String.fromCharCode(e)}`, at);
      }
    }
  }
  try {
    return utf8Decoder.decode(new Uint8Array(bytes));
  } catch {
    throw new StringLiteralError('string literal is not valid UTF-8', 0);
  }
}

function readHex(raw: string, start: number, n: number, at: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const h = hexValue(raw.charCodeAt(start + k));
    if (h < 0) throw new StringLiteralError(`escape needs ${n} hexadecimal digits`, at);
    v = v * 16 + h;
  }
  return v;
}

function checkWellFormed(value: string, offset: number): string {
  if (!value.isWellFormed()) throw new StringLiteralError('string literal is not valid UTF-8', offset);
  return value;
}

const NEEDS_ESCAPE = /[\\"\u0000-\u001f\u007f]/;

/** Double-quoted PromQL literal whose decoded value is exactly `value`. */
export function quotePromqlString(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return `"${value}"`;
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 92) out += '\\\\';
    else if (c === 34) out += '\\"';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += value[i];
  }
  return out + '"';
}

const RE2_META = /[\\.+*?()|[\]{}^$]/g;

/** Escapes RE2 metacharacters so the value matches only itself (like Go's regexp.QuoteMeta). */
export function escapeRegex(value: string): string {
  return value.replace(RE2_META, '\\$&');
}
