// `%{ENV_VAR}` placeholders, substituted in the raw config text before parsing, as vmauth does.
// Unlike vmauth, a placeholder whose variable is unset is an error when it ends up in a config
// value (comments do not count): leaving `%{DB_PASSWORD}` in place would silently turn the
// placeholder itself into a password.

export const PLACEHOLDER = /%\{([^{}]*)\}/g;

export function substituteEnv(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => env[name] ?? whole);
}

/** Names of unresolved placeholders left in a value. */
export function unresolvedPlaceholders(value: string, env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const m of value.matchAll(PLACEHOLDER)) if (env[m[1] as string] === undefined) out.push(m[1] as string);
  return out;
}
