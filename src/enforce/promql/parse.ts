/**
 * Converts the lezer-promql syntax tree into our own expression tree. The
 * conversion is deliberately strict: any error node, unknown node type, or
 * construct Prometheus itself would refuse (a range on something that is not a
 * selector, a metric name set twice, …) makes the whole query fail, so nothing
 * we did not fully understand is ever forwarded.
 */
import * as T from '@prometheus-io/lezer-promql';
import { parser as lezerParser } from '@prometheus-io/lezer-promql';
import type {
  AggregateExpr, AtExpr, BinaryOp, Duration, Expr, FillModifier, LabelMatcher, MatchOp, NumberLiteral, VectorMatching, VectorSelector,
} from './ast.ts';
import { PromqlEnforceError, describePosition } from './errors.ts';
import { METRIC_NAME_LABEL } from './labels.ts';
import { StringLiteralError, decodePromqlString } from './strings.ts';

type SyntaxNode = ReturnType<typeof lezerParser.parse>['topNode'];

/** Strict mode: lezer throws at the first syntax error instead of recovering around it. */
const strictParser = lezerParser.configure({ strict: true });

export interface ParseLimits {
  /** Longest accepted input, in UTF-16 code units. */
  readonly maxLength: number;
  /** Deepest accepted expression nesting (parentheses, operands, arguments, …). */
  readonly maxDepth: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = { maxLength: 64 * 1024, maxDepth: 128 };

const BINARY_OPS = new Map<number, BinaryOp>([
  [T.Pow, '^'], [T.Mul, '*'], [T.Div, '/'], [T.Mod, '%'], [T.Atan2, 'atan2'], [T.Add, '+'], [T.Sub, '-'],
  [T.Eql, '=='], [T.Neq, '!='], [T.Gte, '>='], [T.Gtr, '>'], [T.Lte, '<='], [T.Lss, '<'],
  [T.TrimUpper, '</'], [T.TrimLower, '>/'], [T.And, 'and'], [T.Unless, 'unless'], [T.Or, 'or'],
]);

const DURATION_OPS = new Map<number, '^' | '*' | '/' | '%' | '+' | '-'>([
  [T.Pow, '^'], [T.Mul, '*'], [T.Div, '/'], [T.Mod, '%'], [T.Add, '+'], [T.Sub, '-'],
]);

const MATCH_OPS = new Map<number, MatchOp>([[T.EqlSingle, '='], [T.Neq, '!='], [T.EqlRegex, '=~'], [T.NeqRegex, '!~']]);

// Digits, hex, exponent, duration units, Inf/NaN: the lexer's number token never holds anything else.
const NUMBER_TOKEN = /^(?:inf|nan|(?:[0-9]|\.[0-9])[0-9A-Za-z_.]*(?:[+-][0-9_]+)?)$/i;
const FUNCTION_NAME = /^[a-z][a-z0-9_]*$/;

/** Parses one PromQL expression; throws PromqlEnforceError on anything not fully understood. */
export function parsePromql(input: string, limits: ParseLimits = DEFAULT_PARSE_LIMITS): Expr {
  if (input.length > limits.maxLength) {
    throw new PromqlEnforceError('ERR_PROMQL_TOO_LONG', `PromQL query is ${input.length} characters long; the limit is ${limits.maxLength}`);
  }
  let top: SyntaxNode;
  try {
    top = strictParser.parse(input).topNode;
  } catch (err) {
    const match = /No parse at (\d+)/.exec(err instanceof Error ? err.message : '');
    const position = match ? Number(match[1]) : 0;
    throw parseError(input, position, 'unexpected input');
  }
  return new Converter(input, limits).root(top);
}

function parseError(input: string, position: number, what: string): PromqlEnforceError {
  const near = input.slice(position, position + 24);
  const shown = near.length > 0 ? ` near ${JSON.stringify(near)}` : ' at end of input';
  return new PromqlEnforceError('ERR_PROMQL_PARSE', `cannot parse PromQL at ${describePosition(input, position)}: ${what}${shown}`, position);
}

class Converter {
  private readonly input: string;
  private readonly limits: ParseLimits;

  constructor(input: string, limits: ParseLimits) {
    this.input = input;
    this.limits = limits;
  }

