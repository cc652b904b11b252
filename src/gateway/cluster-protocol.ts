// Messages between the cluster primary and its workers (node:cluster IPC, structured clone).
// Reloads are two-phase: every worker compiles the new config (`prepare`), and only when all
// succeeded does the primary tell them to swap (`commit`); otherwise they drop it (`abort`).
// So the workers never run different configs, and the reload metrics are the same everywhere.
import type { MetricsSnapshot } from '../observe/metrics-snapshot.ts';

/** vmauth_config_last_reload_* values, owned by the primary and copied into every worker. */
export interface ReloadState {
  readonly total: number;
  readonly errors: number;
  readonly successful: 0 | 1;
  readonly successSeconds: number;
}

export type ToWorker =
  | { readonly t: 'start'; readonly text: string; readonly state: ReloadState }
  | { readonly t: 'prepare'; readonly seq: number; readonly text: string }
  | { readonly t: 'commit'; readonly seq: number; readonly state: ReloadState }
  | { readonly t: 'abort'; readonly seq: number; readonly state: ReloadState }
  | { readonly t: 'snapshot'; readonly id: number }
  | { readonly t: 'reload-done'; readonly id: number; readonly ok: boolean }
  | { readonly t: 'scrape-done'; readonly id: number; readonly snapshots: readonly MetricsSnapshot[]; readonly extraSeries: readonly (readonly [string, number])[] }
  | { readonly t: 'shutdown' };

export type ToPrimary =
  | { readonly t: 'hello' }
  | { readonly t: 'ready' }
  | { readonly t: 'prepared'; readonly seq: number; readonly ok: boolean; readonly error: string; readonly users: number }
  | { readonly t: 'committed'; readonly seq: number }
  | { readonly t: 'snapshot-reply'; readonly id: number; readonly snapshot: MetricsSnapshot }
  | { readonly t: 'reload-request'; readonly id: number; readonly why: string }
  | { readonly t: 'scrape-request'; readonly id: number };

/** Environment variables the primary sets for each worker it forks. */
export const WORKER_SLOT_ENV = 'TENANTGATE_WORKER_SLOT';
export const WORKER_COUNT_ENV = 'TENANTGATE_WORKERS';

export function isMessage(m: unknown): m is { t: string } {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';
}
