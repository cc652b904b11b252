// Go `flag`-compatible command-line parsing: `-name=value`, `-name value`, `--name=value`,
// boolean `-name` / `-name=false`, repeated or comma-separated array flags, and flags read
// from the environment with -envflag.enable the way VictoriaMetrics' envflag does.
import { FLAGS_BY_NAME, FLAG_DEFINITIONS, type FlagDefinition } from './definitions.ts';
import { redactFlagValue } from '../observe/secrets.ts';
import { parseBool, parseBytes, parseDuration, parseInteger, splitArrayValue } from './values.ts';

export class FlagError extends Error {
  readonly code = 'ERR_FLAG';
  readonly exitCode = 2;
}

export interface ParsedFlags {
  /** Flags given on the command line or in the environment. */
  readonly explicit: ReadonlySet<string>;
  /** Planned-but-unimplemented flags are rejected; these no-effect flags were given and are warned about. */
  readonly noEffect: readonly string[];
  string(name: string): string;
  bool(name: string): boolean;
  int(name: string): number;
  float(name: string): number;
  /** Milliseconds. */
  duration(name: string): number;
  bytes(name: string): number;
  strings(name: string): readonly string[];
  ints(name: string): readonly number[];
  bools(name: string): readonly boolean[];
  /** `name=value` lines for /flags and -help, secrets masked. */
  describe(): string[];
  /** Every implemented flag with its effective value (secrets masked), for the `flag` metric. */
  entries(): { name: string; value: string; isSet: boolean }[];
}

function validate(def: FlagDefinition, raw: string): void {
  try {
    switch (def.kind) {
      case 'bool': parseBool(raw); break;
      case 'int': parseInteger(raw); break;
      case 'float': if (!Number.isFinite(Number(raw)) || raw.trim() === '') throw new Error(`invalid number ${JSON.stringify(raw)}`); break;
      case 'duration': parseDuration(raw); break;
      case 'bytes': parseBytes(raw); break;
      case 'ints': for (const v of splitArrayValue(raw)) if (v !== '') parseInteger(v); break;
      case 'bools': for (const v of splitArrayValue(raw)) if (v !== '') parseBool(v); break;
      default: break;
    }
  } catch (err) {
    throw new FlagError(`invalid value ${JSON.stringify(raw)} for flag -${def.name}: ${(err as Error).message}`);
  }
}

const isArray = (d: FlagDefinition) => d.kind === 'strings' || d.kind === 'ints' || d.kind === 'bools';

export function parseFlags(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedFlags {
  const values = new Map<string, string[]>();
  const set = (def: FlagDefinition, raw: string) => {
    validate(def, raw);
    const prev = values.get(def.name);
    if (prev !== undefined && isArray(def)) prev.push(raw);
    else values.set(def.name, [raw]);
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      if (i + 1 < argv.length) throw new FlagError(`unexpected argument ${JSON.stringify(argv[i + 1])}; tenantgate takes only flags`);
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      throw new FlagError(`unexpected argument ${JSON.stringify(arg)}; flags look like -name=value (see -help)`);
    }
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const def = FLAGS_BY_NAME.get(name === 'h' ? 'help' : name);
    if (def === undefined) throw new FlagError(`flag provided but not defined: -${name} (see -help for the list)`);
    if (def.status === 'planned') {
      throw new FlagError(`flag -${name} is a vmauth flag that tenantgate does not support yet; remove it or see docs/compatibility.md`);
    }
    if (eq >= 0) { set(def, body.slice(eq + 1)); continue; }
    // Array booleans (-tls, -mtls, …) are boolean flags too: a bare `-tls` means true.
    if (def.kind === 'bool' || def.kind === 'bools') { set(def, 'true'); continue; }
    if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: -${name}`);
    set(def, argv[++i] as string);
  }

  const explicit = new Set(values.keys());
  const envEnabled = values.has('envflag.enable') && parseBool((values.get('envflag.enable') as string[])[0] as string);
  if (envEnabled) {
    const prefix = values.get('envflag.prefix')?.[0] ?? '';
    for (const def of FLAG_DEFINITIONS) {
      if (values.has(def.name)) continue;
      const v = env[prefix + def.name.replaceAll('.', '_')];
      if (v === undefined) continue;
      if (def.status === 'planned') {
        throw new FlagError(`environment variable ${prefix + def.name.replaceAll('.', '_')} sets -${def.name}, a vmauth flag that tenantgate does not support yet`);
      }
      set(def, v);
      explicit.add(def.name);
    }
  }

  const raw = (name: string): string => {
    const def = FLAGS_BY_NAME.get(name);
    if (def === undefined) throw new Error(`BUG: unknown flag ${name}`);
    const v = values.get(name);
    return v === undefined ? def.default : (v[v.length - 1] as string);
  };
  const rawList = (name: string): string[] => {
    const def = FLAGS_BY_NAME.get(name);
    if (def === undefined) throw new Error(`BUG: unknown flag ${name}`);
    const v = values.get(name) ?? (def.default === '' ? [] : [def.default]);
    return v.flatMap((s) => splitArrayValue(s));
  };
  const secretNames = new Set(rawList('secret.flags'));

  return {
    explicit,
    noEffect: [...explicit].filter((n) => FLAGS_BY_NAME.get(n)?.status === 'no-effect'),
    string: raw,
    bool: (n) => parseBool(raw(n)),
    int: (n) => parseInteger(raw(n)),
    float: (n) => Number(raw(n)),
    duration: (n) => parseDuration(raw(n)),
    bytes: (n) => parseBytes(raw(n)),
    strings: (n) => rawList(n),
    ints: (n) => rawList(n).filter((s) => s !== '').map(parseInteger),
    bools: (n) => rawList(n).filter((s) => s !== '').map(parseBool),
    describe() {
      return this.entries().map((e) => `-${e.name}=${JSON.stringify(e.value)}`);
    },
    entries() {
      return FLAG_DEFINITIONS.filter((d) => d.status !== 'planned').map((d) => {
        const secret = d.kind === 'secret' || secretNames.has(d.name) || /^pushmetrics\.(url|header)$/i.test(d.name);
        const v = values.has(d.name) ? (values.get(d.name) as string[]).join(',') : d.default;
        return { name: d.name, value: redactFlagValue(d.name, v, secret), isSet: explicit.has(d.name) };
      });
    },
  };
}

export function usageText(version: string): string {
  const lines = [
    `tenantgate ${version} — a multi-tenant security gateway, drop-in compatible with vmauth.`,
    '',
    'Usage: tenantgate -auth.config=auth.yml [flags]',
    '       tenantgate isolate --label <name> [--flavor victoriametrics|prometheus-operator] FILES…',
    '       tenantgate webhook [flags]',
    '',
    'Flags:',
  ];
  for (const d of FLAG_DEFINITIONS) {
    const note = d.status === 'planned' ? ' [vmauth flag, not supported yet]' : d.status === 'no-effect' ? ' [accepted, no effect]' : '';
    const arr = isArray(d) ? ' (array: repeat the flag or separate values with commas)' : '';
    lines.push(`  -${d.name} ${d.kind}`);
    lines.push(`     ${d.help}${arr}${note} (default ${JSON.stringify(d.default)})`);
  }
  return lines.join('\n') + '\n';
}
