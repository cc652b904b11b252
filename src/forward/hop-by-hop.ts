// Hop-by-hop headers (RFC 9110 §7.6.1) never cross the proxy, in either direction, nor do the
// headers a `Connection` header names. `expect` is also dropped: Node answers `100 Continue`
// itself, and undici refuses to send it.
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection', 'proxy-connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

export function connectionTokens(value: string | string[] | undefined): Set<string> | null {
  if (value === undefined) return null;
  // The usual values name no extra header; skip building a set for them.
  if (value === 'keep-alive' || value === 'close' || value === 'Keep-Alive' || value === 'Close') return null;
  const set = new Set<string>();
  for (const v of Array.isArray(value) ? value : [value]) {
    for (const t of v.split(',')) {
      const s = t.trim().toLowerCase();
      if (s !== '') set.add(s);
    }
  }
  return set.size > 0 ? set : null;
}
