// `tenantgate check alertmanager --label NAME FILE...`: the gateway's tenant lint over
// Alertmanager configuration files, with file:line messages, plus `amtool check-config` when
// amtool is available, so a config can be checked before Alertmanager (and the gateway) sees it.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatConfigPath } from '../enforce/alertmanager/lint.ts';
import { lintAlertmanagerYaml } from '../enforce/alertmanager/lint-yaml.ts';
import { MAX_STATUS_BYTES } from '../enforce/alertmanager/watch.ts';

export const CHECK_ALERTMANAGER_USAGE = `usage: tenantgate check alertmanager --label NAME [--label NAME...] [--amtool PATH] FILE...

Checks that each Alertmanager configuration keeps tenants (told apart by the given labels) apart:
every inhibit rule has the tenant labels in equal (or pins them to one value on both sides), every
route below the root pins the tenant labels with equality matchers (or delivers to the root's
receiver), and group_by keeps tenant labels wherever several tenants' alerts meet. The gateway
refuses tenant alert posts to an Alertmanager whose configuration fails this check.
  --label NAME    tenant label (repeatable, or comma-separated), as in the gateway's tenant.labels
  --amtool PATH   amtool to validate the file with (default: amtool from PATH when installed;
                  --amtool= skips it)
Exit status: 0 every file keeps tenants apart, 1 a file is unsafe or invalid, 2 usage error or
unreadable file.
`;

const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

interface Out { out: (s: string) => void; err: (s: string) => void }

/** amtool check-config: null when it accepts the file, else its output; 'missing' when not installed. */
function amtool(bin: string, file: string): string | null | 'missing' {
  const r = spawnSync(bin, ['check-config', file], { encoding: 'utf8', timeout: 30_000 });
  if (r.error !== undefined) return (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `cannot run ${bin}: ${r.error.message}`;
  return r.status === 0 ? null : `${r.stdout}${r.stderr}`.trim();
}

export function checkAlertmanagerMain(argv: readonly string[], io: Out = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }): number {
  let values: { label?: string[]; amtool?: string; help?: boolean };
  let files: string[];
  try {
    ({ values, positionals: files } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { label: { type: 'string', multiple: true }, amtool: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    io.err(`${(err as Error).message}\n${CHECK_ALERTMANAGER_USAGE}`);
    return 2;
  }
  if (values.help) { io.out(CHECK_ALERTMANAGER_USAGE); return 0; }
  const labels = [...new Set((values.label ?? []).flatMap((l) => l.split(',')).map((l) => l.trim()).filter((l) => l !== ''))];
  if (labels.length === 0) { io.err(`name the tenant labels with --label (e.g. --label namespace)\n${CHECK_ALERTMANAGER_USAGE}`); return 2; }
  const bad = labels.find((l) => !LABEL.test(l));
  if (bad !== undefined) { io.err(`--label ${JSON.stringify(bad)}: expected a label name matching [a-zA-Z_][a-zA-Z0-9_]*\n`); return 2; }
  if (files.length === 0) { io.err(`no file given\n${CHECK_ALERTMANAGER_USAGE}`); return 2; }
  const bin = values.amtool ?? 'amtool';

  let unsafe = false;
  for (const file of files) {
    let text: string;
    try {
      const size = statSync(file).size;
      if (size > MAX_STATUS_BYTES) { io.err(`${file}: larger than ${MAX_STATUS_BYTES} bytes, the most the check reads\n`); return 2; }
      text = readFileSync(file, 'utf8');
    } catch (err) {
      io.err(`${file}: cannot read: ${(err as Error).message}\n`);
      return 2;
    }
    if (bin !== '') {
      const r = amtool(bin, file);
      if (r === 'missing') {
        if (values.amtool !== undefined) { io.err(`${file}: --amtool ${bin}: not found\n`); return 2; }
        io.err(`${file}: amtool not found, so the file was not validated as Alertmanager configuration (only the tenant check ran)\n`);
      } else if (r !== null) {
        io.out(`${file}: amtool check-config refuses the file:\n${r}\n`);
        unsafe = true;
        continue;
      }
    }
    const res = lintAlertmanagerYaml(text, labels);
    if (!res.ok) {
      io.out(`${file}:${res.line ?? 1}: invalid YAML: ${res.error}\n`);
      unsafe = true;
      continue;
    }
    for (const f of [...res.findings].sort((a, b) => (a.line ?? 0) - (b.line ?? 0))) {
      io.out(`${file}:${f.line ?? 1}: ${f.kind}: ${formatConfigPath(f.path) || '(document)'}: ${f.message}\n`);
    }
    if (res.findings.length > 0) {
      unsafe = true;
      io.out(`${file}: UNSAFE: ${res.findings.length} finding${res.findings.length === 1 ? '' : 's'}; the gateway refuses tenant alert posts to an Alertmanager with this configuration\n`);
    } else {
      io.out(`${file}: OK: keeps tenants told apart by ${labels.join(', ')} apart\n`);
    }
  }
  return unsafe ? 1 : 0;
}
