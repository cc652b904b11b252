// Failures of the namespace-isolation compiler and webhook. Every failure names the object
// (file, document index, line when known), the field path inside it and why it cannot be made safe.

/** Where an object came from: a file and its 0-based document index, or an admission request. */
export interface SourceRef {
  readonly file: string;
  readonly doc: number;
  /** 1-based line of the document start, when known. */
  readonly line?: number;
}

export type IsolationCode =
  | 'ERR_ISOLATE_YAML'        // the document is not valid YAML
  | 'ERR_ISOLATE_OBJECT'      // not a Kubernetes object of a supported kind / shape
  | 'ERR_ISOLATE_NAMESPACE'   // namespace missing or not a DNS-1123 label
  | 'ERR_ISOLATE_UNSAFE'      // the object would touch another namespace's data or alerts
  | 'ERR_ISOLATE_UNSUPPORTED' // a field the offline compiler cannot translate (e.g. Secret references)
  | 'ERR_ISOLATE_PROMQL'      // a rule expression that cannot be parsed or scoped
  | 'ERR_ISOLATE_CONFLICT'    // a generated name collides with another object or the base config
  | 'ERR_ISOLATE_POLICY'      // the object breaks the alert-definition policy (--policy)
  | 'ERR_ISOLATE_OUTPUT'      // the merged output fails its final check (a base configuration error)
  | 'ERR_ISOLATE_USAGE';      // bad command-line usage

export class IsolationError extends Error {
  readonly code: IsolationCode;
  /** Dotted/indexed path of the offending field, e.g. `spec.endpoints[0].metricRelabelConfigs[1]`. */
  readonly field: string;
  readonly reason: string;
  source?: SourceRef;
  objectRef?: string;

  constructor(code: IsolationCode, field: string, reason: string) {
    super(field === '' ? reason : `${field}: ${reason}`);
    this.name = 'IsolationError';
    this.code = code;
    this.field = field;
    this.reason = reason;
  }

  /** One line for humans and CI logs: `file#doc (line N) Kind ns/name: field: reason [code]`. */
  describe(): string {
    const where = this.source === undefined
      ? ''
      : `${this.source.file}#${this.source.doc}${this.source.line !== undefined ? ` (line ${this.source.line})` : ''} `;
    const obj = this.objectRef !== undefined ? `${this.objectRef}: ` : '';
    return `${where}${obj}${this.message} [${this.code}]`;
  }
}

export function unsafe(field: string, reason: string): IsolationError {
  return new IsolationError('ERR_ISOLATE_UNSAFE', field, reason);
}

export function unsupported(field: string, reason: string): IsolationError {
  return new IsolationError('ERR_ISOLATE_UNSUPPORTED', field, reason);
}

export function badObject(field: string, reason: string): IsolationError {
  return new IsolationError('ERR_ISOLATE_OBJECT', field, reason);
}
