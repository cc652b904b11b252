/**
 * Independent checks on enforced output: walks the raw lezer tree (not our
 * converter) to list every selector and its matchers.
 */
import * as T from '@prometheus-io/lezer-promql';
import { parser } from '@prometheus-io/lezer-promql';
import { decodePromqlString } from '../../../src/enforce/promql/strings.ts';

export interface RawMatcher { name: string; op: string; value: string }
export interface RawSelector { metric: string | null; matchers: RawMatcher[] }

/** Throws when the tree has an error node; returns the selectors in source order. */
export function rawSelectors(query: string): RawSelector[] {
  const tree = parser.parse(query);
  const out: RawSelector[] = [];
  let error: number | null = null;
  tree.iterate({
    enter(node) {
      if (node.type.isError && error === null) error = node.from;
      if (node.type.id !== T.VectorSelector) return;
      const sel: RawSelector = { metric: null, matchers: [] };
      const n = node.node;
      for (let c = n.firstChild; c !== null; c = c.nextSibling) {
        if (c.type.id === T.Identifier) sel.metric = query.slice(c.from, c.to);
        if (c.type.id !== T.LabelMatchers) continue;
        for (let m = c.firstChild; m !== null; m = m.nextSibling) {
          if (m.type.id === T.QuotedLabelName) {
            sel.metric = decodePromqlString(query.slice(m.from, m.to));
            continue;
          }
          const name = m.firstChild!;
          const op = name.nextSibling!;
          const value = op.nextSibling!;
          const nameText = query.slice(name.from, name.to);
          sel.matchers.push({
            name: name.type.id === T.QuotedLabelName ? decodePromqlString(nameText) : nameText,
            op: query.slice(op.from, op.to),
            value: decodePromqlString(query.slice(value.from, value.to)),
          });
        }
      }
      out.push(sel);
    },
  });
  if (error !== null) throw new Error(`output has a syntax error at ${error}: ${query}`);
  return out;
}

/** True when every selector of `query` carries every expected matcher. */
export function everySelectorHas(query: string, expected: readonly RawMatcher[]): boolean {
  const sels = rawSelectors(query);
  return sels.every((s) => expected.every((e) => s.matchers.some((m) => m.name === e.name && m.op === e.op && m.value === e.value)));
}
