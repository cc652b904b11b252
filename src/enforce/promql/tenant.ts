/**
 * Tenant definition → the compiled form every enforcement call uses: the
 * matchers to inject and the filter variants. Validation happens once here so the per-query path only copies.
 */
import { RE2JS } from 're2js';
import type { LabelMatcher } from './ast.ts';
import { PromqlEnforceError, PromqlTenantError } from './errors.ts';
import { isLegacyLabelName, METRIC_NAME_LABEL } from './labels.ts';
import { parsePromql } from './parse.ts';
import { printMatcher } from './print.ts';
import { escapeRegex } from './strings.ts';

/** 1 value → `label="v"`; several → `label=~"v1|v2"` with every value regex-escaped. */
export interface TenantMatcher {
  readonly label: string;
  readonly values: readonly string[];
}

export interface PromqlTenant {
  readonly matchers: readonly TenantMatcher[];
  /**
   * Extra series selectors such as `{env=~"prod|dev"}`, ORed among themselves
   * (like VictoriaMetrics `extra_filters`). See docs/promql-enforcement.md for
   * how several filters are handled.
   */
  readonly filters?: readonly string[];
}

export interface CompileTenantOptions {
  /**
   * Several filters that cannot be merged into one selector cannot be
   * enforced on PromQL queries exactly. By default compileTenant refuses such
   * a tenant; set this to get a tenant usable only with
   * enforceSeriesSelectors (enforceQuery then throws ERR_PROMQL_FILTERS_UNSUPPORTED).
   */
  readonly allowSeriesOnlyFilters?: boolean;
  /**
   * How many enforceQuery results this tenant memoises (LRU; 0 disables).
   * Default 256. Only queries up to CACHEABLE_QUERY_LENGTH characters are
   * kept, so the worst case is about 256 × (2 KiB query + its output) ≈ 2.5 MB
   * per tenant; typical dashboard queries need ~150 KB. Keep CompiledTenant
   * objects for the tenant's lifetime to benefit from it.
   */
  readonly cacheSize?: number;
}

const DEFAULT_CACHE_SIZE = 256;
/** Queries longer than this are not memoised, so the cache's memory stays bounded. */
export const CACHEABLE_QUERY_LENGTH = 2048;

/** Matchers ANDed into every selector, with their keys to drop identical user copies (idempotency). */
export interface Injection {
  readonly matchers: readonly LabelMatcher[];
  readonly keys: ReadonlySet<string>;
}

/** Only compileTenant holds this, so no caller can construct a CompiledTenant around unvalidated matchers. */
const CONSTRUCT = Symbol('CompiledTenant');

/** Opaque, immutable result of compileTenant. */
export class CompiledTenant {
  /** Normalised tenant matchers (values de-duplicated and sorted). */
  readonly matchers: readonly TenantMatcher[];
  /** The tenant's own matchers, as injected into every selector. */
  readonly tenantMatchers: readonly LabelMatcher[];
  /**
   * Filter alternatives, ORed: each is ANDed into a selector. One empty
   * variant when there are no filters.
   */
  readonly filterVariants: readonly (readonly LabelMatcher[])[];
  /** False when several unmergeable filters make exact query enforcement impossible. */
  readonly queryable: boolean;
  /** Per filter variant: the matchers to inject (tenant matchers, then filter matchers). */
  readonly injections: readonly Injection[];
  readonly cacheSize: number;
  /** @internal memo of enforceQuery; insertion order gives LRU eviction. */
  readonly cache: Map<string, string>;

  constructor(
    token: symbol,
    matchers: readonly TenantMatcher[],
    tenantMatchers: readonly LabelMatcher[],
    filterVariants: readonly (readonly LabelMatcher[])[],
    queryable: boolean,
    cacheSize: number,
  ) {
    if (token !== CONSTRUCT) throw new TypeError('use compileTenant() to build a CompiledTenant');
    this.matchers = matchers;
    this.tenantMatchers = tenantMatchers;
    this.filterVariants = filterVariants;
    this.queryable = queryable;
    this.injections = filterVariants.map((f) => {
      const ms = dedupeMatchers([...tenantMatchers, ...f]);
      return { matchers: ms, keys: new Set(ms.map(matcherKey)) };
    });
    this.cacheSize = cacheSize;
    this.cache = new Map();
    Object.freeze(this.matchers);
  }
}

export function matcherKey(m: LabelMatcher): string {
  return `${m.name}\u0000${m.op}\u0000${m.value}`;
}

