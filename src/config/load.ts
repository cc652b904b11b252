// Loading -auth.config: read (file or http(s) URL), substitute %{ENV} placeholders, parse YAML,
// validate against the schema, compile. Every failure becomes a ConfigError with file, line,
// column and field path.
import { readFile } from 'node:fs/promises';
import { isNode, isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { compileConfig, type CompileDefaults } from './compile.ts';
import { substituteEnv, unresolvedPlaceholders } from './env-placeholders.ts';
import { ConfigError, FieldError, type ConfigPath, type ConfigProblem } from './errors.ts';
import type { CompiledConfig } from './model.ts';
import { authConfigSchema } from './schema.ts';
import { redactUrl, redactUrlsIn } from '../observe/secrets.ts';

const MAX_CONFIG_BYTES = 64 * 1024 * 1024;

export async function readConfigSource(source: string): Promise<string> {
  if (/^https?:\/\//i.test(source)) {
    const shown = redactUrl(source);
    let url: URL;
    try { url = new URL(source); } catch { throw new ConfigError(shown, [{ path: [], message: 'not a valid URL' }]); }
    // fetch() refuses URLs with credentials (and its error would print them): send them as
    // Basic auth instead, as Go's http client does.
    const headers: Record<string, string> = {};
    if (url.username !== '' || url.password !== '') {
      headers['authorization'] = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
      url.username = '';
      url.password = '';
    }
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
    } catch (err) {
      throw new ConfigError(shown, [{ path: [], message: `cannot fetch the config: ${redactUrlsIn((err as Error).message)}` }]);
    }
    if (!res.ok) throw new ConfigError(shown, [{ path: [], message: `cannot fetch the config: HTTP ${res.status}` }]);
    return await res.text();
  }
  try {
    const buf = await readFile(source);
    if (buf.length > MAX_CONFIG_BYTES) throw new ConfigError(source, [{ path: [], message: 'config file is larger than 64MiB' }]);
    return buf.toString('utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(source, [{ path: [], message: `cannot read the config: ${(err as Error).message}` }]);
  }
}

function locate(doc: Document, lc: LineCounter, path: ConfigPath, key?: string): { line: number; column: number } | undefined {
  // Walk as deep as the path exists, so a missing field points at its parent.
  for (let depth = path.length; depth >= 0; depth--) {
    const sub = path.slice(0, depth);
    const node = sub.length === 0 ? doc.contents : doc.getIn(sub, true);
    if (!isNode(node) || node.range === undefined || node.range === null) continue;
    let offset = node.range[0];
    if (key !== undefined && depth === path.length && 'items' in node) {
      for (const item of (node as unknown as { items: { key?: unknown }[] }).items) {
        if (isNode(item.key) && (item.key as unknown as { value: unknown }).value === key && item.key.range) {
          offset = item.key.range[0];
        }
      }
    }
    const pos = lc.linePos(offset);
    return { line: pos.line, column: pos.col };
  }
  return undefined;
}

function zodProblems(error: z.ZodError, doc: Document, lc: LineCounter): ConfigProblem[] {
  const seen = new Set<string>();
  const out: ConfigProblem[] = [];
  for (const issue of error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ path: [...path, key], message: `unknown field ${JSON.stringify(key)}; check the spelling against docs/configuration.md`, ...locate(doc, lc, path, key) });
      }
      continue;
    }
    // A union reports one issue per branch; keep the first message per path.
    const id = JSON.stringify(path);
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ path, message: issue.message, ...locate(doc, lc, path) });
  }
  return out;
}

/** Parses and compiles config text. `name` is the file name or URL used in messages. */
export function parseConfigText(text: string, source: string, defaults: CompileDefaults, env: NodeJS.ProcessEnv = process.env): CompiledConfig {
  const name = redactUrl(source);
  const lc = new LineCounter();
  const doc = parseDocument(substituteEnv(text, env), { schema: 'failsafe', lineCounter: lc, uniqueKeys: true, prettyErrors: false, strict: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(name, doc.errors.map((e) => {
      const pos = lc.linePos(e.pos[0]);
      return { path: [], message: `invalid YAML: ${e.message.split('\n')[0]}`, line: pos.line, column: pos.col };
    }));
  }
  const missing: ConfigProblem[] = [];
  visit(doc, {
    Scalar(_key, node) {
      if (!isScalar(node) || typeof node.value !== 'string' || !node.range) return;
      for (const n of unresolvedPlaceholders(node.value, env)) {
        const pos = lc.linePos(node.range[0]);
        missing.push({ path: [], line: pos.line, column: pos.col, message: `environment variable ${n} referenced by %{${n}} is not set` });
      }
    },
  });
  if (missing.length > 0) throw new ConfigError(name, missing);
  const data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const parsed = authConfigSchema.safeParse(data === '' ? {} : data);
  if (!parsed.success) throw new ConfigError(name, zodProblems(parsed.error, doc, lc));
  // `jwt` sections carry typed values (booleans, account ids) validated by the JWT module's own
  // schema, so they are read with YAML's core schema instead of the failsafe one.
  // The same holds for tenantgate's `tenant` sections.
  const users = parsed.data.users ?? [];
  const uu = parsed.data.unauthorized_user;
  const needsTyped = [...users, ...(uu ? [uu] : [])].some((u) => u.jwt !== undefined || u.tenant !== undefined || u.url_map?.some((e) => e.tenant !== undefined));
  if (needsTyped) {
    type TypedUser = { jwt?: unknown; tenant?: unknown; url_map?: { tenant?: unknown }[] };
    const typed = parseDocument(substituteEnv(text, env), { uniqueKeys: true }).toJS({ maxAliasCount: 100 }) as { users?: TypedUser[]; unauthorized_user?: TypedUser };
    const retype = (u: (typeof users)[number], t: TypedUser | undefined) => {
      if (u.jwt !== undefined) u.jwt = t?.jwt;
      if (u.tenant !== undefined) u.tenant = t?.tenant;
      u.url_map?.forEach((e, j) => { if (e.tenant !== undefined) e.tenant = t?.url_map?.[j]?.tenant; });
    };
    users.forEach((u, i) => retype(u, typed.users?.[i]));
    if (uu) retype(uu, typed.unauthorized_user);
  }
  try {
    return compileConfig(parsed.data, name, defaults);
  } catch (err) {
    if (err instanceof FieldError) {
      throw new ConfigError(name, [{ path: err.path, message: err.message, ...locate(doc, lc, err.path) }]);
    }
    throw err;
  }
}

export async function loadConfig(source: string, defaults: CompileDefaults, env: NodeJS.ProcessEnv = process.env): Promise<{ config: CompiledConfig; text: string }> {
  const text = await readConfigSource(source);
  return { config: parseConfigText(text, source, defaults, env), text };
}
