// Concurrency limits under -workers=N: each worker enforces its own share, so the shares add up
// to the configured limit (exactly, when the limit is at least N). A worker never gets 0, which
// would refuse everything; so a limit below N admits N requests in total, one per worker.

/** Worker `slot`'s share (0-based) of `limit` split over `workers`: floor, plus one for the first `limit % workers`. */
export function workerShare(limit: number, slot: number, workers: number): number {
  if (workers <= 1) return limit;
  const base = Math.floor(limit / workers);
  return Math.max(1, base + (slot < limit % workers ? 1 : 0));
}
