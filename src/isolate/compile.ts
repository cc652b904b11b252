// The compiler behind `tenantgate isolate`: reads objects from many files, hardens each one,
// applies the alert-definition policy, and generates the scrape configuration, the rule file and
// the Alertmanager configuration. Each object's contribution is checked against what the real
// tools refuse before it joins the shared output, so an object that cannot be made safe or valid
// is reported and left out and everything else still compiles.
import { buildAlertmanagerConfig, type AmInput } from './alertmanager-config.ts';
import { checkAlertmanagerConfig } from './alertmanager-validate.ts';
import { IsolationError, type SourceRef } from './errors.ts';
import { hardenObject } from './harden.ts';
import { loadDocuments } from './load.ts';
import { kindInfo, type MonitoringObject } from './objects.ts';
import type { IsolateOptions } from './options.ts';
import { policyViolations } from './policy/apply.ts';
import { ruleCount } from './policy/check.ts';
import { errorEntry, summarise, type CompileReport, type ObjectRecord } from './report.ts';
import { ruleGroups } from './rule-files.ts';
import { checkRuleGroup } from './rule-validate.ts';
import { scrapeJobs } from './scrape-config.ts';
import { clone, isObj, type Obj } from './util.ts';
import { diff } from './webhook/jsonpatch.ts';

export interface InputFile { readonly name: string; readonly text: string }

export interface CompileResult {
  /** Prometheus/vmagent configuration: the base config with the generated `scrape_configs` appended. */
  readonly scrapeConfig: Obj;
  /** A rule file (`groups:`) for vmalert or Prometheus. */
  readonly rules: Obj;
  /** A complete Alertmanager configuration. */
  readonly alertmanager: Obj;
  readonly errors: readonly IsolationError[];
  readonly warnings: readonly string[];
  /** How many objects of each family made it into the output. */
  readonly counts: { scrape: number; rules: number; alertmanager: number };
  /** Per-object outcome, for `--report`. */
  readonly report: CompileReport;
}

export interface CompileBases {
  readonly scrape?: Obj;
  readonly alertmanager?: Obj;
}

function refOf(o: MonitoringObject): string {
  return `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`;
}

function located(err: unknown, source: SourceRef, objectRef?: string): IsolationError {
  const e = err instanceof IsolationError ? err : new IsolationError('ERR_ISOLATE_OBJECT', '', (err as Error).message);
  e.source ??= source;
  if (objectRef !== undefined) e.objectRef ??= objectRef;
  return e;
}

function envelope(v: unknown): { kind: string; namespace: string; name: string } {
  const meta = isObj(v) && isObj(v.metadata) ? v.metadata : {};
  return {
    kind: isObj(v) && typeof v.kind === 'string' ? v.kind : '',
    namespace: typeof meta.namespace === 'string' ? meta.namespace : '',
    name: typeof meta.name === 'string' ? meta.name : '',
  };
}

