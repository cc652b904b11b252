/** Public API of the PromQL tenant-enforcement library (pure: no I/O, no config loading). */
export type { PromqlTenant, TenantMatcher, CompileTenantOptions } from './tenant.ts';
export { CompiledTenant, compileTenant, tenantSelectors } from './tenant.ts';
export type { EnforceLimits } from './enforce.ts';
export { enforceQuery, enforceSeriesSelectors } from './enforce.ts';
export { DEFAULT_PARSE_LIMITS, parsePromql } from './parse.ts';
export { printExpr } from './print.ts';
export { collectSelectors } from './inject.ts';
export type { Expr, LabelMatcher, VectorSelector } from './ast.ts';
export type { PromqlEnforceErrorCode } from './errors.ts';
export { PromqlEnforceError, PromqlResponseError, PromqlTenantError } from './errors.ts';
export type { FilterRulesOptions } from './responses.ts';
export { filterAlertsResponse, filterRulesResponse } from './responses.ts';
export { expressionPinsTenant, labelsPinTenant } from './pinning.ts';
export type { SilenceOwnership } from './alertmanager.ts';
export { alertmanagerFilterConflict, alertmanagerFilterParams, checkSilenceOwnership, parseAlertmanagerFilter, regexLiteral } from './alertmanager.ts';
export type { TenantConflict } from './conflict.ts';
export { describeConflict, findQueryConflict, matcherAccepts, selectorConflict } from './conflict.ts';
