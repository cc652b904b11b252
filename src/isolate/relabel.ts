// Relabel rules: normalising the CRD spellings (camelCase, or the snake_case VictoriaMetrics also
// accepts), deciding whether a rule can write or remove a given label, and the enforcement rules
// tenantgate appends after every user rule.
import { RE2JS } from 're2js';
import { IsolationError, unsafe, unsupported } from './errors.ts';
import type { Flavor } from './options.ts';

/** A relabel rule in Prometheus/vmagent configuration spelling. */
export interface Relabel {
  source_labels?: string[];
  separator?: string;
  target_label?: string;
  regex?: string | string[];
  modulus?: number;
  replacement?: string;
  action?: string;
  if?: unknown;
  match?: unknown;
  labels?: Record<string, string>;
}

const KEYS: Readonly<Record<string, keyof Relabel>> = {
  sourceLabels: 'source_labels', source_labels: 'source_labels',
  separator: 'separator',
  targetLabel: 'target_label', target_label: 'target_label',
  regex: 'regex',
  modulus: 'modulus',
  replacement: 'replacement',
  action: 'action',
  if: 'if',
  match: 'match',
  labels: 'labels',
};

/** Actions Prometheus 2.42 accepts. */
const PROMETHEUS_ACTIONS = new Set(['replace', 'keep', 'drop', 'hashmod', 'labelmap', 'labeldrop', 'labelkeep', 'lowercase', 'uppercase', 'keepequal', 'dropequal']);
/** Extra actions only vmagent accepts. */
const VM_ACTIONS = new Set(['graphite', 'keep_if_equal', 'drop_if_equal', 'keep_if_contains', 'drop_if_contains', 'keep_metrics', 'drop_metrics', 'labelmap_all', 'replace_all']);

/** Reads one rule as written in a CRD; rejects unknown fields and values vmagent/Prometheus would reject. */
export function normaliseRelabel(raw: unknown, field: string, flavor: Flavor): Relabel {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new IsolationError('ERR_ISOLATE_OBJECT', field, 'a relabel rule must be a mapping');
  }
  const out: Relabel = {};
  // The operators read the camelCase field when both spellings are present, so snake_case keys
  // are applied first and a camelCase twin overrides them.
  const entries = Object.entries(raw).sort(([a], [b]) => Number(!a.includes('_')) - Number(!b.includes('_')));
  for (const [k, v] of entries) {
    const key = Object.hasOwn(KEYS, k) ? KEYS[k] : undefined;
    if (key === undefined) throw new IsolationError('ERR_ISOLATE_OBJECT', `${field}.${k}`, 'unknown relabel field');
    const f = `${field}.${k}`;
    switch (key) {
      case 'source_labels':
        if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new IsolationError('ERR_ISOLATE_OBJECT', f, 'must be a list of label names');
        out.source_labels = v as string[];
        break;
      case 'regex':
        if (typeof v === 'string') out.regex = v;
        else if (Array.isArray(v) && v.every((s) => typeof s === 'string')) out.regex = v as string[];
        else throw new IsolationError('ERR_ISOLATE_OBJECT', f, 'must be a string');
        break;
      case 'modulus':
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new IsolationError('ERR_ISOLATE_OBJECT', f, 'must be a non-negative integer');
        out.modulus = v;
        break;
      case 'labels':
        if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((s) => typeof s === 'string')) throw new IsolationError('ERR_ISOLATE_OBJECT', f, 'must be a map of strings');
        out.labels = v as Record<string, string>;
        break;
      case 'if':
      case 'match':
        out[key] = v;
        break;
      default:
        if (typeof v !== 'string') throw new IsolationError('ERR_ISOLATE_OBJECT', f, 'must be a string');
        out[key] = key === 'action' ? v.toLowerCase() : v;
    }
  }
  const action = out.action ?? 'replace';
  if (!PROMETHEUS_ACTIONS.has(action)) {
    if (!VM_ACTIONS.has(action)) throw new IsolationError('ERR_ISOLATE_OBJECT', `${field}.action`, `unknown relabel action "${action}"`);
    if (flavor === 'prometheus-operator') throw unsupported(`${field}.action`, `"${action}" is a vmagent-only action; Prometheus does not accept it`);
  }
  if (flavor === 'prometheus-operator') {
    for (const k of ['if', 'match', 'labels'] as const) {
      if (out[k] !== undefined) throw unsupported(`${field}.${k}`, 'is a vmagent-only relabel field; Prometheus does not accept it');
    }
  }
  checkRelabelShape(out, action, field, flavor);
  return out;
}

