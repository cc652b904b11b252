/**
 * The expression tree we enforce on and print from. It mirrors what the lezer
 * grammar recognises, but holds decoded values (label names, string values)
 * rather than source text, so printing can never echo raw user input.
 */

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
}

export interface VectorSelector {
  readonly kind: 'vector';
  /** Metric name written as a bare identifier (`up{…}`); `__name__` matchers stay in `matchers`. */
  readonly metric: string | null;
  readonly matchers: readonly LabelMatcher[];
}

export interface MatrixSelector {
  readonly kind: 'matrix';
  readonly selector: VectorSelector;
  readonly range: Duration;
}

export interface SubqueryExpr {
  readonly kind: 'subquery';
  readonly expr: Expr;
  readonly range: Duration;
  readonly step: Duration | null;
}

export interface OffsetExpr {
  readonly kind: 'offset';
  readonly expr: Expr;
  readonly offset: Duration;
}

export interface AtExpr {
  readonly kind: 'at';
  readonly expr: Expr;
  /** A number literal, or the `start()` / `end()` preprocessors. */
  readonly at: NumberLiteral | 'start()' | 'end()';
}

/** Experimental `anchored` / `smoothed` range modifiers. */
export interface RangeModifierExpr {
  readonly kind: 'anchored' | 'smoothed';
  readonly expr: Expr;
}

export interface NumberLiteral {
  readonly kind: 'number';
  /** Lexer-validated token text (digits, hex, exponent, duration units, Inf/NaN) with optional sign. */
  readonly text: string;
}

export interface StringLiteral {
  readonly kind: 'string';
  readonly value: string;
}

export interface ParenExpr {
  readonly kind: 'paren';
  readonly expr: Expr;
}

export interface UnaryExpr {
  readonly kind: 'unary';
  readonly op: '-' | '+';
  readonly expr: Expr;
}

export type BinaryOp =
  | '^' | '*' | '/' | '%' | 'atan2' | '+' | '-'
  | '==' | '!=' | '>=' | '>' | '<=' | '<' | '</' | '>/'
  | 'and' | 'unless' | 'or';

export interface VectorMatching {
  readonly on: boolean;
  readonly labels: readonly string[];
  readonly group: 'left' | 'right' | null;
  /** Labels listed after group_left/group_right; null when the list was omitted. */
  readonly include: readonly string[] | null;
}

export interface FillModifier {
  readonly fill: NumberLiteral | null;
  readonly fillLeft: NumberLiteral | null;
  readonly fillRight: NumberLiteral | null;
}

export interface BinaryExpr {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly lhs: Expr;
  readonly rhs: Expr;
  readonly bool: boolean;
  readonly matching: VectorMatching | null;
  readonly fill: FillModifier | null;
}

export interface FunctionCall {
  readonly kind: 'call';
  readonly func: string;
  readonly args: readonly Expr[];
}

export interface AggregateExpr {
  readonly kind: 'aggregate';
  readonly op: string;
  readonly grouping: { readonly without: boolean; readonly labels: readonly string[] } | null;
  /** Parameter (topk's k, quantile's φ, count_values' label) followed by the vector argument. */
  readonly args: readonly Expr[];
}

export type Expr =
  | VectorSelector
  | MatrixSelector
  | SubqueryExpr
  | OffsetExpr
  | AtExpr
  | RangeModifierExpr
  | NumberLiteral
  | StringLiteral
  | ParenExpr
  | UnaryExpr
  | BinaryExpr
  | FunctionCall
  | AggregateExpr;

export type Duration =
  | NumberLiteral
  | { readonly kind: 'dparen'; readonly expr: Duration }
  | { readonly kind: 'dunary'; readonly op: '-' | '+'; readonly expr: Duration }
  | { readonly kind: 'dbinary'; readonly op: '^' | '*' | '/' | '%' | '+' | '-'; readonly lhs: Duration; readonly rhs: Duration }
  | { readonly kind: 'dcall'; readonly func: 'step' | 'range' | 'min_of' | 'max_of'; readonly args: readonly Duration[] };
