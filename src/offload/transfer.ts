// What crosses the thread boundary by transfer rather than by copy.

/**
 * The buffer to transfer between threads instead of copying `b`, or null. Only a body over
 * 64 KiB that owns its whole buffer qualifies: one socket read is at most 64 KiB, so a body
 * that is still the socket's own chunk is always copied, and a smaller body copies for less
 * than a transfer costs. Copying large bodies through the thread boundary made V8 collect the
 * main thread's whole heap several times a second (docs/performance.md).
 */
export function transferableBody(b: Uint8Array | null | undefined): ArrayBuffer | null {
  if (b === null || b === undefined || b.byteLength <= 64 * 1024 || b.byteOffset !== 0) return null;
  const buf = b.buffer;
  return buf instanceof ArrayBuffer && buf.byteLength === b.byteLength ? buf : null;
}
