// docs/compatibility.md must list every flag with its current status and default.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FLAG_DEFINITIONS } from '../../../src/flags/definitions.ts';

test('docs/compatibility.md lists every flag with its status and default', () => {
  const doc = readFileSync(new URL('../../../docs/compatibility.md', import.meta.url), 'utf8');
  const status = { supported: 'supported', planned: 'not yet', 'no-effect': 'no effect' };
  for (const d of FLAG_DEFINITIONS) {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`-${d.name}\` |`));
    assert.ok(row !== undefined, `-${d.name} is missing; regenerate with node scripts/gen-flag-table.ts`);
    assert.ok(row.includes(status[d.status]), `-${d.name} has a stale status`);
    assert.ok(row.includes(`\`${d.default === '' ? '""' : d.default}\``), `-${d.name} has a stale default`);
  }
});
