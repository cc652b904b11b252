// Placeholder replaced below once the webhook server lands.
export async function webhookMain(_argv: readonly string[]): Promise<number> {
  process.stderr.write('tenantgate webhook: not implemented yet\n');
  return 2;
}