function dedupeMatchers(ms: readonly LabelMatcher[]): LabelMatcher[] {
  const seen = new Set<string>();
  return ms.filter((m) => {
    const k = matcherKey(m);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Builds the regex that matches exactly the given literal values (Prometheus anchors it). */
export function valuesRegex(values: readonly string[]): string {
  return values.map(escapeRegex).join('|');
}

export function compileTenant(t: PromqlTenant, options: CompileTenantOptions = {}): CompiledTenant {
  if (t === null || typeof t !== 'object' || !Array.isArray(t.matchers)) {
    throw new PromqlTenantError('matchers', 'must be an array of { label, values }');
  }
  if (t.matchers.length === 0) throw new PromqlTenantError('matchers', 'at least one tenant matcher is required');
  const seenLabels = new Set<string>();
  const normalised: TenantMatcher[] = [];
  const tenantMatchers: LabelMatcher[] = [];
  t.matchers.forEach((m, i) => {
    const field = `matchers[${i}]`;
    if (m === null || typeof m !== 'object') throw new PromqlTenantError(field, 'must be an object { label, values }');
    if (typeof m.label !== 'string' || !isLegacyLabelName(m.label)) {
      throw new PromqlTenantError(`${field}.label`, `${JSON.stringify(m.label)} is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)`);
    }
    if (m.label.startsWith('__')) {
      throw new PromqlTenantError(`${field}.label`, `${m.label} is reserved (labels starting with "__" are internal to Prometheus)`);
    }
    if (seenLabels.has(m.label)) throw new PromqlTenantError(`${field}.label`, `label ${m.label} is given twice`);
    seenLabels.add(m.label);
    const given: unknown = m.values;
    if (!Array.isArray(given) || given.length === 0) throw new PromqlTenantError(`${field}.values`, 'must be a non-empty array of strings');
    const strings: string[] = [];
    given.forEach((v: unknown, j: number) => {
      if (typeof v !== 'string') throw new PromqlTenantError(`${field}.values[${j}]`, 'must be a string');
      // An empty value would also match every series that lacks the label.
      if (v === '') throw new PromqlTenantError(`${field}.values[${j}]`, 'must not be empty');
      if (!v.isWellFormed()) throw new PromqlTenantError(`${field}.values[${j}]`, 'is not valid Unicode');
      strings.push(v);
    });
    const values = [...new Set(strings)].sort();
    normalised.push(Object.freeze({ label: m.label, values: Object.freeze(values) }));
    if (values.length === 1) tenantMatchers.push({ name: m.label, op: '=', value: values[0]! });
    else tenantMatchers.push({ name: m.label, op: '=~', value: valuesRegex(values) });
  });
  for (const m of tenantMatchers) if (m.op === '=~') checkRegexMatchesExactly(m, normalised);

  const filters = t.filters ?? [];
  if (!Array.isArray(filters)) throw new PromqlTenantError('filters', 'must be an array of series selectors');
  const parsed = filters.map((f, i) => parseFilter(f, `filters[${i}]`));
  let variants: LabelMatcher[][];
  let queryable = true;
  if (parsed.length === 0) variants = [[]];
  else if (parsed.length === 1) variants = [parsed[0]!];
  else {
    const merged = mergeSingleLabelFilters(parsed);
    if (merged !== null) variants = [[merged]];
    else {
      if (options.allowSeriesOnlyFilters !== true) {
        throw new PromqlTenantError(
          'filters',
          'several filters can only be enforced on PromQL queries when each is one positive matcher (= or =~) on the same label; ' +
            'Prometheus has no "or" inside a selector. Combine them into one filter, or pass allowSeriesOnlyFilters to use them only for match[] endpoints',
        );
      }
      variants = parsed;
      queryable = false;
    }
  }
  const cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
  if (!Number.isInteger(cacheSize) || cacheSize < 0) throw new PromqlTenantError('cacheSize', 'must be a non-negative integer');
  return new CompiledTenant(CONSTRUCT, Object.freeze(normalised), tenantMatchers, variants, queryable, cacheSize);
}

/** Defence in depth: the escaped alternation must match every value and nothing that is merely similar. */
function checkRegexMatchesExactly(m: LabelMatcher, tenant: readonly TenantMatcher[]): void {
  const values = tenant.find((t) => t.label === m.name)!.values;
  const re = RE2JS.compile(`^(?:${m.value})$`, RE2JS.DOTALL);
  for (const v of values) {
    if (!re.matches(v)) throw new PromqlTenantError(`matchers(${m.name})`, `internal: escaped regex does not match ${JSON.stringify(v)}`);
  }
  if (re.matches('')) throw new PromqlTenantError(`matchers(${m.name})`, 'internal: escaped regex matches the empty string');
}

function parseFilter(f: unknown, field: string): LabelMatcher[] {
  if (typeof f !== 'string') throw new PromqlTenantError(field, 'must be a series selector string like {env="prod"}');
  let expr;
  try {
    expr = parsePromql(f);
  } catch (err) {
    if (err instanceof PromqlEnforceError) throw new PromqlTenantError(field, err.message);
    throw err;
  }
  if (expr.kind !== 'vector') throw new PromqlTenantError(field, 'must be a plain series selector like {env="prod"} (no functions, ranges or modifiers)');
  const ms: LabelMatcher[] = [];
  if (expr.metric !== null) ms.push({ name: METRIC_NAME_LABEL, op: '=', value: expr.metric });
  for (const m of expr.matchers) {
    if (m.op === '=~' || m.op === '!~') {
      try {
        RE2JS.compile(m.value);
      } catch (err) {
        throw new PromqlTenantError(field, `regex for ${m.name} does not compile: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    ms.push(m);
  }
  return dedupeMatchers(ms);
}

/**
 * `{a="x"}` OR `{a=~"y.*"}` is exactly `{a=~"(?:x)|(?:y.*)"}` because
 * Prometheus anchors the whole regex. Any other shape has no exact single
 * selector, so we return null.
 */
function mergeSingleLabelFilters(filters: readonly LabelMatcher[][]): LabelMatcher | null {
  const first = filters[0]?.[0];
  if (first === undefined) return null;
  const alternatives: string[] = [];
  for (const f of filters) {
    const m = f[0];
    if (f.length !== 1 || m === undefined || m.name !== first.name || (m.op !== '=' && m.op !== '=~')) return null;
    alternatives.push(`(?:${m.op === '=' ? escapeRegex(m.value) : m.value})`);
  }
  return { name: first.name, op: '=~', value: [...new Set(alternatives)].join('|') };
}

/** The tenant's own selectors (`{namespace="a"}`), one per filter variant. */
export function tenantSelectors(t: CompiledTenant): string[] {
  return t.injections.map((inj) => `{${inj.matchers.map(printMatcher).join(', ')}}`);
}