  root(top: SyntaxNode): Expr {
    if (top.type.id !== T.PromQL) throw this.fail(top, 'expected a PromQL expression');
    const kids = this.children(top);
    if (kids.length !== 1) throw this.fail(top, kids.length === 0 ? 'empty query' : 'more than one expression');
    return this.expr(kids[0]!, 0);
  }

  private fail(node: SyntaxNode, what: string): PromqlEnforceError {
    return parseError(this.input, node.from, what);
  }

  private text(node: SyntaxNode): string {
    return this.input.slice(node.from, node.to);
  }

  /** Named children without comments; an error node anywhere is fatal. */
  private children(node: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let c = node.firstChild; c !== null; c = c.nextSibling) {
      if (c.type.isError) throw this.fail(c, 'syntax error');
      if (c.type.id === T.LineComment) continue;
      out.push(c);
    }
    return out;
  }

  private expect(kids: SyntaxNode[], index: number, parent: SyntaxNode, what: string): SyntaxNode {
    const k = kids[index];
    if (k === undefined) throw this.fail(parent, `missing ${what}`);
    return k;
  }

  private deeper(node: SyntaxNode, depth: number): number {
    if (depth >= this.limits.maxDepth) {
      throw new PromqlEnforceError(
        'ERR_PROMQL_TOO_DEEP',
        `PromQL expression nests deeper than ${this.limits.maxDepth} levels at ${describePosition(this.input, node.from)}`,
        node.from,
      );
    }
    return depth + 1;
  }

  expr(node: SyntaxNode, depth: number): Expr {
    const d = this.deeper(node, depth);
    if (node.type.isError) throw this.fail(node, 'syntax error');
    const kids = this.children(node);
    switch (node.type.id) {
      case T.VectorSelector:
        return this.vectorSelector(node, kids);
      case T.MatrixSelector: {
        const inner = this.expr(this.expect(kids, 0, node, 'selector'), d);
        const range = this.duration(this.expect(kids, 1, node, 'range'), d);
        return this.postfix(inner, (target) => {
          if (target.kind !== 'vector') throw this.fail(node, 'a range [..] must directly follow a vector selector');
          return { kind: 'matrix', selector: target, range };
        });
      }
      case T.SubqueryExpr: {
        const inner = this.expr(this.expect(kids, 0, node, 'expression'), d);
        const range = this.duration(this.expect(kids, 1, node, 'subquery range'), d);
        const step = kids[2] === undefined ? null : this.duration(kids[2], d);
        if (kids.length > 3) throw this.fail(kids[3]!, 'unexpected subquery part');
        return this.postfix(inner, (target) => ({ kind: 'subquery', expr: target, range, step }));
      }
      case T.OffsetExpr: {
        const inner = this.expr(this.expect(kids, 0, node, 'expression'), d);
        const off = this.expect(kids, 2, node, 'offset duration');
        if (kids[1]?.type.id !== T.Offset || off.type.id !== T.OffsetDurationExpr) throw this.fail(node, 'malformed offset');
        const offset = this.duration(off, d);
        return this.postfix(inner, (target) => {
          this.checkModifierTarget(node, target, 'offset');
          return { kind: 'offset', expr: target, offset };
        });
      }
      case T.StepInvariantExpr: {
        const inner = this.expr(this.expect(kids, 0, node, 'expression'), d);
        const atNode = this.expect(kids, 2, node, '@ timestamp');
        if (kids[1]?.type.id !== T.At) throw this.fail(node, 'malformed @ modifier');
        let at: AtExpr['at'] | null = null;
        if (atNode.type.id === T.NumberDurationLiteral) at = this.number(atNode);
        else if (atNode.type.id === T.AtModifierPreprocessors) {
          const which = this.children(atNode)[0]?.type.id;
          if (which === T.AtStart) at = 'start()';
          else if (which === T.AtEnd) at = 'end()';
        }
        if (at === null) throw this.fail(atNode, 'expected a number, start() or end() after @');
        const value = at;
        return this.postfix(inner, (target) => {
          this.checkModifierTarget(node, target, 'at');
          return { kind: 'at', expr: target, at: value };
        });
      }
      case T.AnchoredExpr:
      case T.SmoothedExpr: {
        const inner = this.expr(this.expect(kids, 0, node, 'expression'), d);
        const kind = node.type.id === T.AnchoredExpr ? 'anchored' : 'smoothed';
        return this.postfix(inner, (target) => {
          this.checkModifierTarget(node, target, kind);
          return { kind, expr: target };
        });
      }
      case T.NumberDurationLiteral:
        return this.number(node);
      case T.StringLiteral:
        return { kind: 'string', value: this.string(node) };
      case T.ParenExpr:
        if (kids.length !== 1) throw this.fail(node, 'expected one expression in parentheses');
        return { kind: 'paren', expr: this.expr(kids[0]!, d) };
      case T.UnaryExpr: {
        const op = this.text(this.expect(kids, 0, node, 'operator')).trim();
        if (kids[0]!.type.id !== T.UnaryOp || (op !== '-' && op !== '+')) throw this.fail(node, 'malformed unary expression');
        if (kids.length !== 2) throw this.fail(node, 'malformed unary expression');
        return { kind: 'unary', op, expr: this.expr(kids[1]!, d) };
      }
      case T.BinaryExpr:
        return this.binary(node, kids, d);
      case T.FunctionCall: {
        const ident = this.expect(kids, 0, node, 'function name');
        const body = this.expect(kids, 1, node, 'arguments');
        const func = this.text(ident);
        if (ident.type.id !== T.FunctionIdentifier || !FUNCTION_NAME.test(func) || body.type.id !== T.FunctionCallBody || kids.length !== 2) {
          throw this.fail(node, 'malformed function call');
        }
        return { kind: 'call', func, args: this.args(body, d) };
      }
      case T.AggregateExpr:
        return this.aggregate(node, kids, d);
      default:
        throw this.fail(node, `unsupported construct ${node.type.name}`);
    }
  }

