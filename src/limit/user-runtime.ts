// Per-user state that outlives a single request: counters, the concurrency limit, and the
// shares of memory and connections the user holds right now. A user can exhaust only these,
// never the gateway-wide pools other users depend on.
import type { Socket } from 'node:net';
import type { RequestStats } from '../observe/metrics.ts';
import type { Semaphore } from './semaphore.ts';

export interface UserBudgets {
  /** Request-body bytes this user may hold in memory at once (per process); 0 means no cap. */
  readonly maxBufferedBytes: number;
  /** Client connections this user may keep open at once (per process); 0 means no cap. */
  readonly maxConnections: number;
}

export class UserRuntime {
  readonly stats: RequestStats;
  readonly limit: Semaphore;
  readonly #budgets: UserBudgets;
  #bufferedBytes = 0;
  #connections = 0;

  constructor(stats: RequestStats, limit: Semaphore, budgets: UserBudgets) {
    this.stats = stats;
    this.limit = limit;
    this.#budgets = budgets;
  }

  get bufferedBytes(): number { return this.#bufferedBytes; }
  get connections(): number { return this.#connections; }

  /** Reserves `n` bytes of body memory; false when the user's cap would be exceeded. */
  reserveBytes(n: number): boolean {
    const cap = this.#budgets.maxBufferedBytes;
    if (cap > 0 && this.#bufferedBytes + n > cap && this.#bufferedBytes > 0) return false;
    this.#bufferedBytes += n;
    return true;
  }

  releaseBytes(n: number): void {
    this.#bufferedBytes -= n;
  }

  /**
   * Counts `socket` against this user's connection cap the first time the user is seen on it.
   * False when the cap is reached: the caller refuses the request and closes the connection.
   */
  claimConnection(socket: Socket, owners: WeakMap<Socket, UserRuntime>): boolean {
    const owner = owners.get(socket);
    if (owner === this) return true;
    const cap = this.#budgets.maxConnections;
    if (cap > 0 && this.#connections >= cap) return false;
    if (owner !== undefined) owner.#connections--;
    else socket.once('close', () => { const o = owners.get(socket); if (o !== undefined) o.#connections--; owners.delete(socket); });
    owners.set(socket, this);
    this.#connections++;
    return true;
  }
}
