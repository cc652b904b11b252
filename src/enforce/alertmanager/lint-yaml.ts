// The tenant lint over Alertmanager YAML text, with each finding's line: for
// `tenantgate check alertmanager FILE` and for the `config.original` Alertmanager reports.
import { isNode, LineCounter, parseDocument } from 'yaml';
import { lintAlertmanagerConfig, type LintFinding } from './lint.ts';

export interface LocatedFinding extends LintFinding {
  /** 1-based line of the offending node, or null when it has no place in the text. */
  readonly line: number | null;
}

export type YamlLintResult =
  | { readonly ok: true; readonly config: unknown; readonly findings: readonly LocatedFinding[] }
  | { readonly ok: false; readonly line: number | null; readonly error: string };

/** Aliases may expand a small document into a huge one; Alertmanager configs need few. */
const MAX_ALIASES = 100;

/** Parses Alertmanager YAML (without linting). */
export function parseAlertmanagerYaml(text: string): { ok: true; config: unknown; doc: ReturnType<typeof parseDocument>; lines: LineCounter } | { ok: false; line: number | null; error: string } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const err = doc.errors[0];
  if (err !== undefined) return { ok: false, line: lines.linePos(err.pos[0]).line, error: err.message.split('\n')[0]! };
  try {
    return { ok: true, config: doc.toJS({ maxAliasCount: MAX_ALIASES }), doc, lines };
  } catch (e) {
    return { ok: false, line: null, error: (e as Error).message };
  }
}

export function lintAlertmanagerYaml(text: string, tenantLabels: readonly string[]): YamlLintResult {
  const parsed = parseAlertmanagerYaml(text);
  if (!parsed.ok) return parsed;
  const findings = lintAlertmanagerConfig(parsed.config, tenantLabels).map((f): LocatedFinding => {
    const node = f.path.length === 0 ? parsed.doc.contents : parsed.doc.getIn(f.path, true);
    const start = isNode(node) ? node.range?.[0] : undefined;
    return { ...f, line: start === undefined ? null : parsed.lines.linePos(start).line };
  });
  return { ok: true, config: parsed.config, findings };
}
