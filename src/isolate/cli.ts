// Entry points of the `tenantgate isolate` and `tenantgate webhook` subcommands.
// Placeholder until the namespace-isolation compiler lands (issue 7).
export async function isolateMain(_argv: readonly string[]): Promise<number> {
  process.stderr.write('tenantgate isolate: not implemented yet\n');
  return 2;
}

export async function webhookMain(_argv: readonly string[]): Promise<number> {
  process.stderr.write('tenantgate webhook: not implemented yet\n');
  return 2;
}
