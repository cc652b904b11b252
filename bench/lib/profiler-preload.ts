// Loaded into tenantgate with `node --import` by the harness (never by tenantgate itself): the
// first SIGUSR2 starts V8's sampling profiler, the second stops it and writes the .cpuprofile to
// $TENANTGATE_BENCH_PROFILE. So the profile covers only the measured window — no startup, no
// module compilation, no JIT warm-up — unlike `node --cpu-prof`, which covers the whole life.
import { renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

const out = process.env['TENANTGATE_BENCH_PROFILE'];
if (out) {
  const session = new Session();
  session.connect();
  let running = false;
  let busy = false;
  process.on('SIGUSR2', () => {
    if (busy) return;
    busy = true;
    void (async () => {
      try {
        if (!running) {
          await session.post('Profiler.enable');
          await session.post('Profiler.setSamplingInterval', { interval: 500 });
          await session.post('Profiler.start');
          running = true;
        } else {
          const { profile } = await session.post('Profiler.stop');
          running = false;
          writeFileSync(`${out}.tmp`, JSON.stringify(profile));
          renameSync(`${out}.tmp`, out);
        }
      } catch (err) {
        process.stderr.write(`bench profiler: ${(err as Error).message}\n`);
      } finally {
        busy = false;
      }
    })();
  });
}
