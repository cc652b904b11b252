// The Chromium for browser tests: the project's backends cache (scripts/lib/backends.ts), else
// CHROMIUM_PATH or a system chromium; with the cache's libraries and fonts in its environment.
import { findProgram, programEnv } from '../../scripts/lib/backends.ts';

export function chromiumPath(): string {
  const fromEnv = process.env['CHROMIUM_PATH'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const p = findProgram('chromium');
  if (p !== null) return p;
  throw new Error('Chromium not found: run `node scripts/ensure-backends.ts chromium` (npm test does) or set CHROMIUM_PATH');
}

export function chromiumEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(programEnv())) if (v !== undefined) env[k] = v;
  return env;
}
