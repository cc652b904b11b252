// What the JSON Schema for editors (scripts/gen-config-schema.ts) needs to know beyond the zod
// schemas themselves. The loader reads -auth.config with YAML's failsafe schema, so every scalar
// reaches zod as its source text; an editor's YAML parser types `5` as an integer and `true` as a
// boolean. Each helper type says here which typed forms an editor may see, so the generated schema
// accepts what the loader accepts without a hand-kept list of fields.
import { z } from 'zod';

export type EditorHint =
  /** Any scalar, read as its source text (`password: 0123` is the text "0123"). */
  | { readonly scalar: 'text' }
  /** An integer, typed by the editor or written as text. */
  | { readonly scalar: 'integer' }
  /** A boolean, typed by the editor or written as one of the words the loader accepts. */
  | { readonly scalar: 'boolean' }
  /** An empty value (`key:`, `~`, `null`) means "not set". */
  | { readonly emptyMeansUnset: true }
  /**
   * Taken as it is here and validated later by the schema `sectionSchemas` holds under this name
   * (read with YAML's core schema, so its scalars are typed as an editor types them).
   */
  | { readonly checkedLater: string };

export const editorHints = z.registry<EditorHint>();

/** The schemas of sections validated after the top-level schema, by name. */
export const sectionSchemas = new Map<string, z.core.$ZodType>();

/** A section the top-level schema passes through untouched, for `schema` to validate later. */
export function checkedLater(schema: z.core.$ZodType, name: string): z.ZodUnknown {
  if (sectionSchemas.has(name) && sectionSchemas.get(name) !== schema) throw new Error(`two section schemas named ${name}`);
  sectionSchemas.set(name, schema);
  return z.unknown().register(editorHints, { checkedLater: name });
}
