// Entry points of the `tenantgate isolate` (compiler) and `tenantgate webhook` (admission) subcommands.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { compile, type InputFile } from './compile.ts';
import { IsolationError } from './errors.ts';
import { loadPolicyFile } from './policy/load.ts';
import { goStyleLoggerFormat } from './log-switch.ts';
import { makeOptions, type Flavor, type IsolateOptions, type UnsafePolicy } from './options.ts';
import { isObj, type Obj } from './util.ts';

// YAML 1.1 quoting: the Go parsers of Prometheus/Alertmanager/vmagent read 1.1, where e.g. `on` or
// `09:00` would not stay strings if left unquoted.
export const YAML_OUT = { lineWidth: 0, version: '1.1', aliasDuplicateObjects: false } as const;

const ISOLATE_USAGE = `usage: tenantgate isolate --label LABEL [options] FILE|DIR...

Reads namespaced monitoring objects (multi-document YAML) and writes hardened configuration.
  --label LABEL                 enforced tenant label (required), e.g. tenant or namespace
  --flavor F                    victoriametrics (vmagent/vmalert, default) or prometheus-operator (Prometheus)
  --unsafe reject|neutralise    what to do with honorLabels, foreign namespace selectors and metric
                                relabel rules touching the label (default reject)
  --allow-file-access           allow *File fields / file_sd_configs (off: they can leak the scraper's secrets)
  --reserved-label NAME         label no tenant may set (repeatable; default for victoriametrics:
                                vm_account_id, vm_project_id)
  --scrape-base FILE            Prometheus/vmagent config the scrape jobs are appended to
  --alertmanager-base FILE      Alertmanager config the tenant routes are merged into
  --out DIR                     write scrape.yml, rules.yml, alertmanager.yml there (else: check only)
  --policy FILE                 alert-definition policy (docs/namespace-isolation.md#alert-definition-policy)
  --report FILE                 write a JSON report of every object: compiled, changed (which fields) or refused (why)
  --loggerFormat default|json   warnings, errors and the summary as text (default) or JSON lines;
                                the gateway's -loggerFormat (one dash works too)
  -h, --help                    this help
Exit status: 0 all objects compiled, 1 some objects rejected (the rest is still written), 2 usage error.
`;

function collect(path: string, out: InputFile[], depth = 0): void {
  const st = statSync(path);
  if (st.isDirectory()) {
    if (depth > 32) return;
    for (const entry of readdirSync(path).sort()) {
      if (entry.startsWith('.')) continue;
      const p = join(path, entry);
      if (statSync(p).isDirectory() || /\.ya?ml$/.test(entry)) collect(p, out, depth + 1);
    }
    return;
  }
  out.push({ name: path, text: readFileSync(path, 'utf8') });
}

function readYamlFile(path: string): Obj {
  const v: unknown = parse(readFileSync(path, 'utf8'));
  if (!isObj(v)) throw new IsolationError('ERR_ISOLATE_USAGE', path, 'must contain a YAML mapping');
  return v;
}

