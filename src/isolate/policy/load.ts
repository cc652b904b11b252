// Reading the alert-definition policy (`--policy FILE`): strict YAML, every unknown field, wrong
// type, bad regex, bad duration or bad host pattern reported with file:line, then compiled into
// an immutable per-namespace view (namespace settings override the global ones key by key;
// metric deny lists add up).
import { readFileSync } from 'node:fs';
import { RE2JS } from 're2js';
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { durationMs } from '../durations.ts';
import { isDns1123Label, isPromLabelName } from '../names.ts';

/** Integration types as named in the policy, and their Alertmanager list names. */
export const INTEGRATIONS: Readonly<Record<string, string>> = {
  webhook: 'webhook_configs', email: 'email_configs', slack: 'slack_configs', pagerduty: 'pagerduty_configs',
  opsgenie: 'opsgenie_configs', pushover: 'pushover_configs', victorops: 'victorops_configs', wechat: 'wechat_configs',
  telegram: 'telegram_configs', sns: 'sns_configs', webex: 'webex_configs', discord: 'discord_configs',
};

const MAX_POLICY_BYTES = 1024 * 1024;
const MAX_LIST = 1000;

const duration = z.string().refine((s) => durationMs(s) !== undefined, { message: 'must be a duration like 30s, 5m or 1h30m' });
const regex = z.string().max(1024).superRefine((s, ctx) => {
  try { RE2JS.compile(`^(?:${s})$`); } catch (err) { ctx.addIssue({ code: 'custom', message: `invalid regex: ${(err as Error).message}` }); }
});
const labelName = z.string().refine(isPromLabelName, { message: 'must be a label name ([a-zA-Z_][a-zA-Z0-9_]*)' });
// `example.com` (that host only) or `*.example.com` (any subdomain, not the apex).
const hostPattern = z.string().max(253).regex(/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, 'must be a lower-case host name, optionally starting with "*."');
const emailDomain = z.string().max(253).regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/, 'must be a lower-case e-mail domain like example.com');

const rulesSection = z.strictObject({
  requiredLabels: z.record(labelName, z.array(z.string().max(1024)).max(MAX_LIST)).optional(),
  requiredAnnotations: z.array(labelName).max(MAX_LIST).optional(),
  maxAnnotationBytes: z.number().int().positive().max(1024 * 1024).optional(),
  minFor: duration.optional(),
  maxRulesPerNamespace: z.number().int().nonnegative().max(1_000_000).optional(),
  metrics: z.strictObject({
    allow: z.array(regex).max(MAX_LIST).optional(),
    deny: z.array(regex).max(MAX_LIST).optional(),
  }).optional(),
});
const notificationsSection = z.strictObject({
  integrations: z.array(z.enum(Object.keys(INTEGRATIONS) as [string, ...string[]])).max(MAX_LIST).optional(),
  urlHosts: z.array(hostPattern).max(MAX_LIST).optional(),
  emailDomains: z.array(emailDomain).max(MAX_LIST).optional(),
  minGroupInterval: duration.optional(),
  minRepeatInterval: duration.optional(),
});
const section = z.strictObject({ rules: rulesSection.optional(), notifications: notificationsSection.optional() });
const policySchema = z.strictObject({
  global: section.optional(),
  namespaces: z.record(z.string().refine(isDns1123Label, { message: 'must be a namespace name (DNS-1123 label)' }), section).optional(),
});

type Section = z.infer<typeof section>;

/** The policy as it applies to one namespace. */
export interface NamespacePolicy {
  readonly requiredLabels: ReadonlyMap<string, readonly string[]>;
  readonly requiredAnnotations: readonly string[];
  readonly maxAnnotationBytes?: number;
  readonly minForMs?: number;
  readonly minFor?: string;
  readonly maxRulesPerNamespace?: number;
  readonly metricsAllow?: readonly RE2JS[];
  readonly metricsDeny: readonly RE2JS[];
  readonly integrations?: ReadonlySet<string>;
  readonly urlHosts?: readonly string[];
  readonly emailDomains?: readonly string[];
  readonly minGroupInterval?: string;
  readonly minRepeatInterval?: string;
}

export interface AlertPolicy {
  readonly file: string;
  forNamespace(namespace: string): NamespacePolicy;
}

export class PolicyError extends Error {
  readonly code = 'ERR_ISOLATE_POLICY_FILE' as const;
}

