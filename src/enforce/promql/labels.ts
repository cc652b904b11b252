/** Label and metric name rules shared by the parser, printer and tenant compiler. */

const LEGACY_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const LEGACY_METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export const METRIC_NAME_LABEL = '__name__';

export function isLegacyLabelName(name: string): boolean {
  return LEGACY_LABEL_NAME.test(name);
}

export function isLegacyMetricName(name: string): boolean {
  return LEGACY_METRIC_NAME.test(name);
}

/**
 * Words the PromQL lexers treat as keywords in some position. A metric with
 * one of these names is printed as `{__name__="…"}` so no parser (Prometheus,
 * Thanos, Mimir, or lezer) can read it as an operator or modifier.
 */
const RESERVED_WORDS = new Set([
  'inf', 'nan', 'bool', 'ignoring', 'on', 'group_left', 'group_right', 'offset',
  'atan2', 'avg', 'bottomk', 'count', 'count_values', 'group', 'max', 'min', 'quantile',
  'limitk', 'limit_ratio', 'stddev', 'stdvar', 'sum', 'topk', 'by', 'without',
  'and', 'or', 'unless', 'start', 'end', 'smoothed', 'anchored', 'fill', 'fill_left', 'fill_right',
]);

export function isSafeBareMetricName(name: string): boolean {
  return isLegacyMetricName(name) && !RESERVED_WORDS.has(name.toLowerCase());
}
