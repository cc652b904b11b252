// Byte-level protobuf building blocks, for requests no well-behaved encoder would produce.

export function varint(n: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  while (v >= 0x80n) { out.push(Number(v & 0x7fn) | 0x80); v >>= 7n; }
  out.push(Number(v));
  return out;
}

export function tag(field: number, wireType: number): number[] {
  return varint(field * 8 + wireType);
}

export function bytes(...parts: Array<number[] | Uint8Array>): Uint8Array {
  const flat: number[] = [];
  for (const p of parts) flat.push(...p);
  return Uint8Array.from(flat);
}

/** A length-delimited field. */
export function ld(field: number, ...content: Array<number[] | Uint8Array>): number[] {
  const body = [...bytes(...content)];
  return [...tag(field, 2), ...varint(body.length), ...body];
}

export function str(field: number, s: string): number[] {
  return ld(field, [...Buffer.from(s, 'utf8')]);
}

export function label(name: string, value: string): number[] {
  return ld(1, str(1, name), str(2, value));
}

/** A Sample message body: double value = 1, int64 timestamp = 2. */
export function sample(value: number, timestamp: number): number[] {
  const d = Buffer.alloc(8);
  d.writeDoubleLE(value);
  return [...tag(1, 1), ...d, ...tag(2, 0), ...varint(timestamp)];
}

export function series(...fields: number[][]): number[] {
  return ld(1, ...fields);
}
