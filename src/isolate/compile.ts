// The compiler behind `tenantgate isolate`: reads objects from many files, hardens each one,
// and generates the scrape configuration, the rule file and the Alertmanager configuration.
// An object that cannot be made safe is reported and left out; everything else still compiles.
import { buildAlertmanagerConfig, type AmInput } from './alertmanager-config.ts';
import { IsolationError, type SourceRef } from './errors.ts';
import { hardenObject } from './harden.ts';
import { loadDocuments } from './load.ts';
import { kindInfo, type MonitoringObject } from './objects.ts';
import type { IsolateOptions } from './options.ts';
import { ruleGroups } from './rule-files.ts';
import { scrapeJobs } from './scrape-config.ts';
import { clone, isObj, type Obj } from './util.ts';

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

export function compile(files: readonly InputFile[], opts: IsolateOptions, bases: CompileBases = {}): CompileResult {
  const errors: IsolationError[] = [];
  const warnings: string[] = [];
  const jobs: Obj[] = [];
  const groups: Obj[] = [];
  const amInputs: AmInput[] = [];
  const amSources = new Map<number, { source: SourceRef; ref: string }>();
  const seen = new Map<string, SourceRef>();
  const counts = { scrape: 0, rules: 0, alertmanager: 0 };
  // Prometheus and vmagent refuse a configuration with duplicate job names, so a clash with the
  // base configuration must fail the one object, not the whole output.
  const jobNames = new Set<string>();
  const baseJobs = bases.scrape?.scrape_configs;
  if (Array.isArray(baseJobs)) for (const j of baseJobs) if (isObj(j) && typeof j.job_name === 'string') jobNames.add(j.job_name);

  for (const file of files) {
    for (const doc of loadDocuments(file.text, file.name)) {
      if (doc.error !== undefined) { errors.push(doc.error); continue; }
      let ref: string | undefined;
      try {
        const { object, warnings: w } = hardenObject(doc.value, opts);
        ref = refOf(object);
        const first = seen.get(ref);
        if (first !== undefined) {
          throw new IsolationError('ERR_ISOLATE_CONFLICT', 'metadata.name', `${ref} is defined twice (first in ${first.file}#${first.doc})`);
        }
        seen.set(ref, doc.source);
        const family = kindInfo(object.kind)!.family;
        if (family === 'scrape') {
          const made = scrapeJobs(object, opts);
          const clash = made.find((j) => jobNames.has(String(j.job_name)));
          if (clash !== undefined) throw new IsolationError('ERR_ISOLATE_CONFLICT', 'metadata.name', `job name "${String(clash.job_name)}" is already used by the base scrape configuration`);
          for (const j of made) jobNames.add(String(j.job_name));
          jobs.push(...made);
          counts.scrape++;
        }
        else if (family === 'rules') { groups.push(...ruleGroups(object, opts)); counts.rules++; }
        else {
          const key = amInputs.length;
          amInputs.push({ object, key });
          amSources.set(key, { source: doc.source, ref });
        }
        for (const line of w) warnings.push(`${doc.source.file}#${doc.source.doc} ${ref}: ${line}`);
      } catch (err) {
        if (!(err instanceof Error)) throw err;
        const objectRef = ref ?? (isObj(doc.value) && isObj(doc.value.metadata)
          ? `${String(doc.value.kind)} ${String(doc.value.metadata.namespace ?? '')}/${String(doc.value.metadata.name ?? '')}`
          : undefined);
        errors.push(located(err, doc.source, objectRef));
      }
    }
  }

  const am = buildAlertmanagerConfig(bases.alertmanager, amInputs, opts);
  for (const [key, err] of am.failures) {
    const s = amSources.get(key)!;
    errors.push(located(err, s.source, s.ref));
  }
  counts.alertmanager = amInputs.length - am.failures.size;

  const scrapeConfig = clone(bases.scrape ?? { global: { scrape_interval: '30s' } });
  const existing = Array.isArray(scrapeConfig.scrape_configs) ? scrapeConfig.scrape_configs : [];
  scrapeConfig.scrape_configs = [...existing, ...jobs];
  return { scrapeConfig, rules: { groups }, alertmanager: am.config, errors, warnings, counts };
}
