// Prints the markdown flag table of docs/compatibility.md from the flag registry:
//   node scripts/gen-flag-table.ts > /tmp/flags.md   (then paste between the markers)
import { FLAG_DEFINITIONS } from '../src/flags/definitions.ts';

const STATUS = { supported: '✅ supported', planned: '❌ not yet (refused)', 'no-effect': '⚪ accepted, no effect' } as const;
console.log('| flag | type | default | status | meaning |');
console.log('|---|---|---|---|---|');
for (const d of FLAG_DEFINITIONS) {
  console.log(`| \`-${d.name}\` | ${d.kind} | \`${d.default === '' ? '""' : d.default}\` | ${STATUS[d.status]} | ${d.help.replaceAll('|', '\\|')} |`);
}
