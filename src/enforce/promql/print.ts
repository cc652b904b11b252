/**
 * Prints an expression tree as canonical PromQL. Everything printed is either
 * a fixed keyword/operator, a lexer-validated number/function token, a
 * validated bare name, or a literal re-quoted by quotePromqlString — never a
 * slice of the user's input.
 */
import type { BinaryExpr, BinaryOp, Duration, Expr, LabelMatcher, VectorMatching, VectorSelector } from './ast.ts';
import { METRIC_NAME_LABEL, isLegacyLabelName, isSafeBareMetricName } from './labels.ts';
import { quotePromqlString } from './strings.ts';

const PRECEDENCE: Record<BinaryOp, number> = {
  'or': 1,
  'and': 2, 'unless': 2,
  '==': 3, '!=': 3, '>=': 3, '>': 3, '<=': 3, '<': 3, '</': 3, '>/': 3,
  '+': 4, '-': 4,
  '*': 5, '/': 5, '%': 5, 'atan2': 5,
  '^': 6,
};

export function printLabelName(name: string): string {
  return isLegacyLabelName(name) ? name : quotePromqlString(name);
}

export function printMatcher(m: LabelMatcher): string {
  return printLabelName(m.name) + m.op + quotePromqlString(m.value);
}

export function printVectorSelector(v: VectorSelector): string {
  let prefix = '';
  let inner = '';
  if (v.metric !== null) {
    if (isSafeBareMetricName(v.metric)) prefix = v.metric;
    else inner = printMatcher({ name: METRIC_NAME_LABEL, op: '=', value: v.metric });
  }
  for (const m of v.matchers) inner += (inner === '' ? '' : ', ') + printMatcher(m);
  if (inner === '') return prefix;
  return `${prefix}{${inner}}`;
}

function printLabelList(labels: readonly string[]): string {
  return `(${labels.map(printLabelName).join(', ')})`;
}

/** Operands that are not atoms get parentheses when a postfix modifier or range follows them. */
function postfixTarget(e: Expr): string {
  const s = printExpr(e);
  return e.kind === 'binary' || e.kind === 'unary' ? `(${s})` : s;
}

function printMatching(m: VectorMatching, rhsStartsWithParen: boolean): string {
  let s = ` ${m.on ? 'on' : 'ignoring'}${printLabelList(m.labels)}`;
  if (m.group !== null) {
    s += ` group_${m.group}`;
    // A bare group_left followed by "(" would swallow the right operand as its label list.
    if (m.include !== null) s += printLabelList(m.include);
    else if (rhsStartsWithParen) s += '()';
  }
  return s;
}

function needsParens(child: Expr, parent: BinaryExpr, side: 'lhs' | 'rhs'): boolean {
  if (child.kind === 'unary') return side === 'lhs' && parent.op === '^';
  if (child.kind !== 'binary') return false;
  const c = PRECEDENCE[child.op];
  const p = PRECEDENCE[parent.op];
  if (c !== p) return c < p;
  // '^' is right-associative, everything else left-associative.
  return parent.op === '^' ? side === 'lhs' : side === 'rhs';
}

function printBinary(b: BinaryExpr): string {
  const l = printExpr(b.lhs);
  const r = printExpr(b.rhs);
  const lhs = needsParens(b.lhs, b, 'lhs') ? `(${l})` : l;
  const rhs = needsParens(b.rhs, b, 'rhs') ? `(${r})` : r;
  let mods = b.bool ? ' bool' : '';
  if (b.matching !== null) mods += printMatching(b.matching, rhs.startsWith('('));
  if (b.fill !== null) {
    if (b.fill.fill !== null) mods += ` fill(${b.fill.fill.text})`;
    if (b.fill.fillLeft !== null) mods += ` fill_left(${b.fill.fillLeft.text})`;
    if (b.fill.fillRight !== null) mods += ` fill_right(${b.fill.fillRight.text})`;
  }
  return `${lhs} ${b.op}${mods} ${rhs}`;
}

export function printDuration(d: Duration): string {
  switch (d.kind) {
    case 'number':
      return d.text;
    case 'dparen':
      return `(${printDuration(d.expr)})`;
    case 'dunary':
      return d.op + printDuration(d.expr);
    case 'dbinary':
      return `${printDuration(d.lhs)} ${d.op} ${printDuration(d.rhs)}`;
    case 'dcall':
      return `${d.func}(${d.args.map(printDuration).join(', ')})`;
  }
}

export function printExpr(e: Expr): string {
  switch (e.kind) {
    case 'vector':
      return printVectorSelector(e);
    case 'matrix':
      return `${printVectorSelector(e.selector)}[${printDuration(e.range)}]`;
    case 'subquery':
      return `${postfixTarget(e.expr)}[${printDuration(e.range)}:${e.step === null ? '' : printDuration(e.step)}]`;
    case 'offset':
      return `${postfixTarget(e.expr)} offset ${printDuration(e.offset)}`;
    case 'at':
      return `${postfixTarget(e.expr)} @ ${typeof e.at === 'string' ? e.at : e.at.text}`;
    case 'anchored':
    case 'smoothed':
      return `${postfixTarget(e.expr)} ${e.kind}`;
    case 'number':
      return e.text;
    case 'string':
      return quotePromqlString(e.value);
    case 'paren':
      return `(${printExpr(e.expr)})`;
    case 'unary': {
      const inner = printExpr(e.expr);
      const wrap = e.expr.kind === 'binary' && e.expr.op !== '^';
      return e.op + (wrap ? `(${inner})` : inner);
    }
    case 'binary':
      return printBinary(e);
    case 'call':
      return `${e.func}(${e.args.map(printExpr).join(', ')})`;
    case 'aggregate': {
      const g = e.grouping === null ? '' : ` ${e.grouping.without ? 'without' : 'by'} ${printLabelList(e.grouping.labels)} `;
      return `${e.op}${g}(${e.args.map(printExpr).join(', ')})`;
    }
  }
}