/** The line of `path` (or of its deepest existing parent); with `key`, the line of that key in the mapping at `path`. */
function locate(doc: Document, lc: LineCounter, path: readonly (string | number)[], key?: string): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (!isNode(node) || !node.range) continue;
    if (key !== undefined && depth === path.length && isMap(node)) {
      const item = node.items.find((i) => isScalar(i.key) && i.key.value === key);
      if (item !== undefined && isNode(item.key) && item.key.range) return lc.linePos(item.key.range[0]).line;
    }
    return lc.linePos(node.range[0]).line;
  }
  return undefined;
}

function compileSection(g: Section, n: Section | undefined): NamespacePolicy {
  const r = { ...g.rules, ...n?.rules };
  const nt = { ...g.notifications, ...n?.notifications };
  const re = (list: readonly string[]) => list.map((s) => RE2JS.compile(`^(?:${s})$`));
  const allow = n?.rules?.metrics?.allow ?? g.rules?.metrics?.allow;
  return Object.freeze({
    requiredLabels: new Map(Object.entries(r.requiredLabels ?? {})),
    requiredAnnotations: r.requiredAnnotations ?? [],
    ...(r.maxAnnotationBytes !== undefined ? { maxAnnotationBytes: r.maxAnnotationBytes } : {}),
    ...(r.minFor !== undefined ? { minFor: r.minFor, minForMs: durationMs(r.minFor)! } : {}),
    ...(r.maxRulesPerNamespace !== undefined ? { maxRulesPerNamespace: r.maxRulesPerNamespace } : {}),
    ...(allow !== undefined ? { metricsAllow: re(allow) } : {}),
    // A namespace can add metrics to deny, never lift a global denial.
    metricsDeny: re([...(g.rules?.metrics?.deny ?? []), ...(n?.rules?.metrics?.deny ?? [])]),
    ...(nt.integrations !== undefined ? { integrations: new Set(nt.integrations.map((i) => INTEGRATIONS[i]!)) } : {}),
    ...(nt.urlHosts !== undefined ? { urlHosts: nt.urlHosts } : {}),
    ...(nt.emailDomains !== undefined ? { emailDomains: nt.emailDomains } : {}),
    ...(nt.minGroupInterval !== undefined ? { minGroupInterval: nt.minGroupInterval } : {}),
    ...(nt.minRepeatInterval !== undefined ? { minRepeatInterval: nt.minRepeatInterval } : {}),
  });
}

/** Parses policy text; throws PolicyError listing every problem as `file:line: path: message`. */
export function parsePolicy(text: string, file: string): AlertPolicy {
  if (Buffer.byteLength(text) > MAX_POLICY_BYTES) throw new PolicyError(`${file}: the policy file is larger than 1MiB`);
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false, strict: true });
  if (doc.errors.length > 0) {
    throw new PolicyError(doc.errors.map((e) => `${file}:${lc.linePos(e.pos[0]).line}: invalid YAML: ${e.message.split('\n')[0]}`).join('\n'));
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const parsed = policySchema.safeParse(data);
  if (!parsed.success) {
    const lines = parsed.error.issues.flatMap((issue) => {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
      return keys.map((k) => {
        const full = k === undefined ? path : [...path, k];
        const line = locate(doc, lc, path, k);
        // A refined record key reports its own message one level down.
        const inner = issue.code === 'invalid_key' ? issue.issues[0]?.message : undefined;
        const msg = k !== undefined ? `unknown field "${k}"; see docs/namespace-isolation.md#alert-definition-policy` : inner ?? issue.message;
        return `${file}${line !== undefined ? `:${line}` : ''}: ${full.join('.') || '(top)'}: ${msg}`;
      });
    });
    throw new PolicyError(lines.join('\n'));
  }
  const p = parsed.data;
  const global = p.global ?? {};
  const cache = new Map<string, NamespacePolicy>();
  const fallback = compileSection(global, undefined);
  for (const [ns, s] of Object.entries(p.namespaces ?? {})) cache.set(ns, compileSection(global, s));
  return Object.freeze({ file, forNamespace: (ns: string) => cache.get(ns) ?? fallback });
}

export function loadPolicyFile(path: string): AlertPolicy {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (err) { throw new PolicyError(`${path}: cannot read the policy: ${(err as Error).message}`); }
  return parsePolicy(text, path);
}