  /**
   * lezer-promql gives postfix modifiers (range, subquery, offset, @,
   * anchored, smoothed) no precedence, so `a - b offset 1d` comes out as
   * `(a - b) offset 1d`. Prometheus binds them tighter than every operator,
   * i.e. to the right-most operand; re-associate to match it. (Either tree
   * holds the same selectors, so this is about fidelity, not scoping.)
   */
  private postfix(inner: Expr, build: (target: Expr) => Expr): Expr {
    if (inner.kind === 'binary') return { ...inner, rhs: this.postfix(inner.rhs, build) };
    if (inner.kind === 'unary') return { ...inner, expr: this.postfix(inner.expr, build) };
    return build(inner);
  }

  /**
   * Prometheus only accepts offset/@/anchored/smoothed on selectors and
   * subqueries, and each modifier at most once; lezer's grammar is looser.
   */
  private checkModifierTarget(node: SyntaxNode, inner: Expr, modifier: 'offset' | 'at' | 'anchored' | 'smoothed'): void {
    let e: Expr = inner;
    for (;;) {
      if (e.kind === modifier) throw this.fail(node, `${modifier === 'at' ? '@' : modifier} modifier given twice`);
      if (e.kind === 'offset' || e.kind === 'at' || e.kind === 'anchored' || e.kind === 'smoothed') {
        e = e.expr;
        continue;
      }
      break;
    }
    const ok = modifier === 'anchored' || modifier === 'smoothed'
      ? e.kind === 'vector' || e.kind === 'matrix'
      : e.kind === 'vector' || e.kind === 'matrix' || e.kind === 'subquery';
    if (!ok) throw this.fail(node, `${modifier === 'at' ? '@' : modifier} modifier must follow a selector or subquery`);
  }

  private args(body: SyntaxNode, depth: number): Expr[] {
    return this.children(body).map((k) => this.expr(k, depth));
  }

