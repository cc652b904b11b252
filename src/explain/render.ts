// The human-readable form of an explanation (the CLI's default output and the status page's).
import type { Explanation } from './explain-request.ts';

/** The human-readable form, in pipeline order. */
export function renderExplanation(e: Explanation, source: string): string {
  const out: string[] = [];
  const at = (line: number | undefined) => (line !== undefined ? ` (${source}:${line})` : '');
  out.push(`request   ${e.request.method} ${e.request.path}${e.request.query !== '' ? '?' + e.request.query : ''}`);
  if (e.user !== null) out.push(`user      ${e.user.name || '(unnamed)'} [${e.user.kind}], matched by ${e.user.matched_by} — ${e.user.config}${at(e.user.line)}`);
  if (e.route !== null) {
    out.push(`route     ${e.route.kind} — ${e.route.config}${at(e.route.line)}`);
    out.push(`backends  ${e.route.backends.join(', ')} (load_balancing_policy: ${e.route.load_balancing_policy})`);
    if (e.route.headers_set.length > 0) out.push(`headers   set: ${e.route.headers_set.join('; ')}`);
    if (e.route.headers_removed.length > 0) out.push(`headers   removed: ${e.route.headers_removed.join(', ')}`);
  }
  if (e.tenant !== null) out.push(`tenant    ${e.tenant.scope} (enforce: ${e.tenant.enforce})${e.tenant.access !== '' ? `, classified as ${e.tenant.access}` : ''}`);
  if (e.decision === 'needs_lookup' && e.lookup !== undefined) {
    out.push(`decision  DEPENDS on GET ${e.lookup.path} at the backend: ${e.lookup.why}`);
  } else if (e.decision === 'refuse' && e.refusal !== undefined) {
    out.push(`decision  REFUSE ${e.refusal.status} ${e.refusal.reason}: ${e.refusal.message}`);
  } else if (e.forward !== undefined) {
    out.push('decision  FORWARD');
    for (const r of e.forward.requests) {
      out.push(`  → ${r.backend}`);
      out.push(`    ${r.method} ${r.path}`);
      for (const h of r.headers) out.push(`    ${h}`);
    }
    if (e.forward.body_bytes > 0) out.push(e.forward.body !== null ? `  body (${e.forward.body_bytes} bytes): ${e.forward.body}` : `  body: ${e.forward.body_bytes} bytes`);
  }
  return out.join('\n') + '\n';
}