/** Prometheus's rule for a replace target: a label name that may contain `$1`/`${name}` references. */
const RELABEL_TARGET = /^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

// What Prometheus 2.42 and vmagent refuse when loading a relabel rule; either refusal would make
// the whole shared scrape configuration unloadable, so it is an error of this object.
function checkRelabelShape(r: Relabel, action: string, field: string, flavor: Flavor): void {
  const bad = (f: string, why: string): never => { throw new IsolationError('ERR_ISOLATE_OBJECT', f === '' ? field : `${field}.${f}`, why); };
  for (const re of r.regex === undefined ? [] : Array.isArray(r.regex) ? r.regex : [r.regex]) fullMatch(re, '', `${field}.regex`);
  const prom = flavor === 'prometheus-operator';
  const target = r.target_label ?? '';
  switch (action) {
    case 'replace':
      if (target === '') bad('', 'a replace rule needs targetLabel');
      if (prom && !RELABEL_TARGET.test(target)) bad('targetLabel', `"${target}" is not a valid target label`);
      break;
    case 'hashmod':
      if (target === '') bad('', 'a hashmod rule needs targetLabel');
      if (r.modulus === undefined || r.modulus === 0) bad('modulus', 'a hashmod rule needs a non-zero modulus');
      if (prom && !LABEL_NAME.test(target)) bad('targetLabel', `"${target}" is not a valid label name`);
      break;
    case 'lowercase': case 'uppercase': case 'keepequal': case 'dropequal':
      if (target === '') bad('', `a ${action} rule needs targetLabel`);
      if (prom && !LABEL_NAME.test(target)) bad('targetLabel', `"${target}" is not a valid label name`);
      if ((action === 'keepequal' || action === 'dropequal') && (r.source_labels ?? []).length === 0) bad('', `a ${action} rule needs sourceLabels`);
      break;
    case 'labeldrop': case 'labelkeep':
      if (prom && (r.source_labels !== undefined || r.target_label !== undefined || r.modulus !== undefined || r.replacement !== undefined || r.separator !== undefined)) {
        bad('', `a ${action} rule takes only regex (Prometheus refuses other fields)`);
      }
      break;
    case 'labelmap':
      if (prom && !RELABEL_TARGET.test(r.replacement ?? '$1')) bad('replacement', `"${r.replacement ?? ''}" is not a valid label name template`);
      break;
    case 'keep': case 'drop':
      // vmagent refuses keep/drop with nothing to match; Prometheus matches the empty string.
      if (!prom && (r.source_labels ?? []).length === 0 && r.if === undefined) bad('', `a ${action} rule needs sourceLabels (or if)`);
      break;
  }
}

function regexSource(r: Relabel): string {
  if (r.regex === undefined) return '(.*)';
  return Array.isArray(r.regex) ? r.regex.join('|') : r.regex;
}

/** Full-match test with RE2 semantics, as Prometheus and vmagent anchor relabel regexes. */
export function fullMatch(regex: string, value: string, field: string): boolean {
  try {
    return RE2JS.compile(`^(?:${regex})$`).matches(value);
  } catch (err) {
    throw new IsolationError('ERR_ISOLATE_OBJECT', field, `invalid regex: ${(err as Error).message}`);
  }
}

/**
 * How a rule can affect `label`: `write` — sets it by its exact name; `touch` — may remove or rename
 * it, or write it through a templated target (`$1`), so its effect cannot be decided statically;
 * `none` — leaves it alone.
 */
export function effectOn(r: Relabel, label: string, field: string): 'write' | 'touch' | 'none' {
  const action = r.action ?? 'replace';
  switch (action) {
    case 'replace':
    case 'replace_all':
    case 'hashmod':
    case 'lowercase':
    case 'uppercase': {
      const t = r.target_label ?? '';
      if (t === label) return 'write';
      return t.includes('$') ? 'touch' : 'none';
    }
    case 'labelmap': {
      const repl = r.replacement ?? '$1';
      if (repl === label) return 'touch';
      return repl.includes('$') && matchesAnyName(regexSource(r), field) ? 'touch' : 'none';
    }
    case 'labelmap_all':
      return 'touch';
    case 'labeldrop':
      return fullMatch(regexSource(r), label, `${field}.regex`) ? 'touch' : 'none';
    case 'labelkeep':
      return fullMatch(regexSource(r), label, `${field}.regex`) ? 'none' : 'touch';
    case 'graphite':
      return r.labels !== undefined && Object.hasOwn(r.labels, label) ? 'write' : 'none';
    default:
      return 'none';
  }
}

