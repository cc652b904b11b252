/**
 * Failure families of the PromQL enforcement library. Each carries a stable
 * string `code` so callers (HTTP proxy, rule compiler) can map it to a status
 * without parsing messages.
 */

export type PromqlEnforceErrorCode =
  | 'ERR_PROMQL_PARSE'
  | 'ERR_PROMQL_TOO_LONG'
  | 'ERR_PROMQL_TOO_DEEP'
  | 'ERR_PROMQL_NOT_SELECTOR'
  | 'ERR_PROMQL_FILTERS_UNSUPPORTED';

/** The query (or match[] selector) was refused; nothing of it may be forwarded. */
export class PromqlEnforceError extends Error {
  readonly code: PromqlEnforceErrorCode;
  /** 0-based character offset into the input, when the failure has a place. */
  readonly position: number | undefined;

  constructor(code: PromqlEnforceErrorCode, message: string, position?: number) {
    super(message);
    this.name = 'PromqlEnforceError';
    this.code = code;
    this.position = position;
  }
}

/** The tenant definition given to compileTenant is unusable. */
export class PromqlTenantError extends Error {
  readonly code = 'ERR_PROMQL_TENANT' as const;
  /** Which field of the tenant definition is wrong, e.g. `matchers[0].values[1]`. */
  readonly field: string;

  constructor(field: string, message: string) {
    super(`tenant ${field}: ${message}`);
    this.name = 'PromqlTenantError';
    this.field = field;
  }
}

/** An upstream API response does not have the shape the filter needs; fail closed. */
export class PromqlResponseError extends Error {
  readonly code = 'ERR_PROMQL_RESPONSE' as const;
  readonly field: string;

  constructor(field: string, message: string) {
    super(`response ${field}: ${message}`);
    this.name = 'PromqlResponseError';
    this.field = field;
  }
}

/** Renders "line L, column C" for an offset, so errors point at multi-line queries precisely. */
export function describePosition(input: string, position: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < position && i < input.length; i++) {
    if (input.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return `offset ${position} (line ${line}, column ${position - lineStart + 1})`;
}
