// The audit trail of the admission webhook: one JSON line per decision, in a fixed field order so
// lines can be read by people and parsed by log pipelines alike. Only the decision record is
// written — who, operation, kind, namespace/name, verdict, reasons, patch paths — never the object.
import type { AdmissionDecision } from './admission.ts';

export function auditLine(path: string, d: AdmissionDecision, now: Date = new Date()): string {
  return `${JSON.stringify({
    time: now.toISOString(),
    msg: 'admission decision',
    webhook: path === '/mutate' ? 'mutate' : 'validate',
    uid: d.uid,
    user: d.user,
    operation: d.operation,
    kind: d.kind,
    namespace: d.namespace,
    name: d.name,
    allowed: d.allowed,
    reasons: d.reasons,
    patch: d.patch,
    warnings: d.warnings,
  })}\n`;
}
