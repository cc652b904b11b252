// A bounded pool of worker threads for CPU-heavy work, fed by a queue that is fair between keys
// (see fair-queue.ts). Threads start on first use and are replaced when one dies; a task whose
// thread dies fails, the others carry on. The pool never keeps the process alive by itself.
import { Worker } from 'node:worker_threads';
import { FairQueue } from './fair-queue.ts';
import type { ClientWatch } from '../limit/client-watch.ts';
import type { Task } from './tasks.ts';
import type { TaskReply } from './worker.ts';

export interface WorkPoolOptions {
  /** Worker threads; at most this many tasks run at once. */
  readonly threads: number;
  /** Tasks waiting per key; the next one is refused with WorkQueueFullError. */
  readonly maxQueuedPerKey: number;
  /** Tasks running at once per key (default: all threads but one, so another key always finds one). */
  readonly maxRunningPerKey?: number;
  /** Tasks waiting over all keys (default: unbounded but for maxQueuedPerKey). */
  readonly maxQueued?: number;
  /** A thread idle this long exits, giving its memory back (default 30 s); the next task starts one. */
  readonly idleMs?: number;
}

/** The requester left while its task was still waiting: the task was dropped, never run. */
export class WorkAbandonedError extends Error {}

export class WorkQueueFullError extends Error {
  readonly code = 'ERR_WORK_QUEUE_FULL';
}

interface Job {
  readonly task: Task;
  /** Buffers of the task handed to the thread instead of copied; unusable here once it runs. */
  readonly transfer: readonly ArrayBuffer[];
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
}

interface Thread {
  readonly worker: Worker;
  job: { readonly id: number; readonly key: string; readonly job: Job } | null;
  idle: NodeJS.Timeout | null;
}

// In the built tree the worker is JavaScript; tests run the TypeScript sources directly.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);

export class WorkPool {
  readonly #opts: WorkPoolOptions;
  readonly #queue: FairQueue<Job>;
  readonly #threads: Thread[] = [];
  #nextId = 1;
  #closed = false;
  /** Tasks finished, failed and refused, for /metrics. */
  readonly counts = { done: 0, failed: 0, refused: 0 };

  constructor(opts: WorkPoolOptions) {
    if (!(opts.threads >= 1)) throw new RangeError('a work pool needs at least one thread');
    this.#opts = opts;
    this.#queue = new FairQueue<Job>({
      maxPerKey: opts.maxQueuedPerKey,
      maxRunningPerKey: opts.maxRunningPerKey ?? Math.max(1, opts.threads - 1),
    });
  }

  get threads(): number { return this.#opts.threads; }
  /** Threads started and not yet exited. */
  get threadsAlive(): number { return this.#threads.length; }
  get queued(): number { return this.#queue.size; }
  get running(): number { return this.#threads.filter((t) => t.job !== null).length; }

  /**
   * Runs `task` in a worker thread, queued fairly under `key`. When `gone` aborts while the task
   * still waits, it leaves the queue: work for a client that left never holds its user's place.
   * `transfer` buffers move to the thread when the task starts (not while it waits).
   */
  run(key: string, task: Task, gone?: ClientWatch, transfer: readonly ArrayBuffer[] = []): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error('the work pool is closed'));
    return new Promise((resolve, reject) => {
      const onGone = () => { if (this.#queue.remove(key, job)) reject(new WorkAbandonedError('the client left before its task ran')); };
      const settle = () => gone?.offAbort(onGone);
      const job: Job = { task, transfer, resolve: (v) => { settle(); resolve(v); }, reject: (e) => { settle(); reject(e); } };
      if (this.#queue.size >= (this.#opts.maxQueued ?? Infinity) || !this.#queue.push(key, job)) {
        this.counts.refused++;
        reject(new WorkQueueFullError('too many tasks are waiting'));
        return;
      }
      gone?.onAbort(onGone);
      this.#dispatch();
    });
  }

  #dispatch(): void {
    for (;;) {
      // Nothing waiting: no thread is started for nothing.
      if (this.#queue.size === 0) return;
      const thread = this.#idleThread();
      if (thread === undefined) return;
      const next = this.#queue.take();
      if (next === undefined) return;
      const id = this.#nextId++;
      if (thread.idle !== null) { clearTimeout(thread.idle); thread.idle = null; }
      thread.job = { id, key: next.key, job: next.item };
      thread.worker.postMessage({ id, task: next.item.task }, next.item.transfer);
    }
  }

  /** A thread that stays idle exits: a burst of large requests does not leave its heap behind. */
  #idleLater(thread: Thread): void {
    if (thread.idle !== null) clearTimeout(thread.idle);
    thread.idle = setTimeout(() => { if (thread.job === null) void thread.worker.terminate(); }, this.#opts.idleMs ?? 30_000);
    thread.idle.unref();
  }

  #idleThread(): Thread | undefined {
    const idle = this.#threads.find((t) => t.job === null);
    if (idle !== undefined || this.#threads.length >= this.#opts.threads) return idle;
    return this.#spawn();
  }

  #spawn(): Thread {
    const worker = new Worker(WORKER_URL);
    const thread: Thread = { worker, job: null, idle: null };
    worker.on('message', (m: TaskReply) => {
      const j = thread.job;
      if (j === null || j.id !== m.id) return;
      thread.job = null;
      this.#queue.done(j.key);
      if (m.ok) { this.counts.done++; j.job.resolve(m.result); } else { this.counts.failed++; j.job.reject(new Error(`work pool task failed: ${m.error}`)); }
      this.#dispatch();
      if (thread.job === null) this.#idleLater(thread);
    });
    const lost = (why: string) => {
      const i = this.#threads.indexOf(thread);
      if (i >= 0) this.#threads.splice(i, 1);
      if (thread.idle !== null) { clearTimeout(thread.idle); thread.idle = null; }
      const j = thread.job;
      thread.job = null;
      if (j !== null) {
        this.#queue.done(j.key);
        this.counts.failed++;
        j.job.reject(new Error(`work pool thread ${why}`));
      }
      if (!this.#closed) this.#dispatch();
    };
    worker.on('error', (err) => lost(`failed: ${err.message}`));
    worker.on('exit', (code) => lost(`exited with code ${code}`));
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
    this.#threads.push(thread);
    return thread;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#threads.map((t) => t.worker.terminate()));
  }
}
