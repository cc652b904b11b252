// `tenantgate explain -auth.config=auth.yml [who] METHOD 'PATH?QUERY' [--body FILE] [--json]`:
// what the gateway would do with one request, from the config alone — no backend is contacted.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/errors.ts';
import { loadConfig } from '../config/load.ts';
import { FlagError, parseFlags } from '../flags/parse.ts';
import { closeAllDispatchers } from '../forward/dispatchers.ts';
import { compileDefaultsFromFlags } from '../gateway/main.ts';
import { Logger } from '../observe/logger.ts';
import { explainRequest, type ExplainInput } from './explain-request.ts';
import { renderExplanation } from './render.ts';

export const EXPLAIN_USAGE = `Usage: tenantgate explain -auth.config=FILE [who] METHOD 'PATH?QUERY' [--body FILE] [--json]

Shows what tenantgate would do with one request, from the config alone (no backend is contacted):
the user and how it matched, the route and its config line, the backends, headers set and
removed, the tenant classification, and the request each backend would receive — or the refusal.

who (at most one; default: no credentials):
  --user NAME            the user whose name or username is NAME (or unauthorized_user)
  --basic USER:PASS      an Authorization: Basic header
  --bearer TOKEN         an Authorization: Bearer header
  --jwt-claims FILE      a JSON object of token claims; the JWT user they select, no signature needed
  --header 'K: V'        any request header (repeatable; also for src_headers routing)

  --body FILE            the request body (remote write, form posts, …)
  --json                 print the answer as JSON (docs/explain.md describes the shape)
  -httpAuthHeader=…      and other gateway flags that change routing, as on the gateway

Exit code: 0 when the request would be forwarded, 3 when it would be refused, 2 on usage errors,
1 when the config cannot be loaded.
`;

interface ExplainArgs {
  readonly flagArgs: string[];
  readonly input: ExplainInput;
  readonly json: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): ExplainArgs {
  const flagArgs: string[] = [];
  const positional: string[] = [];
  const headers: [string, string][] = [];
  let userName: string | undefined;
  let jwtClaims: Record<string, unknown> | undefined;
  let body: Buffer | null = null;
  let json = false;
  let who = 0;
  const value = (i: number, name: string): string => {
    const v = argv[i + 1];
    if (v === undefined) throw new UsageError(`${name} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    switch (a) {
      case '--user': userName = value(i, a); who++; i++; break;
      case '--basic': {
        const v = value(i, a); i++; who++;
        if (!v.includes(':')) throw new UsageError('--basic expects USER:PASS');
        headers.push(['Authorization', `Basic ${Buffer.from(v, 'utf8').toString('base64')}`]);
        break;
      }
      case '--bearer': headers.push(['Authorization', `Bearer ${value(i, a)}`]); who++; i++; break;
      case '--jwt-claims': {
        const file = value(i, a); i++; who++;
        let parsed: unknown;
        try { parsed = JSON.parse(readFileSync(file, 'utf8')); } catch (err) { throw new UsageError(`--jwt-claims ${file}: ${(err as Error).message}`); }
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`--jwt-claims ${file}: expected a JSON object of claims`);
        jwtClaims = parsed as Record<string, unknown>;
        break;
      }
      case '--header': {
        const v = value(i, a); i++;
        const c = v.indexOf(':');
        if (c <= 0) throw new UsageError(`--header expects 'Name: value', got ${JSON.stringify(v)}`);
        headers.push([v.slice(0, c).trim(), v.slice(c + 1).trim()]);
        break;
      }
      case '--body': {
        const file = value(i, a); i++;
        try { body = readFileSync(file); } catch (err) { throw new UsageError(`--body ${file}: ${(err as Error).message}`); }
        break;
      }
      case '--json': json = true; break;
      default:
        if (a.startsWith('-')) flagArgs.push(a); else positional.push(a);
    }
  }
  if (who > 1) throw new UsageError('give at most one of --user, --basic, --bearer, --jwt-claims');
  if (positional.length !== 2) throw new UsageError(`expected METHOD and PATH, got ${positional.length} positional arguments`);
  const [method, url] = positional as [string, string];
  if (!/^[A-Za-z]+$/.test(method)) throw new UsageError(`METHOD must be a word such as GET or POST, got ${JSON.stringify(method)}`);
  if (!url.startsWith('/')) throw new UsageError(`PATH must start with /, got ${JSON.stringify(url)}`);
  if (body !== null) headers.push(['Content-Length', String(body.length)]);
  return { flagArgs, json, input: { method, url, headers, body, userName, jwtClaims } };
}

export async function explainMain(argv: readonly string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help') || argv.includes('-help')) { process.stdout.write(EXPLAIN_USAGE); return 0; }
  let args: ExplainArgs;
  let flags;
  try {
    args = parseArgs(argv);
    flags = parseFlags(args.flagArgs);
  } catch (err) {
    if (err instanceof UsageError || err instanceof FlagError) { process.stderr.write(`tenantgate explain: ${err.message}\n\n${EXPLAIN_USAGE}`); return 2; }
    throw err;
  }
  const source = flags.string('auth.config');
  if (source === '') { process.stderr.write(`tenantgate explain: missing -auth.config\n\n${EXPLAIN_USAGE}`); return 2; }
  const log = new Logger({ level: 'ERROR', format: 'default', output: 'stderr', disableTimestamps: true });
  let loaded;
  try {
    loaded = await loadConfig(source, { ...compileDefaultsFromFlags(flags), jwtLogger: log });
  } catch (err) {
    await closeAllDispatchers();
    if (err instanceof ConfigError) { process.stderr.write(`cannot load -auth.config=${JSON.stringify(source)}:\n${err.message}\n`); return 1; }
    throw err;
  }
  try {
    const authHeaders = flags.strings('httpAuthHeader').filter((s) => s !== '');
    const e = await explainRequest(loaded.config, args.input, { authHeaderNames: authHeaders.length > 0 ? authHeaders : ['authorization'], configText: loaded.text });
    process.stdout.write(args.json ? JSON.stringify(e, null, 2) + '\n' : renderExplanation(e, source));
    return e.decision === 'forward' ? 0 : 3;
  } finally {
    loaded.config.jwt?.authenticator.close();
    for (const s of loaded.config.backendSets) s.retire();
    await closeAllDispatchers();
  }
}
