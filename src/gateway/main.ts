export async function gatewayMain(_argv: readonly string[]): Promise<number> {
  process.stderr.write('not implemented yet\n');
  return 2;
}
