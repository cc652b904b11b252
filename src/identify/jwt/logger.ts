// The logging callback the gateway passes in (pino-compatible shape). Fields never carry tokens.
export interface JwtLogger {
  warn(msg: string, fields?: object): void;
  info(msg: string, fields?: object): void;
}
