// Label-name rules. Names are checked on the raw UTF-8 bytes, before anything is decoded to
// a JS string, because the walker never materialises client labels as strings.
import { isUtf8 } from 'node:buffer';

/**
 * 'legacy': `[a-zA-Z_][a-zA-Z0-9_]*`, what the remote-write 1.0 spec requires and every
 * Prometheus before 3.0 accepts. 'utf8': any non-empty valid UTF-8 (Prometheus 3 UTF-8 names).
 */
export type LabelNameRule = 'legacy' | 'utf8';

const LEGACY_FIRST = new Uint8Array(256);
const LEGACY_REST = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const letter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
  const digit = c >= 0x30 && c <= 0x39;
  LEGACY_FIRST[c] = letter ? 1 : 0;
  LEGACY_REST[c] = letter || digit ? 1 : 0;
}

/** Returns a reason when `buf[start, end)` is not an acceptable label name, else undefined. */
export function labelNameProblem(buf: Uint8Array, start: number, end: number, rule: LabelNameRule): string | undefined {
  if (end <= start) return 'empty label name';
  if (rule === 'legacy') {
    if (LEGACY_FIRST[buf[start]!] === 0) return `label name ${quoteBytes(buf, start, end)} does not match [a-zA-Z_][a-zA-Z0-9_]*`;
    for (let i = start + 1; i < end; i++) {
      if (LEGACY_REST[buf[i]!] === 0) return `label name ${quoteBytes(buf, start, end)} does not match [a-zA-Z_][a-zA-Z0-9_]*`;
    }
    return undefined;
  }
  for (let i = start; i < end; i++) {
    if (buf[i]! >= 0x80) {
      return isUtf8(buf.subarray(start, end)) ? undefined : `label name ${quoteBytes(buf, start, end)} is not valid UTF-8`;
    }
  }
  return undefined;
}

export function isValidLabelNameString(name: string, rule: LabelNameRule): boolean {
  const bytes = Buffer.from(name, 'utf8');
  return labelNameProblem(bytes, 0, bytes.length, rule) === undefined;
}

/** A short, printable rendering of client bytes for error messages. */
export function quoteBytes(buf: Uint8Array, start: number, end: number): string {
  const shown = Buffer.from(buf.buffer, buf.byteOffset + start, Math.min(end - start, 64)).toString('utf8');
  return JSON.stringify(shown) + (end - start > 64 ? '…' : '');
}