  private vectorSelector(node: SyntaxNode, kids: SyntaxNode[]): VectorSelector {
    let metric: string | null = null;
    const matchers: LabelMatcher[] = [];
    for (const k of kids) {
      if (k.type.id === T.Identifier) {
        if (metric !== null) throw this.fail(k, 'metric name set twice');
        metric = this.text(k);
      } else if (k.type.id === T.LabelMatchers) {
        for (const m of this.children(k)) {
          if (m.type.id === T.QuotedLabelName) {
            // {"metric.name"} is the quoted spelling of a metric name.
            if (metric !== null) throw this.fail(m, 'metric name set twice');
            metric = this.labelName(m);
            if (metric === '') throw this.fail(m, 'empty metric name');
            continue;
          }
          if (m.type.id !== T.UnquotedLabelMatcher && m.type.id !== T.QuotedLabelMatcher) throw this.fail(m, 'expected a label matcher');
          const [nameNode, opNode, valueNode, extra] = this.children(m);
          if (nameNode === undefined || opNode === undefined || valueNode === undefined || extra !== undefined) throw this.fail(m, 'malformed label matcher');
          const op = MATCH_OPS.get(this.children(opNode)[0]?.type.id ?? -1);
          if (opNode.type.id !== T.MatchOp || op === undefined || valueNode.type.id !== T.StringLiteral) throw this.fail(m, 'malformed label matcher');
          const name = this.labelName(nameNode);
          if (name === '') throw this.fail(nameNode, 'empty label name');
          matchers.push({ name, op, value: this.string(valueNode) });
        }
      } else {
        throw this.fail(k, 'unexpected part of a vector selector');
      }
    }
    if (metric !== null && matchers.some((m) => m.name === METRIC_NAME_LABEL)) {
      throw this.fail(node, 'metric name set twice (name and __name__ matcher)');
    }
    if (metric === null && matchers.length === 0) throw this.fail(node, 'empty vector selector');
    return { kind: 'vector', metric, matchers };
  }

  private labelName(node: SyntaxNode): string {
    if (node.type.id === T.LabelName) return this.text(node);
    if (node.type.id === T.QuotedLabelName) {
      const lit = this.children(node)[0];
      if (lit?.type.id === T.StringLiteral) return this.string(lit);
    }
    throw this.fail(node, 'expected a label name');
  }

  private string(node: SyntaxNode): string {
    try {
      return decodePromqlString(this.text(node));
    } catch (err) {
      if (err instanceof StringLiteralError) throw parseError(this.input, node.from + err.offset, err.message);
      throw err;
    }
  }

  private number(node: SyntaxNode): NumberLiteral {
    const raw = this.text(node);
    let sign = '';
    let rest = raw;
    if (raw.startsWith('-') || raw.startsWith('+')) {
      sign = raw[0]!;
      rest = raw.slice(1).trim();
    }
    if (!NUMBER_TOKEN.test(rest)) throw this.fail(node, 'malformed number');
    return { kind: 'number', text: sign + rest };
  }

  private binary(node: SyntaxNode, kids: SyntaxNode[], depth: number): Expr {
    const lhsNode = this.expect(kids, 0, node, 'left operand');
    const opNode = this.expect(kids, 1, node, 'operator');
    const op = BINARY_OPS.get(opNode.type.id);
    if (op === undefined) throw this.fail(opNode, 'unknown binary operator');
    let bool = false;
    let matching: VectorMatching | null = null;
    let fill: FillModifier | null = null;
    let i = 2;
    if (kids[i]?.type.id === T.BoolModifier) {
      bool = true;
      i++;
    }
    if (kids[i]?.type.id === T.MatchingModifierClause) {
      matching = this.matching(kids[i]!);
      i++;
    }
    if (kids[i]?.type.id === T.FillModifier) {
      fill = this.fill(kids[i]!);
      i++;
    }
    const rhsNode = this.expect(kids, i, node, 'right operand');
    if (kids.length !== i + 1) throw this.fail(kids[i + 1]!, 'unexpected input after binary expression');
    return { kind: 'binary', op, lhs: this.expr(lhsNode, depth), rhs: this.expr(rhsNode, depth), bool, matching, fill };
  }

  private matching(node: SyntaxNode): VectorMatching {
    const kids = this.children(node);
    const kw = this.expect(kids, 0, node, 'on/ignoring');
    if (kw.type.id !== T.On && kw.type.id !== T.Ignoring) throw this.fail(kw, 'expected on or ignoring');
    const labels = this.grouping(this.expect(kids, 1, node, 'label list'));
    let group: 'left' | 'right' | null = null;
    let include: string[] | null = null;
    const g = kids[2];
    if (g !== undefined) {
      if (g.type.id === T.GroupLeft) group = 'left';
      else if (g.type.id === T.GroupRight) group = 'right';
      else throw this.fail(g, 'expected group_left or group_right');
      if (kids[3] !== undefined) include = this.grouping(kids[3]);
      if (kids.length > 4) throw this.fail(kids[4]!, 'unexpected input in vector matching');
    }
    return { on: kw.type.id === T.On, labels, group, include };
  }

