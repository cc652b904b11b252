// The tenant's labels, validated once and pre-encoded as ready-to-copy protobuf Label fields.
import { RemoteWriteError } from './errors.ts';
import { isValidLabelNameString, type LabelNameRule } from './label-names.ts';
import { varintSize, writeVarint32 } from './wire.ts';

export type TenantLabelPairs = ReadonlyArray<readonly [name: string, value: string]>;

export interface PreparedTenantLabels {
  readonly count: number;
  /** UTF-8 names, sorted bytewise (the order labels must have on the wire). */
  readonly names: readonly Uint8Array[];
  readonly values: readonly string[];
  /** Each label as a complete `TimeSeries.labels` field: tag, length, Label message. */
  readonly fields: readonly Uint8Array[];
  /** Sum of `fields` lengths. */
  readonly fieldBytes: number;
  /** 1 at each byte value some tenant name starts with: most client names are ruled out by one load. */
  readonly startsName: Uint8Array;
}

function tenantError(message: string): RemoteWriteError {
  return new RemoteWriteError('ERR_RW_TENANT_LABELS', 500, `unusable tenant labels for remote write: ${message}`);
}

export function compareBytes(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): number {
  const aLen = aEnd - aStart;
  const bLen = bEnd - bStart;
  const n = aLen < bLen ? aLen : bLen;
  for (let i = 0; i < n; i++) {
    const d = a[aStart + i]! - b[bStart + i]!;
    if (d !== 0) return d;
  }
  return aLen - bLen;
}

/**
 * Validates and encodes the labels every written series must carry. An empty list, an empty
 * value (Prometheus treats `x=""` as "no label x") or a repeated name (a multi-valued tenant:
 * which value would a written series belong to?) would each let data escape the tenant, so
 * they are refused rather than guessed at.
 */
export function prepareTenantLabels(labels: TenantLabelPairs, rule: LabelNameRule = 'legacy'): PreparedTenantLabels {
  if (labels.length === 0) throw tenantError('no labels given; refusing to write series without a tenant');
  const entries = labels.map(([name, value]) => {
    if (typeof name !== 'string' || typeof value !== 'string') throw tenantError('names and values must be strings');
    if (!isValidLabelNameString(name, rule)) throw tenantError(`invalid label name ${JSON.stringify(name)}`);
    if (value === '') throw tenantError(`label ${JSON.stringify(name)} has an empty value`);
    return { name: Buffer.from(name, 'utf8'), value: Buffer.from(value, 'utf8'), valueString: value };
  });
  entries.sort((a, b) => compareBytes(a.name, 0, a.name.length, b.name, 0, b.name.length));
  for (let i = 1; i < entries.length; i++) {
    const prev = entries[i - 1]!.name;
    const cur = entries[i]!.name;
    if (compareBytes(prev, 0, prev.length, cur, 0, cur.length) === 0) {
      throw tenantError(`label ${JSON.stringify(cur.toString('utf8'))} is given more than once (a multi-valued tenant cannot write)`);
    }
  }
  const fields = entries.map(({ name, value }) => encodeLabelField(name, value));
  return {
    count: entries.length,
    names: entries.map((e) => new Uint8Array(e.name)),
    values: entries.map((e) => e.valueString),
    fields,
    fieldBytes: fields.reduce((n, f) => n + f.length, 0),
    startsName: Uint8Array.from({ length: 256 }, (_, b) => (entries.some((e) => e.name[0] === b) ? 1 : 0)),
  };
}

function encodeLabelField(name: Uint8Array, value: Uint8Array): Uint8Array {
  const body = 1 + varintSize(name.length) + name.length + 1 + varintSize(value.length) + value.length;
  const out = new Uint8Array(1 + varintSize(body) + body);
  let p = 0;
  out[p++] = 0x0a; // TimeSeries.labels, field 1, LEN
  p = writeVarint32(out, p, body);
  out[p++] = 0x0a; // Label.name
  p = writeVarint32(out, p, name.length);
  out.set(name, p); p += name.length;
  out[p++] = 0x12; // Label.value
  p = writeVarint32(out, p, value.length);
  out.set(value, p); p += value.length;
  return out;
}

/**
 * For callers whose tenant model allows several values per label (read access to several
 * tenants): returns the single-valued pairs a write needs, or throws 403-style
 * ERR_RW_TENANT_LABELS when some label has zero or several values.
 */
export function writeLabelsForTenant(tenant: Readonly<Record<string, string | readonly string[]>>): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const [name, raw] of Object.entries(tenant)) {
    const values = typeof raw === 'string' ? [raw] : raw;
    if (values.length !== 1) {
      throw new RemoteWriteError('ERR_RW_TENANT_LABELS', 403,
        `tenant label ${JSON.stringify(name)} has ${values.length} values; only a tenant with exactly one value per label can write`);
    }
    pairs.push([name, values[0]!]);
  }
  return pairs;
}
