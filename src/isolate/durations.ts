// The duration syntax Prometheus, Alertmanager and vmalert share (`1h30m`, units from y down to
// ms, each at most once, largest first), converted to milliseconds for comparisons.

const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];

/** Milliseconds, or undefined when `s` is not a duration. */
export function durationMs(s: unknown): number | undefined {
  if (typeof s !== 'string' || s === '') return undefined;
  const m = DURATION.exec(s);
  if (m === null) return undefined;
  return UNIT_MS.reduce((sum, unit, i) => sum + Number(m[i + 1] ?? 0) * unit, 0);
}
