// Renders bench/configs/*.yml into the run's temp dir, filling @NAME@ placeholders.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CONFIG_DIR = new URL('../configs/', import.meta.url).pathname;

export function renderConfig(name: string, outDir: string, values: Readonly<Record<string, string>>): string {
  const text = readFileSync(join(CONFIG_DIR, name), 'utf8').replace(/@([A-Z_]+)@/g, (m, key: string) => {
    const v = values[key];
    if (v === undefined) throw new Error(`bench/configs/${name}: no value for ${m}`);
    return v;
  });
  const out = join(outDir, name);
  writeFileSync(out, text);
  return out;
}
