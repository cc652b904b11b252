// Workers exit when their primary dies, whatever killed it: a SIGKILLed primary cannot drain them,
// so each worker notices the IPC channel closing and stops on its own; nothing keeps serving the
// port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { startGateway } from '../helpers/gateway.ts';
import { sleep } from '../helpers/processes.ts';

const childrenOf = (pid: number): number[] => {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map((s) => Number(s.trim())).filter((n) => n > 0);
  } catch { return []; } // ps exits 1 when there are none
};
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const portOpen = (port: number) => new Promise<boolean>((resolve) => {
  const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
  s.once('error', () => resolve(false));
});

test('a SIGKILLed primary takes its workers with it', async () => {
  const gw = await startGateway('users:\n- username: u\n  password: orphan-secret\n  url_prefix: "http://127.0.0.1:1/"\n', { workers: 2 });
  let workers: number[] = [];
  try {
    for (let i = 0; i < 100 && workers.length < 2; i++) { workers = childrenOf(gw.proc.pid); if (workers.length < 2) await sleep(100); }
    assert.equal(workers.length, 2, gw.proc.output());
    process.kill(gw.proc.pid, 'SIGKILL');
    await gw.proc.exited;
    const deadline = Date.now() + 30_000;
    while (workers.some(alive) && Date.now() < deadline) await sleep(100);
    assert.deepEqual(workers.filter(alive), [], 'workers still running after their primary died');
    assert.equal(await portOpen(gw.port), false);
  } finally {
    for (const w of workers) { try { process.kill(w, 'SIGKILL'); } catch { /* gone */ } }
    await gw.stop();
  }
});