/** Every option `tenantgate isolate` takes; ISOLATE_USAGE lists each one. */
export const ISOLATE_OPTIONS = {
  label: { type: 'string' },
  flavor: { type: 'string' },
  unsafe: { type: 'string' },
  'allow-file-access': { type: 'boolean' },
  'reserved-label': { type: 'string', multiple: true },
  'scrape-base': { type: 'string' },
  'alertmanager-base': { type: 'string' },
  out: { type: 'string' },
  policy: { type: 'string' },
  report: { type: 'string' },
  loggerFormat: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export { ISOLATE_USAGE };

/** One line per message: plain text as before, or a JSON object with --loggerFormat=json. */
function reporter(format: string): (level: 'warning' | 'error' | 'info', msg: string) => void {
  if (format !== 'default' && format !== 'json') throw new IsolationError('ERR_ISOLATE_USAGE', '--loggerFormat', 'must be default or json');
  if (format === 'default') return (level, msg) => process.stderr.write(level === 'info' ? `${msg}\n` : `${level}: ${msg}\n`);
  return (level, msg) => process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), level: level === 'warning' ? 'warn' : level, caller: 'tenantgate isolate', msg })}\n`);
}

export async function isolateMain(argv: readonly string[]): Promise<number> {
  let opts: IsolateOptions;
  let values: Record<string, string | boolean | string[] | undefined>;
  let positionals: string[];
  let report: ReturnType<typeof reporter>;
  try {
    ({ values, positionals } = parseArgs({ args: goStyleLoggerFormat(argv), allowPositionals: true, options: ISOLATE_OPTIONS }));
    if (values.help === true) { process.stdout.write(ISOLATE_USAGE); return 0; }
    report = reporter((values.loggerFormat ?? 'default') as string);
    const flavor = (values.flavor ?? 'victoriametrics') as string;
    if (flavor !== 'victoriametrics' && flavor !== 'prometheus-operator') throw new IsolationError('ERR_ISOLATE_USAGE', '--flavor', 'must be victoriametrics or prometheus-operator');
    const unsafeMode = (values.unsafe ?? 'reject') as string;
    if (unsafeMode !== 'reject' && unsafeMode !== 'neutralise' && unsafeMode !== 'neutralize') throw new IsolationError('ERR_ISOLATE_USAGE', '--unsafe', 'must be reject or neutralise');
    if (typeof values.label !== 'string') throw new IsolationError('ERR_ISOLATE_USAGE', '--label', 'is required');
    if (positionals.length === 0) throw new IsolationError('ERR_ISOLATE_USAGE', 'FILE', 'give at least one file or directory');
    const reserved = values['reserved-label'] as string[] | undefined;
    const policy = typeof values.policy === 'string' ? loadPolicyFile(values.policy) : undefined;
    opts = makeOptions({
      ...(policy !== undefined ? { policy } : {}),
      label: values.label,
      flavor: flavor as Flavor,
      unsafe: (unsafeMode === 'reject' ? 'reject' : 'neutralise') as UnsafePolicy,
      allowFileAccess: values['allow-file-access'] === true,
      ...(reserved !== undefined ? { reservedLabels: reserved } : {}),
    });
  } catch (err) {
    process.stderr.write(`tenantgate isolate: ${(err as Error).message}\n${ISOLATE_USAGE}`);
    return 2;
  }
  try {
    const files: InputFile[] = [];
    for (const p of positionals) collect(p, files);
    const bases = {
      ...(typeof values['scrape-base'] === 'string' ? { scrape: readYamlFile(values['scrape-base']) } : {}),
      ...(typeof values['alertmanager-base'] === 'string' ? { alertmanager: readYamlFile(values['alertmanager-base']) } : {}),
    };
    const result = compile(files, opts, bases);
    for (const w of result.warnings) report('warning', w);
    for (const e of result.errors) report('error', e.describe());
    const out = values.out;
    if (typeof out === 'string') {
      mkdirSync(out, { recursive: true });
      const header = '# Generated by tenantgate isolate; do not edit.\n';
      writeFileSync(join(out, 'scrape.yml'), header + stringify(result.scrapeConfig, YAML_OUT));
      writeFileSync(join(out, 'rules.yml'), header + stringify(result.rules, YAML_OUT));
      writeFileSync(join(out, 'alertmanager.yml'), header + stringify(result.alertmanager, YAML_OUT));
    }
    if (typeof values.report === 'string') writeFileSync(values.report, `${JSON.stringify(result.report, null, 2)}\n`);
    const c = result.counts;
    const refused = result.report.summary.refused;
    report('info', `tenantgate isolate: ${c.scrape} scrape, ${c.rules} rule, ${c.alertmanager} alertmanager objects compiled; ${refused} rejected`);
    return refused > 0 ? 1 : 0;
  } catch (err) {
    process.stderr.write(`tenantgate isolate: ${err instanceof IsolationError ? err.describe() : (err as Error).message}\n`);
    return 2;
  }
}

export { webhookMain } from './webhook/main.ts';
