// Config errors name the file, the line and column, the field path and what was expected,
// so an operator can fix the config without reading tenantgate's source.

export type ConfigPath = readonly (string | number)[];

export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out === '' ? '(top level)' : out;
}

export interface ConfigProblem {
  readonly path: ConfigPath;
  readonly message: string;
  line?: number;
  column?: number;
}

export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG';
  readonly file: string;
  readonly problems: readonly ConfigProblem[];
  constructor(file: string, problems: readonly ConfigProblem[]) {
    super(problems.map((p) => formatProblem(file, p)).join('\n'));
    this.file = file;
    this.problems = problems;
  }
}

export function formatProblem(file: string, p: ConfigProblem): string {
  const where = p.line !== undefined ? `${file}:${p.line}:${p.column ?? 1}` : file;
  return `${where}: ${formatPath(p.path)}: ${p.message}`;
}

/** Thrown by compile steps; the loader attaches file and position. */
export class FieldError extends Error {
  readonly path: ConfigPath;
  constructor(path: ConfigPath, message: string) {
    super(message);
    this.path = path;
  }
}
