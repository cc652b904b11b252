// Small typed accessors for untrusted, already-parsed YAML/JSON values. Each names the field it
// checks so errors point at the exact place in the object.
import { IsolationError } from './errors.ts';

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function obj(v: unknown, field: string): Obj {
  if (!isObj(v)) throw new IsolationError('ERR_ISOLATE_OBJECT', field, 'must be a mapping');
  return v;
}

export function optObj(v: unknown, field: string): Obj | undefined {
  return v === undefined || v === null ? undefined : obj(v, field);
}

export function arr(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new IsolationError('ERR_ISOLATE_OBJECT', field, 'must be a list');
  return v;
}

export function str(v: unknown, field: string): string {
  if (typeof v !== 'string') throw new IsolationError('ERR_ISOLATE_OBJECT', field, 'must be a string');
  return v;
}

export function optStr(v: unknown, field: string): string | undefined {
  return v === undefined || v === null ? undefined : str(v, field);
}

export function strList(v: unknown, field: string): string[] {
  return arr(v, field).map((x, i) => str(x, `${field}[${i}]`));
}

export function strMap(v: unknown, field: string): Record<string, string> {
  const o = optObj(v, field) ?? {};
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(o)) out[k] = str(x, `${field}.${k}`);
  return out;
}

/** Rejects keys of `o` outside `allowed`, naming the first one. */
export function onlyKeys(o: Obj, allowed: readonly string[], field: string, why = 'is not supported by tenantgate isolate'): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new IsolationError('ERR_ISOLATE_UNSUPPORTED', field === '' ? k : `${field}.${k}`, why);
  }
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}
