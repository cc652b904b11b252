// Writes schema/auth-config.schema.json, the JSON Schema editors use for -auth.config, from the
// zod schemas the loader validates with, so the two cannot drift:
//   node scripts/gen-config-schema.ts
//
// Draft-07, because yaml-language-server (VS Code's YAML extension, and the editors built on it)
// implements draft-07 validation; its 2019-09/2020-12 support was added and reverted.
//
// The loader reads scalars as text (YAML failsafe schema); an editor types them. The hints that
// src/config/editor-hints.ts attaches to the helper types widen each scalar to the forms an editor
// may see, and sections validated later by their own schema (`tenant:`, `jwt:`) are replaced by
// that schema's shape, kept once under `definitions`.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { editorHints, sectionSchemas } from '../src/config/editor-hints.ts';
import { PLACEHOLDER } from '../src/config/env-placeholders.ts';
import { authConfigSchema } from '../src/config/schema.ts';

export const SCHEMA_FILE = fileURLToPath(new URL('../schema/auth-config.schema.json', import.meta.url));

type Json = Record<string, unknown>;

// A quoted `%{ENV}` placeholder is text to an editor but becomes the value once substituted.
const WITH_PLACEHOLDER = `|${PLACEHOLDER.source}`;

const SCALAR_TYPES = {
  text: ['string', 'number', 'boolean'],
  integer: ['integer', 'string'],
  boolean: ['boolean', 'string'],
} as const;

function replaceContents(target: Json, source: Json): void {
  for (const key of Object.keys(target)) delete target[key];
  Object.assign(target, source);
}

/** Lets an editor's `null` (an empty `key:`) through, as the loader treats it as unset. */
function allowNull(json: Json): void {
  if (Array.isArray(json.type)) {
    if (!json.type.includes('null')) json.type = [...json.type, 'null'];
  } else if (typeof json.type === 'string') {
    if (json.type !== 'null') json.type = [json.type, 'null'];
    // A `null` in an enum would not be rejected by `type` alone.
    if (Array.isArray(json.enum) && !json.enum.includes(null)) json.enum = [...json.enum, null];
  } else if (Array.isArray(json.anyOf)) {
    if (!json.anyOf.some((o: Json) => o.type === 'null')) json.anyOf = [...json.anyOf, { type: 'null' }];
  } else {
    const inner = { ...json };
    const { description, title } = inner;
    delete inner.description;
    delete inner.title;
    replaceContents(json, { ...(title === undefined ? {} : { title }), ...(description === undefined ? {} : { description }), anyOf: [inner, { type: 'null' }] });
  }
}

/**
 * The loader's message for a value that fails a string's regex, as `patternErrorMessage` (read by
 * yaml-language-server and VS Code instead of "does not match the pattern ^…$").
 */
function patternMessage(schema: z.core.$ZodType): string | undefined {
  for (const check of schema._zod.def.checks ?? []) {
    const def = check._zod.def as { check: string; format?: string; pattern?: RegExp; error?: (issue: unknown) => unknown };
    if (def.check !== 'string_format' || def.format !== 'regex' || def.error === undefined) continue;
    const said = def.error({ code: 'invalid_format', format: 'regex', pattern: def.pattern?.source, input: '' });
    if (typeof said === 'string') return said;
    if (said !== null && typeof said === 'object' && typeof (said as { message?: unknown }).message === 'string') return (said as { message: string }).message;
  }
  return undefined;
}

const sectionOptions = (definitions: Map<string, Json>) => ({
  target: 'draft-07' as const,
  io: 'input' as const,
  // refine/superRefine checks and transforms have no JSON Schema form; the loader still runs them.
  unrepresentable: 'any' as const,
  override(ctx: { zodSchema: z.core.$ZodType; jsonSchema: object }) {
    const message = patternMessage(ctx.zodSchema);
    if (message !== undefined) (ctx.jsonSchema as Json).patternErrorMessage = message;
    const hint = editorHints.get(ctx.zodSchema);
    const type = ctx.zodSchema._zod.def.type;
    if (hint === undefined) {
      // A pass-through section would accept anything in editors: name the schema that checks it.
      if (type === 'unknown' || type === 'any') {
        throw new Error(`a z.${type}() in the config schema: wrap it in checkedLater(<its zod schema>, <name>) (src/config/editor-hints.ts)`);
      }
      return;
    }
    const json = ctx.jsonSchema as Json;
    if ('scalar' in hint) {
      json.type = [...SCALAR_TYPES[hint.scalar]];
      if (hint.scalar !== 'text' && typeof json.pattern === 'string') json.pattern = `${json.pattern}${WITH_PLACEHOLDER}`;
    } else if ('emptyMeansUnset' in hint) {
      allowNull(json);
    } else {
      const name = hint.checkedLater;
      if (!definitions.has(name)) definitions.set(name, toJsonSchema(sectionSchemas.get(name)!, definitions));
      replaceContents(json, { $ref: `#/definitions/${name}` });
    }
  },
});

/**
 * One schema's JSON, its own `definitions` (schemas given a `.meta({ id })`, recursive ones)
 * moved into the shared ones: their `$ref`s point at `#/definitions/…` of the whole file.
 */
function toJsonSchema(schema: z.core.$ZodType, definitions: Map<string, Json>): Json {
  const json = z.toJSONSchema(schema, sectionOptions(definitions)) as Json;
  delete json.$schema;
  for (const [name, def] of Object.entries((json.definitions ?? {}) as Record<string, Json>)) {
    if (definitions.has(name) && JSON.stringify(definitions.get(name)) !== JSON.stringify(def)) throw new Error(`two different schemas are both named ${name}`);
    definitions.set(name, def);
  }
  delete json.definitions;
  return json;
}

/**
 * zod wraps a reference in `allOf` for draft-07 when a wrapper type points at it, and nests the
 * `anyOf` of a union inside another union; both say the same thing plainly after this.
 */
function simplify(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(simplify);
  if (value === null || typeof value !== 'object') return value;
  const obj = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, simplify(v)])) as Json;
  const keys = Object.keys(obj);
  if (keys.length === 1 && Array.isArray(obj.allOf) && obj.allOf.length === 1) return obj.allOf[0];
  if (Array.isArray(obj.anyOf)) {
    obj.anyOf = obj.anyOf.flatMap((o: Json) => (Object.keys(o).length === 1 && Array.isArray(o.anyOf) ? o.anyOf : [o]));
  }
  return obj;
}

/** JSON with two-space indents, lists of plain values kept on one line so the file reads (and diffs) well. */
function format(value: unknown, indent = ''): string {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
    const inner = `${indent}  `;
    return `[\n${value.map((v) => inner + format(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    const inner = `${indent}  `;
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${format(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

/** The JSON Schema for -auth.config, as the text of the committed file. */
export function generateConfigSchema(): string {
  const definitions = new Map<string, Json>();
  const body = toJsonSchema(authConfigSchema, definitions);
  const out: Json = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'tenantgate -auth.config',
    description: 'vmauth-compatible -auth.config with tenantgate extensions. Generated by scripts/gen-config-schema.ts from the schemas the loader uses; some checks (credential rules, regex syntax, header syntax, URLs) run only in the loader: run `tenantgate -auth.config=FILE -dryRun` for the full check.',
    ...body,
    definitions: Object.fromEntries([...definitions].sort(([a], [b]) => (a < b ? -1 : 1))),
  };
  return `${format(simplify(out))}\n`;
}

if (import.meta.main) {
  writeFileSync(SCHEMA_FILE, generateConfigSchema());
  console.log(`wrote ${SCHEMA_FILE}`);
}
