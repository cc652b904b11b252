// Only the noisy-neighbour scenario of `npm run bench` (after `npm run build`):
//   BENCH_NOISY=5 node bench/noisy-neighbour.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackend } from './lib/backend.ts';
import { noisyNeighbour, noisyTable } from './lib/noisy.ts';
import { freePort } from './lib/processes.ts';
import { readSettings } from './lib/settings.ts';

const log = (s: string) => process.stdout.write(`${s}\n`);
const settings = readSettings();
const dir = mkdtempSync(join(tmpdir(), 'tenantgate-noisy-'));
const backendPort = await freePort();
const backend = await startBackend(dir, backendPort, null, log);
try {
  const rows = await noisyNeighbour({ dir, backendPort, loadCore: null, nodeFlags: settings.nodeFlags, seconds: Math.max(1, settings.noisyS), log });
  log('');
  log(noisyTable(rows));
} finally {
  await backend.proc.stop();
  rmSync(dir, { recursive: true, force: true });
}
