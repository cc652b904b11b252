import type { ClientWatch } from './client-watch.ts';

// A counting semaphore with a FIFO queue, used for -maxConcurrentRequests and the per-user
// limits. A waiter gives up after the queue deadline or when its client disconnects, and then
// leaves the queue at once so it never takes a slot it cannot use.

export class Semaphore {
  capacity: number;
  #used = 0;
  readonly #waiters: { resolve: (ok: boolean) => void; done: boolean }[] = [];

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get current(): number { return this.#used; }
  get queued(): number { return this.#waiters.length; }

  tryAcquire(): boolean {
    if (this.#used < this.capacity) { this.#used++; return true; }
    return false;
  }

  /** Resolves true once a slot is held; false on timeout or abort. */
  acquire(timeoutMs: number, signal: ClientWatch): Promise<boolean> {
    if (this.tryAcquire()) return Promise.resolve(true);
    if (signal.aborted || timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const w = { resolve: (ok: boolean) => { if (w.done) return; w.done = true; clearTimeout(timer); signal.offAbort(onAbort); resolve(ok); }, done: false };
      const leave = () => {
        const i = this.#waiters.indexOf(w);
        if (i >= 0) this.#waiters.splice(i, 1);
        w.resolve(false);
      };
      const onAbort = () => leave();
      const timer = setTimeout(leave, timeoutMs);
      signal.onAbort(onAbort);
      this.#waiters.push(w);
    });
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next !== undefined) { next.resolve(true); return; } // the slot passes straight to the waiter
    this.#used--;
  }
}
