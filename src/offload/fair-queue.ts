// A queue that is fair between keys (users, client addresses): each key has its own FIFO, and
// keys take turns. One key's backlog therefore waits behind its own earlier items, never in
// front of another key's. Each key may hold at most `maxPerKey` waiting items and `maxRunningPerKey`
// running ones, so one key can neither grow memory without bound nor take every slot.

export interface FairQueueOptions {
  /** Items waiting per key; one more is refused. */
  readonly maxPerKey: number;
  /** Items running at once per key; the rest wait even when slots are free. */
  readonly maxRunningPerKey: number;
}

interface KeyState<T> {
  readonly items: T[];
  running: number;
}

export class FairQueue<T> {
  readonly #opts: FairQueueOptions;
  readonly #keys = new Map<string, KeyState<T>>();
  /** Keys with waiting items, in turn order; a key that is served goes to the back. */
  #turns: string[] = [];
  #waiting = 0;

  constructor(opts: FairQueueOptions) {
    this.#opts = opts;
  }

  /** Waiting items over all keys. */
  get size(): number { return this.#waiting; }

  /** Adds an item; false when the key already has `maxPerKey` items waiting. */
  push(key: string, item: T): boolean {
    let s = this.#keys.get(key);
    if (s === undefined) { s = { items: [], running: 0 }; this.#keys.set(key, s); }
    if (s.items.length >= this.#opts.maxPerKey) return false;
    s.items.push(item);
    this.#waiting++;
    if (s.items.length === 1) this.#turns.push(key);
    return true;
  }

  /** The next item to run (counted as running for its key), or undefined when none may run. */
  take(): { key: string; item: T } | undefined {
    for (let i = 0; i < this.#turns.length; i++) {
      const key = this.#turns[i]!;
      const s = this.#keys.get(key)!;
      if (s.running >= this.#opts.maxRunningPerKey) continue;
      const item = s.items.shift()!;
      this.#waiting--;
      s.running++;
      this.#turns.splice(i, 1);
      if (s.items.length > 0) this.#turns.push(key);
      return { key, item };
    }
    return undefined;
  }

  /** An item taken for `key` has finished. */
  done(key: string): void {
    const s = this.#keys.get(key);
    if (s === undefined) return;
    s.running--;
    if (s.running <= 0 && s.items.length === 0) this.#keys.delete(key);
  }

  /** Removes a waiting item (its requester gave up); false when it is not waiting. */
  remove(key: string, item: T): boolean {
    const s = this.#keys.get(key);
    if (s === undefined) return false;
    const i = s.items.indexOf(item);
    if (i < 0) return false;
    s.items.splice(i, 1);
    this.#waiting--;
    if (s.items.length === 0) {
      this.#turns = this.#turns.filter((k) => k !== key);
      if (s.running <= 0) this.#keys.delete(key);
    }
    return true;
  }
}