// A labelmap with a `$n` replacement can produce any name its capture groups can hold; we only
// trust it when the regex cannot match anything (never, in practice), so this just validates it.
function matchesAnyName(regex: string, field: string): boolean {
  fullMatch(regex, '', `${field}.regex`);
  return true;
}

/** The rules appended after all user rules: drop reserved labels, then set the tenant label. */
export function enforcementRules(label: string, namespace: string, reserved: readonly string[]): Relabel[] {
  const rules: Relabel[] = [];
  if (reserved.length > 0) rules.push({ action: 'labeldrop', regex: reserved.join('|') });
  rules.push({ target_label: label, replacement: namespace });
  return rules;
}

/** The same rules in CRD spelling (camelCase, accepted by both operators). */
export function enforcementRulesCrd(label: string, namespace: string, reserved: readonly string[]): Record<string, unknown>[] {
  return enforcementRules(label, namespace, reserved).map((r) => (r.action === 'labeldrop'
    ? { action: 'labeldrop', regex: r.regex }
    : { targetLabel: r.target_label, replacement: r.replacement }));
}

export function sameRelabel(a: Relabel, b: Relabel): boolean {
  return canonical({ ...a, action: a.action ?? 'replace' }) === canonical({ ...b, action: b.action ?? 'replace' });
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
}

/**
 * Analyses a metric relabel list (the phase after the scrape, where the operators differ).
 * Returns the list with rules writing `label` removed and unsafe rules rejected or kept
 * (when neutralising, the final enforcement rule overrides whatever they did).
 */
export function checkMetricRelabels(
  rules: readonly unknown[], field: string, label: string, flavor: Flavor, neutralise: boolean, warnings: string[],
): unknown[] {
  const kept: unknown[] = [];
  rules.forEach((raw, i) => {
    const f = `${field}[${i}]`;
    const r = normaliseRelabel(raw, f, flavor);
    const effect = effectOn(r, label, f);
    if (effect === 'write') {
      warnings.push(`${f}: removed, it writes the enforced label "${label}"`);
      return;
    }
    if (effect === 'touch') {
      const what = `${r.action ?? 'replace'} rule may remove or rewrite the enforced label "${label}" after the scrape`;
      if (!neutralise) throw unsafe(f, what);
      warnings.push(`${f}: ${what}; kept, the final metric relabel rule re-sets the label`);
    }
    kept.push(raw);
  });
  return kept;
}

/** Drops trailing copies of the enforcement rules, so re-hardening an object is a no-op. */
export function stripEnforcementTail(rules: readonly unknown[], enforcement: readonly Relabel[], flavor: Flavor): unknown[] {
  const out = [...rules];
  let changed = true;
  while (changed && out.length > 0) {
    changed = false;
    const last = out[out.length - 1];
    let r: Relabel;
    try { r = normaliseRelabel(last, '', flavor); } catch { break; }
    if (enforcement.some((e) => sameRelabel(e, r))) { out.pop(); changed = true; }
  }
  return out;
}

/** Prometheus/vmagent configuration spelling of a normalised rule, keys in a stable order. */
export function relabelToConfig(r: Relabel, flavor: Flavor): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (r.source_labels !== undefined) out.source_labels = r.source_labels;
  if (r.separator !== undefined) out.separator = r.separator;
  if (r.target_label !== undefined) out.target_label = r.target_label;
  if (r.regex !== undefined) out.regex = Array.isArray(r.regex) && flavor === 'prometheus-operator' ? r.regex.join('|') : r.regex;
  if (r.modulus !== undefined) out.modulus = r.modulus;
  if (r.replacement !== undefined) out.replacement = r.replacement;
  if (r.action !== undefined) out.action = r.action;
  if (r.if !== undefined) out.if = r.if;
  if (r.match !== undefined) out.match = r.match;
  if (r.labels !== undefined) out.labels = r.labels;
  return out;
}