  private fill(node: SyntaxNode): FillModifier {
    let fill: NumberLiteral | null = null;
    let fillLeft: NumberLiteral | null = null;
    let fillRight: NumberLiteral | null = null;
    for (const clause of this.children(node)) {
      const parts = this.children(clause);
      const value = parts[1];
      if (value === undefined || value.type.id !== T.NumberDurationLiteral || parts.length !== 2) throw this.fail(clause, 'malformed fill modifier');
      const n = this.number(value);
      if (clause.type.id === T.FillClause && fill === null) fill = n;
      else if (clause.type.id === T.FillLeftClause && fillLeft === null) fillLeft = n;
      else if (clause.type.id === T.FillRightClause && fillRight === null) fillRight = n;
      else throw this.fail(clause, 'malformed fill modifier');
    }
    return { fill, fillLeft, fillRight };
  }

  private grouping(node: SyntaxNode): string[] {
    if (node.type.id !== T.GroupingLabels) throw this.fail(node, 'expected a label list');
    return this.children(node).map((k) => {
      const name = this.labelName(k);
      if (name === '') throw this.fail(k, 'empty label name');
      return name;
    });
  }

  private aggregate(node: SyntaxNode, kids: SyntaxNode[], depth: number): AggregateExpr {
    const opNode = this.expect(kids, 0, node, 'aggregation operator');
    if (opNode.type.id !== T.AggregateOp) throw this.fail(opNode, 'expected an aggregation operator');
    const op = this.text(opNode).toLowerCase();
    if (!FUNCTION_NAME.test(op)) throw this.fail(opNode, 'malformed aggregation operator');
    let grouping: AggregateExpr['grouping'] = null;
    let args: Expr[] | null = null;
    for (const k of kids.slice(1)) {
      if (k.type.id === T.AggregateModifier && grouping === null) {
        const [kw, labels, extra] = this.children(k);
        if (kw === undefined || labels === undefined || extra !== undefined || (kw.type.id !== T.By && kw.type.id !== T.Without)) {
          throw this.fail(k, 'malformed by/without clause');
        }
        grouping = { without: kw.type.id === T.Without, labels: this.grouping(labels) };
      } else if (k.type.id === T.FunctionCallBody && args === null) {
        args = this.args(k, depth);
      } else {
        throw this.fail(k, 'malformed aggregation');
      }
    }
    if (args === null) throw this.fail(node, 'aggregation without arguments');
    return { kind: 'aggregate', op, grouping, args };
  }

  private duration(node: SyntaxNode, depth: number): Duration {
    const d = this.deeper(node, depth);
    const kids = this.children(node);
    if (node.type.id === T.NumberDurationLiteralInDurationContext) return this.number(node);
    if (node.type.id !== T.DurationExpr && node.type.id !== T.OffsetDurationExpr) throw this.fail(node, 'expected a duration');
    const first = this.expect(kids, 0, node, 'duration');
    if (kids.length === 1) {
      if (first.type.id === T.NumberDurationLiteralInDurationContext) return this.number(first);
      if (first.type.id === T.DurationExpr || first.type.id === T.OffsetDurationExpr) {
        // A duration node directly inside another one is a parenthesised duration.
        return { kind: 'dparen', expr: this.duration(first, d) };
      }
      if (first.type.id === T.DurationStep) return { kind: 'dcall', func: 'step', args: [] };
      if (first.type.id === T.DurationRange) return { kind: 'dcall', func: 'range', args: [] };
      throw this.fail(first, 'malformed duration');
    }
    if (first.type.id === T.UnaryOp && kids.length === 2) {
      const op = this.text(first).trim();
      if (op !== '-' && op !== '+') throw this.fail(first, 'malformed duration sign');
      return { kind: 'dunary', op, expr: this.duration(kids[1]!, d) };
    }
    if ((first.type.id === T.DurationMinOf || first.type.id === T.DurationMaxOf) && kids.length === 3) {
      return {
        kind: 'dcall',
        func: first.type.id === T.DurationMinOf ? 'min_of' : 'max_of',
        args: [this.duration(kids[1]!, d), this.duration(kids[2]!, d)],
      };
    }
    const op = DURATION_OPS.get(kids[1]?.type.id ?? -1);
    if (op !== undefined && kids.length === 3) {
      return { kind: 'dbinary', op, lhs: this.duration(first, d), rhs: this.duration(kids[2]!, d) };
    }
    throw this.fail(node, 'malformed duration expression');
  }
}
