// GCRA (generic cell rate algorithm): a rate limit with a burst, kept as one number per bucket —
// the theoretical arrival time (TAT), the instant at which the bucket would be full again. No
// timers and no refill loop: a decision is a few arithmetic operations on (TAT, now).
//
// A bucket admits `burst` units at once and then one unit every `intervalMs` (1000 / rate).
// A request of cost c is admitted when the bucket holds c units, or when the bucket is full:
// the second rule lets a single request larger than the burst through (a remote write bigger than
// a second of samples) instead of refusing it forever, and the debt it leaves is paid by waiting,
// so the long-run rate still holds. The same rules run in Redis (redis-gcra.lua.ts).

export interface GcraLimit {
  /** Time one unit takes to come back: 1000 / (units per second). */
  readonly intervalMs: number;
  /** Units the bucket holds when full (≥ 1). */
  readonly burst: number;
}

export interface GcraDecision {
  readonly allowed: boolean;
  /** The bucket's TAT after the decision (unchanged when refused). */
  readonly tat: number;
  /** Whole units left in the bucket after the decision. */
  readonly remaining: number;
  /** When refused: how long until the same request would be admitted. 0 when allowed. */
  readonly retryAfterMs: number;
  /** How long until the bucket is full again. */
  readonly resetMs: number;
}

/**
 * One decision. `tat` is the stored TAT (or anything ≤ now for a bucket never seen: full).
 * Pure: the caller stores `tat` of an allowed decision.
 */
export function gcra(tat: number, now: number, limit: GcraLimit, cost: number): GcraDecision {
  const t = limit.intervalMs;
  const tolerance = t * limit.burst;
  const base = tat > now ? tat : now;
  const next = base + cost * t;
  // The relative slack absorbs float error: `burst` additions of 1000/rate must fit `burst` units.
  if (base > now && next - now > tolerance * (1 + 1e-9)) {
    // Admitted once the bucket holds `cost` units, or once it is full, whichever comes first.
    const at = Math.min(tat, next - tolerance);
    return { allowed: false, tat, remaining: units(tolerance - (base - now), t), retryAfterMs: at - now, resetMs: base - now };
  }
  return { allowed: true, tat: next, remaining: units(tolerance - (next - now), t), retryAfterMs: 0, resetMs: next - now };
}

/** Whole units in `credit` ms of bucket space, never negative (a bucket in debt holds 0). */
function units(credit: number, intervalMs: number): number {
  // The small epsilon keeps 2.9999999 units (float error) from reading as 2.
  return credit <= 0 ? 0 : Math.floor(credit / intervalMs + 1e-9);
}

/** The GCRA parameters of `rate` units per second with `burst`. */
export function gcraLimit(ratePerSecond: number, burst: number): GcraLimit {
  return { intervalMs: 1000 / ratePerSecond, burst };
}
