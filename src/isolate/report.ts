// The machine-readable record of a compilation (`tenantgate isolate --report FILE`): one entry per
// object saying whether it was compiled unchanged, compiled with changes (which fields), or
// refused (every reason). Deterministic — no timestamps — so it can be committed and diffed in a
// GitOps pull request.
import type { IsolationError, SourceRef } from './errors.ts';

export type ObjectStatus = 'compiled' | 'changed' | 'refused';

export interface ObjectRecord {
  kind: string;
  namespace: string;
  name: string;
  source: SourceRef;
  status: ObjectStatus;
  /** JSON-pointer paths the hardening added, replaced or removed (values are never included). */
  changes: { op: 'add' | 'remove' | 'replace'; path: string }[];
  warnings: string[];
  errors: { code: string; field: string; reason: string }[];
}

export interface CompileReport {
  version: 1;
  label: string;
  flavor: string;
  policy: string | null;
  summary: { objects: number; compiled: number; changed: number; refused: number };
  objects: ObjectRecord[];
}

export function errorEntry(e: IsolationError): ObjectRecord['errors'][number] {
  return { code: e.code, field: e.field, reason: e.reason };
}

export function summarise(objects: readonly ObjectRecord[]): CompileReport['summary'] {
  const count = (s: ObjectStatus) => objects.filter((o) => o.status === s).length;
  return { objects: objects.length, compiled: count('compiled'), changed: count('changed'), refused: count('refused') };
}
