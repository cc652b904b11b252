/**
 * Rewrites every vector and matrix selector of an expression tree so it
 * carries the tenant's matchers. The walk is exhaustive over node kinds (the
 * compiler rejects a missing case), so selectors inside aggregation
 * parameters, function arguments, subqueries and both operands of every
 * binary operator are all reached.
 */
import type { Expr, LabelMatcher, VectorSelector } from './ast.ts';
import type { CompiledTenant, Injection } from './tenant.ts';
import { matcherKey } from './tenant.ts';

/**
 * User matchers are always kept, also on the tenant labels, and ANDed with the
 * tenant's: the answer never contradicts the query (`{ns!="a"}` as tenant `a`
 * selects nothing rather than `a`'s series). Exact copies of injected matchers
 * are dropped so enforcing twice equals enforcing once.
 */
export function injectMatchers(user: readonly LabelMatcher[], injection: Injection): LabelMatcher[] {
  const out: LabelMatcher[] = [];
  for (const m of user) {
    if (injection.keys.has(matcherKey(m))) continue;
    out.push(m);
  }
  for (const m of injection.matchers) out.push(m);
  return out;
}

export function enforceSelector(v: VectorSelector, injected: Injection, _tenant?: CompiledTenant): VectorSelector {
  return { kind: 'vector', metric: v.metric, matchers: injectMatchers(v.matchers, injected) };
}

export function enforceExpr(e: Expr, injected: Injection, tenant: CompiledTenant): Expr {
  switch (e.kind) {
    case 'vector':
      return enforceSelector(e, injected, tenant);
    case 'matrix':
      return { ...e, selector: enforceSelector(e.selector, injected, tenant) };
    case 'subquery':
    case 'offset':
    case 'at':
    case 'anchored':
    case 'smoothed':
    case 'paren':
    case 'unary':
      return { ...e, expr: enforceExpr(e.expr, injected, tenant) };
    case 'binary':
      return { ...e, lhs: enforceExpr(e.lhs, injected, tenant), rhs: enforceExpr(e.rhs, injected, tenant) };
    case 'call':
    case 'aggregate':
      return { ...e, args: e.args.map((a) => enforceExpr(a, injected, tenant)) };
    case 'number':
    case 'string':
      return e;
    default:
      return assertNever(e);
  }
}

function assertNever(e: never): never {
  throw new Error(`unhandled expression kind ${JSON.stringify(e)}`);
}

/** Every vector selector of a tree (including those inside matrix selectors), in source order. */
export function collectSelectors(e: Expr, out: VectorSelector[] = []): VectorSelector[] {
  switch (e.kind) {
    case 'vector':
      out.push(e);
      break;
    case 'matrix':
      out.push(e.selector);
      break;
    case 'subquery':
    case 'offset':
    case 'at':
    case 'anchored':
    case 'smoothed':
    case 'paren':
    case 'unary':
      collectSelectors(e.expr, out);
      break;
    case 'binary':
      collectSelectors(e.lhs, out);
      collectSelectors(e.rhs, out);
      break;
    case 'call':
    case 'aggregate':
      for (const a of e.args) collectSelectors(a, out);
      break;
    case 'number':
    case 'string':
      break;
    default:
      assertNever(e);
  }
  return out;
}
