// The gateway's Go-style `-loggerFormat=json`, spelled the same way for `isolate` and `webhook`
// (whose other options are GNU-style): the one log switch works with one or two dashes everywhere.
export function goStyleLoggerFormat(argv: readonly string[]): string[] {
  return argv.map((a) => a.replace(/^-loggerFormat(?==|$)/, '--loggerFormat'));
}
