// Entry point of a worker thread of the work pool: runs one task at a time and answers with its
// result or its error message.
import { parentPort } from 'node:worker_threads';
import { runTask, type Task } from './tasks.ts';
import { transferableBody } from './transfer.ts';

export interface TaskRequest { readonly id: number; readonly task: Task }
export type TaskReply = { readonly id: number; readonly ok: true; readonly result: unknown } | { readonly id: number; readonly ok: false; readonly error: string };

/**
 * The buffer of a large result body (a rewritten remote write, a filtered response, a body given
 * back), to be transferred instead of copied. Every task makes its result body fresh or was
 * handed it, and nothing in this thread keeps it.
 */
function transferable(r: TaskReply): ArrayBuffer[] {
  if (!r.ok) return [];
  const result = r.result;
  const buf = transferableBody(result instanceof Uint8Array ? result : (result as { body?: Uint8Array | null } | null | undefined)?.body);
  return buf === null ? [] : [buf];
}

const port = parentPort;
if (port === null) throw new Error('offload/worker.ts runs only as a worker thread');
port.on('message', (m: TaskRequest) => {
  const reply = (r: TaskReply) => port.postMessage(r, transferable(r));
  try {
    const result = runTask(m.task);
    if (result instanceof Promise) result.then((v) => reply({ id: m.id, ok: true, result: v }), (err: Error) => reply({ id: m.id, ok: false, error: err.stack ?? String(err) }));
    else reply({ id: m.id, ok: true, result });
  } catch (err) {
    reply({ id: m.id, ok: false, error: (err as Error).stack ?? String(err) });
  }
});
