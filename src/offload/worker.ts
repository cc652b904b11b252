// Entry point of a worker thread of the work pool: runs one task at a time and answers with its
// result or its error message.
import { parentPort } from 'node:worker_threads';
import { runTask, type Task } from './tasks.ts';

export interface TaskRequest { readonly id: number; readonly task: Task }
export type TaskReply = { readonly id: number; readonly ok: true; readonly result: unknown } | { readonly id: number; readonly ok: false; readonly error: string };

const port = parentPort;
if (port === null) throw new Error('offload/worker.ts runs only as a worker thread');
port.on('message', (m: TaskRequest) => {
  const reply = (r: TaskReply) => port.postMessage(r);
  try {
    const result = runTask(m.task);
    if (result instanceof Promise) result.then((v) => reply({ id: m.id, ok: true, result: v }), (err: Error) => reply({ id: m.id, ok: false, error: err.stack ?? String(err) }));
    else reply({ id: m.id, ok: true, result });
  } catch (err) {
    reply({ id: m.id, ok: false, error: (err as Error).stack ?? String(err) });
  }
});
