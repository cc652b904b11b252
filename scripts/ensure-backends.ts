#!/usr/bin/env node
// Makes the real backends the tests, the demo and the benchmark run available in the project's
// cache (.cache/debs, or TENANTGATE_BACKENDS_DIR) from Debian's packages, installing nothing
// system-wide. `node scripts/ensure-backends.ts [program…]`; without arguments, all of them.
import { BackendUnavailableError, DEFAULT_PROGRAMS, ensurePrograms, isProgram, programPath, type Program } from './lib/backends.ts';

const args = process.argv.slice(2);
const unknown = args.filter((a) => !isProgram(a));
if (unknown.length > 0) {
  console.error(`ensure-backends: unknown program ${unknown.join(', ')}; known: ${DEFAULT_PROGRAMS.join(', ')}, nginx, redis-cli`);
  process.exit(2);
}
const programs = args.length > 0 ? (args as Program[]) : DEFAULT_PROGRAMS;
try {
  ensurePrograms(programs, { log: (s) => console.error(s) });
  if (process.env['ENSURE_BACKENDS_VERBOSE'] === '1') for (const p of programs) console.log(`${p}\t${programPath(p)}`);
} catch (err) {
  if (err instanceof BackendUnavailableError) { console.error(err.message); process.exit(1); }
  throw err;
}
