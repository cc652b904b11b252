// The policy seam shared by the compiler and the webhook: one hardened object in, every violation
// out (`field: reason`), nothing else touched.
import { readAmSpec } from '../alertmanager-model.ts';
import { kindInfo, type MonitoringObject } from '../objects.ts';
import type { AlertPolicy } from './load.ts';
import { checkAlertmanagerPolicy, checkRulesPolicy } from './check.ts';

/** `rulesBefore`: rules of this namespace already admitted (compiler only; the webhook sees one object). */
export function policyViolations(o: MonitoringObject, policy: AlertPolicy, rulesBefore = 0): string[] {
  const p = policy.forNamespace(o.metadata.namespace);
  const info = kindInfo(o.kind)!;
  if (info.family === 'rules') return checkRulesPolicy(o, p, rulesBefore);
  if (info.family === 'alertmanager') return checkAlertmanagerPolicy(o, readAmSpec(o.spec, info.dialect), p);
  return [];
}
