// A Prometheus summary over a sliding window, as VictoriaMetrics' summaries are (quantiles of
// the last few minutes, plus lifetime _sum and _count). Observing is O(1) into a fixed ring;
// sorting happens only when /metrics is scraped.

const WINDOW_MS = 5 * 60_000;
const CAPACITY = 1024;
export const SUMMARY_QUANTILES = [0.5, 0.9, 0.97, 0.99, 1] as const;

export class WindowSummary {
  readonly #values = new Float64Array(CAPACITY);
  readonly #times = new Float64Array(CAPACITY);
  #next = 0;
  #filled = 0;
  sum = 0;
  count = 0;

  observe(value: number, now = Date.now()): void {
    this.#values[this.#next] = value;
    this.#times[this.#next] = now;
    this.#next = (this.#next + 1) % CAPACITY;
    if (this.#filled < CAPACITY) this.#filled++;
    this.sum += value;
    this.count++;
  }

  /** Quantiles of the observations in the window; NaN when there are none (as VictoriaMetrics shows). */
  quantiles(now = Date.now()): number[] {
    const recent: number[] = [];
    for (let i = 0; i < this.#filled; i++) {
      if (now - (this.#times[i] as number) <= WINDOW_MS) recent.push(this.#values[i] as number);
    }
    if (recent.length === 0) return SUMMARY_QUANTILES.map(() => Number.NaN);
    recent.sort((a, b) => a - b);
    return SUMMARY_QUANTILES.map((q) => recent[Math.min(recent.length - 1, Math.max(0, Math.ceil(q * recent.length) - 1))] as number);
  }
}

/** Text exposition lines of a summary with the given rendered label set (`{a="b"}` or ''). */
export function summaryLines(name: string, labels: string, s: WindowSummary, now = Date.now()): string[] {
  const inner = labels === '' ? '' : labels.slice(1, -1) + ',';
  const out = s.quantiles(now).map((v, i) => `${name}{${inner}quantile="${SUMMARY_QUANTILES[i]}"} ${Number.isNaN(v) ? 'NaN' : v}`);
  out.push(`${name}_sum${labels} ${s.sum}`, `${name}_count${labels} ${s.count}`);
  return out;
}