export function compile(files: readonly InputFile[], opts: IsolateOptions, bases: CompileBases = {}): CompileResult {
  const errors: IsolationError[] = [];
  const warnings: string[] = [];
  const jobs: Obj[] = [];
  const groups: Obj[] = [];
  const amInputs: AmInput[] = [];
  const amRecords = new Map<number, ObjectRecord>();
  const records: ObjectRecord[] = [];
  const seen = new Map<string, SourceRef>();
  const counts = { scrape: 0, rules: 0, alertmanager: 0 };
  const rulesPerNamespace = new Map<string, number>();
  const groupNames = new Set<string>();
  // Prometheus and vmagent refuse a configuration with duplicate job names, so a clash with the
  // base configuration must fail the one object, not the whole output.
  const jobNames = new Set<string>();
  const baseJobs = bases.scrape?.scrape_configs;
  if (Array.isArray(baseJobs)) for (const j of baseJobs) if (isObj(j) && typeof j.job_name === 'string') jobNames.add(j.job_name);

  const refuse = (record: ObjectRecord, errs: readonly IsolationError[]) => {
    record.status = 'refused';
    record.errors.push(...errs.map(errorEntry));
    errors.push(...errs);
  };

  for (const file of files) {
    for (const doc of loadDocuments(file.text, file.name)) {
      const record: ObjectRecord = { ...envelope(doc.value), source: doc.source, status: 'compiled', changes: [], warnings: [], errors: [] };
      records.push(record);
      if (doc.error !== undefined) { refuse(record, [doc.error]); continue; }
      let ref: string | undefined;
      try {
        const { object, warnings: w } = hardenObject(doc.value, opts);
        ref = refOf(object);
        Object.assign(record, { kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name });
        const first = seen.get(ref);
        if (first !== undefined) {
          throw new IsolationError('ERR_ISOLATE_CONFLICT', 'metadata.name', `${ref} is defined twice (first in ${first.file}#${first.doc})`);
        }
        seen.set(ref, doc.source);
        const family = kindInfo(object.kind)!.family;
        if (opts.policy !== undefined) {
          const before = rulesPerNamespace.get(object.metadata.namespace) ?? 0;
          const violations = policyViolations(object, opts.policy, before);
          if (violations.length > 0) {
            refuse(record, violations.map((v) => located(new IsolationError('ERR_ISOLATE_POLICY', '', v), doc.source, ref)));
            continue;
          }
        }
        if (family === 'scrape') {
          const made = scrapeJobs(object, opts);
          const clash = made.find((j) => jobNames.has(String(j.job_name)));
          if (clash !== undefined) throw new IsolationError('ERR_ISOLATE_CONFLICT', 'metadata.name', `job name "${String(clash.job_name)}" is already used by the base scrape configuration`);
          for (const j of made) jobNames.add(String(j.job_name));
          jobs.push(...made);
          counts.scrape++;
        } else if (family === 'rules') {
          const made = ruleGroups(object, opts);
          made.forEach((g, i) => checkRuleGroup(g, `spec.groups[${i}]`, opts.flavor));
          const clash = made.find((g) => groupNames.has(String(g.name)));
          if (clash !== undefined) throw new IsolationError('ERR_ISOLATE_CONFLICT', 'spec.groups', `group name "${String(clash.name)}" is already used by another object`);
          for (const g of made) groupNames.add(String(g.name));
          groups.push(...made);
          rulesPerNamespace.set(object.metadata.namespace, (rulesPerNamespace.get(object.metadata.namespace) ?? 0) + ruleCount(object));
          counts.rules++;
        } else {
          const key = amInputs.length;
          amInputs.push({ object, key });
          amRecords.set(key, record);
        }
        record.changes = diff(doc.value, object).map((op) => ({ op: op.op, path: op.path }));
        if (record.changes.length > 0) record.status = 'changed';
        record.warnings = [...w];
        for (const line of w) warnings.push(`${doc.source.file}#${doc.source.doc} ${ref}: ${line}`);
      } catch (err) {
        if (!(err instanceof Error)) throw err;
        const e = envelope(doc.value);
        refuse(record, [located(err, doc.source, ref ?? (e.kind !== '' ? `${e.kind} ${e.namespace}/${e.name}` : undefined))]);
      }
    }
  }

  const am = buildAlertmanagerConfig(bases.alertmanager, amInputs, opts);
  for (const [key, err] of am.failures) {
    const record = amRecords.get(key)!;
    refuse(record, [located(err, record.source, `${record.kind} ${record.namespace}/${record.name}`)]);
  }
  counts.alertmanager = amInputs.length - am.failures.size;
  // Every object was checked on its own; a failure here is the base configuration's.
  checkAlertmanagerConfig(am.config);

  const scrapeConfig = clone(bases.scrape ?? { global: { scrape_interval: '30s' } });
  const existing = Array.isArray(scrapeConfig.scrape_configs) ? scrapeConfig.scrape_configs : [];
  scrapeConfig.scrape_configs = [...existing, ...jobs];
  const report: CompileReport = {
    version: 1, label: opts.label, flavor: opts.flavor, policy: opts.policy?.file ?? null,
    summary: summarise(records), objects: records,
  };
  return { scrapeConfig, rules: { groups }, alertmanager: am.config, errors, warnings, counts, report };
}
