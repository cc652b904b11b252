// The most recent refusals, for the status page: "why does team-a get 403s?" answered without
// a log search. Fixed size, overwritten in order; paths only, never query strings.
export interface RecentRefusal {
  readonly at: number;
  readonly user: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly reason: string;
}

export class RefusalRing {
  readonly #items: (RecentRefusal | undefined)[];
  #next = 0;

  constructor(size = 100) {
    this.#items = new Array<RecentRefusal | undefined>(size);
  }

  add(r: RecentRefusal): void {
    this.#items[this.#next] = r;
    this.#next = (this.#next + 1) % this.#items.length;
  }

  /** Newest first. */
  list(): RecentRefusal[] {
    const out: RecentRefusal[] = [];
    const n = this.#items.length;
    for (let i = 1; i <= n; i++) {
      const r = this.#items[(this.#next - i + n) % n];
      if (r !== undefined) out.push(r);
    }
    return out;
  }
}
