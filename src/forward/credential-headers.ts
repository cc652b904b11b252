// Credentials the gateway consumed stay at the gateway: the headers it reads credentials from
// (Authorization, or the -httpAuthHeader list) are removed from every backend request unless
// the route sets `forward_credentials: true` (for a backend that does its own authentication).
// Expressed as header "remove" operations compiled into each route, so the removal travels
// with the route's own headers: a route that sets one of these headers itself still sends its value.
import type { HeaderOp } from '../config/model.ts';

export function withCredentialsStripped(ops: readonly HeaderOp[], credentialHeaders: readonly string[], forward: boolean): HeaderOp[] {
  if (forward) return [...ops];
  const out = [...ops];
  for (const name of credentialHeaders) {
    const lower = name.toLowerCase();
    if (!out.some((o) => o.lower === lower)) out.push({ name: lower, lower, value: '' });
  }
  return out;
}
