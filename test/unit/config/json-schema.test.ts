// The JSON Schema editors use for -auth.config (schema/auth-config.schema.json): committed as
// generated, accepts every config example in the docs, and rejects what the loader rejects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { generateConfigSchema, SCHEMA_FILE } from '../../../scripts/gen-config-schema.ts';
import { parseConfigText } from '../../../src/config/load.ts';
import { ConfigError, formatPath } from '../../../src/config/errors.ts';
import { compileDefaultsFromFlags } from '../../../src/gateway/main.ts';
import { parseFlags } from '../../../src/flags/parse.ts';

const root = new URL('../../../', import.meta.url);
const committed = readFileSync(SCHEMA_FILE, 'utf8');
const schema = JSON.parse(committed) as object;
// allowUnionTypes: `type: ["integer", "string"]` is deliberate (see scripts/gen-config-schema.ts).
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
// An annotation editors show instead of the bare pattern; it validates nothing.
ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
const validateConfig = ajv.compile(schema);
const validateTenant = ajv.compile({ definitions: (schema as { definitions: object }).definitions, $ref: '#/definitions/tenant' });

/** What an editor sees: the YAML parsed with the core schema (`5` an integer, `true` a boolean). */
const editorView = (yaml: string): unknown => parseYaml(yaml) ?? {};

function schemaErrors(yaml: string, validate = validateConfig): ErrorObject[] {
  return validate(editorView(yaml)) ? [] : [...(validate.errors ?? [])];
}

const defaults = compileDefaultsFromFlags(parseFlags([], {}));
const env = { SECRET: 's3cr3t', MAX: '7' };
/** The loader's verdict: null when it accepts, else its first problem. */
function loaderProblem(yaml: string): { path: string; message: string } | null {
  try {
    parseConfigText(yaml, 'auth.yml', { ...defaults, jwtLogger: { warn() {}, error() {} } as never }, env);
    return null;
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    const p = err.problems[0]!;
    return { path: formatPath(p.path), message: p.message };
  }
}

/** An ajv error's place in loader notation, including the key an additionalProperties, propertyNames or required error is about. */
function errorPath(e: ErrorObject): string {
  const parts: (string | number)[] = e.instancePath.split('/').slice(1).map((s) => (/^\d+$/.test(s) ? Number(s) : s.replaceAll('~1', '/').replaceAll('~0', '~')));
  if (e.keyword === 'additionalProperties') parts.push((e.params as { additionalProperty: string }).additionalProperty);
  if (e.keyword === 'propertyNames') parts.push((e.params as { propertyName: string }).propertyName);
  if (e.keyword === 'required') parts.push((e.params as { missingProperty: string }).missingProperty);
  return formatPath(parts);
}

test('the committed schema is what scripts/gen-config-schema.ts generates from the zod schemas', () => {
  assert.ok(committed === generateConfigSchema(),
    'schema/auth-config.schema.json is out of date with the config schemas: regenerate it with `node scripts/gen-config-schema.ts` and commit the result');
});

test('the schema is valid draft-07 and covers every tenantgate extension', () => {
  assert.equal(ajv.validateSchema(schema), true, ajv.errorsText(ajv.errors));
  assert.equal((schema as { $schema: string }).$schema, 'http://json-schema.org/draft-07/schema#');
  const text = committed;
  for (const key of ['"password_hash"', '"jwt"', '"tenant"', '"deny_paths"', '"mtls"', '"enforce"', '"write_args"', '"audience"', '"default_vm_access_claim"']) {
    assert.ok(text.includes(key), `${key} missing from the schema`);
  }
});

interface Block { readonly file: string; readonly line: number; readonly text: string }

/**
 * Fenced ```yaml / ```yml blocks of README.md and docs/*.md (also indented ones, inside lists),
 * de-indented by their fence's indentation.
 */
function yamlBlocks(): Block[] {
  const files = ['README.md', ...readdirSync(new URL('docs/', root)).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
  const out: Block[] = [];
  for (const file of files) {
    const lines = readFileSync(new URL(file, root), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const open = /^(\s*)```ya?ml\s*$/.exec(lines[i]!);
      if (!open) continue;
      const indent = open[1]!;
      const body: string[] = [];
      let j = i + 1;
      for (; j < lines.length && lines[j]!.trimEnd() !== `${indent}\`\`\``; j++) body.push(lines[j]!.slice(indent.length));
      out.push({ file, line: i + 2, text: `${body.join('\n')}\n` });
      i = j;
    }
  }
  return out;
}

// Selection rule: a block is an auth config when it has `users:` or `unauthorized_user:` as a
// top-level key (column 0). Blocks whose top-level keys are all `tenant:` are tenant sections.
// Everything else (Kubernetes manifests, Alertmanager configs, isolation policies) is skipped.
const blocks = yamlBlocks();
const authConfigs = blocks.filter((b) => /^(users|unauthorized_user):/m.test(b.text));
const tenantSections = blocks.filter((b) => !authConfigs.includes(b) && /^tenant:/m.test(b.text) && !/^(?!tenant:)[A-Za-z_]/m.test(b.text));

test('every auth config example in README.md and docs/*.md validates against the schema', () => {
  // Guards the selection rule itself: a rule that finds nothing would prove nothing.
  assert.ok(authConfigs.length >= 15, `only ${authConfigs.length} auth config examples found`);
  assert.ok(authConfigs.some((b) => b.file === 'README.md') && authConfigs.some((b) => b.file.startsWith('docs/')));
  for (const b of authConfigs) {
    const errors = schemaErrors(b.text);
    assert.deepEqual(errors.map((e) => `${errorPath(e)}: ${e.message}`), [], `${b.file}:${b.line}`);
  }
});

test('every tenant: example in README.md and docs/*.md validates against the tenant definition', () => {
  assert.ok(tenantSections.length >= 2, `only ${tenantSections.length} tenant examples found`);
  for (const b of tenantSections) {
    const section = (editorView(b.text) as { tenant: unknown }).tenant;
    assert.equal(validateTenant(section), true, `${b.file}:${b.line}: ${ajv.errorsText(validateTenant.errors)}`);
  }
});

const user = (extra: string) => `users:\n- username: a\n  password: "%{SECRET}"\n  url_prefix: http://vm:8428\n${extra}`;

const good: Record<string, string> = {
  'typed scalars as an editor types them': user('  max_concurrent_requests: 5\n  keep_original_host: true\n  retry_status_codes: [502, 503]\n  drop_src_path_prefix_parts: 1\n'),
  'the same scalars quoted, and the YAML 1.1 words the loader accepts': user('  max_concurrent_requests: "5"\n  keep_original_host: "yes"\n  discover_backend_ips: Off\n  dump_request_on_errors: on\n'),
  'numbers and booleans where text is expected': 'users:\n- username: 42\n  password: 0123\n  url_prefix: http://vm:8428\n  metric_labels: {team: 7, prod: true}\n',
  'empty values mean unset': user('  headers:\n  load_balancing_policy:\n  tenant:\n  ip_filters: ~\n'),
  'a %{ENV} placeholder in an integer field': user('  max_concurrent_requests: "%{MAX}"\n'),
  'url_map with every route option and a tenant per route': 'users:\n- username: a\n  password: b\n  url_map:\n  - src_paths: ["/api/v1/query.*"]\n    src_hosts: ["vm.example"]\n    src_query_args: ["db=x"]\n    src_headers: ["X-Team: a"]\n    deny_paths: ["/api/v1/admin/.*"]\n    url_prefix: [http://vm1:8428, http://vm2:8428]\n    load_balancing_policy: first_available\n    headers: ["X-Scope: a"]\n    response_headers: ["X-Served-By:"]\n    merge_query_args: [extra_filters]\n    ip_filters: {allow_list: [10.0.0.0/8]}\n    tenant: {labels: {namespace: [team-a, team-b]}, mode: read, enforce: promql, on_conflict: error, max_body_size: 1048576}\n  default_url: http://fallback:8428\n',
  'victorialogs tenant': user('  tenant:\n    enforce: victorialogs\n    logs: {account_id: 1, project_id: 2, extra_stream_filters: [\'{app="x"}\'], extra_fields: {env: prod}}\n    write_args: [_msg_field]\n'),
  'victoriametrics tenant with a cluster tenant': user('  tenant: {enforce: victoriametrics, labels: {team: a}, cluster_tenant: "1:2"}\n'),
  'jwt user with every jwt extension': 'users:\n- jwt:\n    skip_verify: true\n    audience: [tenantgate]\n    issuer: https://idp.example\n    match_claims: {team: a}\n    default_vm_access_claim: {metrics_account_id: 1, metrics_extra_labels: ["team=a"]}\n  url_prefix: http://vm:8428\n',
  'unauthorized_user, top-level ip_filters, access_log and mtls': 'ip_filters: {deny_list: [10.0.0.42]}\nunauthorized_user:\n  url_prefix: http://vm:8428\n  access_log: {filters: {skip_status_codes: [200]}}\nusers:\n- mtls: {common_name: grafana}\n  url_prefix: http://vm:8428\n',
};

test('good configs: the loader and the schema both accept them', () => {
  for (const [name, yaml] of Object.entries(good)) {
    assert.equal(loaderProblem(yaml), null, `${name}: the loader refused it`);
    assert.deepEqual(schemaErrors(yaml).map((e) => `${errorPath(e)}: ${e.message}`), [], `${name}: the schema refused it`);
  }
});

// Each bad config differs from a good one by one mistake; `at` is where the loader reports it
// (the JWT module reports at its section, naming the field in its message: `loaderAt`, `says`).
const bad: { name: string; yaml: string; at: string; loaderAt?: string; says?: string }[] = [
  { name: 'unknown top-level key', yaml: 'user:\n- username: a\n', at: 'user' },
  { name: 'unknown user key', yaml: user('  pasword: b\n'), at: 'users[0].pasword' },
  { name: 'unknown url_map key', yaml: 'users:\n- username: a\n  url_map:\n  - src_path: ["/x"]\n    url_prefix: http://vm:8428\n', at: 'users[0].url_map[0].src_path' },
  { name: 'unknown ip_filters key', yaml: user('  ip_filters: {allow: [10.0.0.0/8]}\n'), at: 'users[0].ip_filters.allow' },
  { name: 'unknown access_log filter', yaml: user('  access_log: {filters: {skip_codes: [200]}}\n'), at: 'users[0].access_log.filters.skip_codes' },
  { name: 'unknown mtls key', yaml: 'users:\n- mtls: {cn: grafana}\n  url_prefix: http://vm:8428\n', at: 'users[0].mtls.cn' },
  { name: 'unknown tenant key', yaml: user('  tenant: {label: {team: a}}\n'), at: 'users[0].tenant.label' },
  { name: 'unknown tenant.logs key', yaml: user('  tenant: {enforce: victorialogs, logs: {account: 1}}\n'), at: 'users[0].tenant.logs.account' },
  { name: 'unknown jwt key', yaml: 'users:\n- jwt: {skip_verify: true, public_key: x}\n  url_prefix: http://vm:8428\n', at: 'users[0].jwt.public_key', loaderAt: 'users[0].jwt', says: 'public_key' },
  { name: 'users as a mapping', yaml: 'users:\n  username: a\n', at: 'users' },
  { name: 'headers as a string', yaml: user('  headers: "X-A: b"\n'), at: 'users[0].headers' },
  { name: 'url_prefix as a mapping', yaml: 'users:\n- username: a\n  url_prefix: {url: http://vm:8428}\n', at: 'users[0].url_prefix' },
  { name: 'empty url_prefix list', yaml: 'users:\n- username: a\n  url_prefix: []\n', at: 'users[0].url_prefix' },
  { name: 'max_concurrent_requests not an integer', yaml: user('  max_concurrent_requests: lots\n'), at: 'users[0].max_concurrent_requests' },
  { name: 'max_concurrent_requests a fraction', yaml: user('  max_concurrent_requests: 1.5\n'), at: 'users[0].max_concurrent_requests' },
  { name: 'retry_status_codes entry not an integer', yaml: user('  retry_status_codes: [bad]\n'), at: 'users[0].retry_status_codes[0]' },
  { name: 'keep_original_host not a boolean', yaml: user('  keep_original_host: maybe\n'), at: 'users[0].keep_original_host' },
  { name: 'metric_labels value a list', yaml: user('  metric_labels: {team: [a]}\n'), at: 'users[0].metric_labels.team' },
  { name: 'bad load_balancing_policy', yaml: user('  load_balancing_policy: random\n'), at: 'users[0].load_balancing_policy' },
  { name: 'bad load_balancing_policy in a route', yaml: 'users:\n- username: a\n  url_map:\n  - src_paths: ["/x"]\n    url_prefix: http://vm:8428\n    load_balancing_policy: round_robin\n', at: 'users[0].url_map[0].load_balancing_policy' },
  { name: 'bad tenant enforce kind', yaml: user('  tenant: {enforce: loki}\n'), at: 'users[0].tenant.enforce' },
  { name: 'bad tenant mode', yaml: user('  tenant: {mode: admin}\n'), at: 'users[0].tenant.mode' },
  { name: 'bad tenant on_conflict', yaml: user('  tenant: {on_conflict: ignore}\n'), at: 'users[0].tenant.on_conflict' },
  { name: 'tenant max_body_size zero', yaml: user('  tenant: {max_body_size: 0}\n'), at: 'users[0].tenant.max_body_size' },
  { name: 'tenant max_response_size quoted', yaml: user('  tenant: {max_response_size: "100"}\n'), at: 'users[0].tenant.max_response_size' },
  { name: 'tenant label name with a dash', yaml: user('  tenant: {labels: {my-team: a}}\n'), at: 'users[0].tenant.labels.my-team' },
  { name: 'tenant labels with an empty list', yaml: user('  tenant: {labels: {team: []}}\n'), at: 'users[0].tenant.labels.team' },
  { name: 'tenant filters a string', yaml: user('  tenant: {filters: \'{env="prod"}\'}\n'), at: 'users[0].tenant.filters' },
  { name: 'tenant logs account_id negative', yaml: user('  tenant: {enforce: victorialogs, logs: {account_id: -1}}\n'), at: 'users[0].tenant.logs.account_id' },
  { name: 'tenant on a route with a bad enforce kind', yaml: 'users:\n- username: a\n  url_map:\n  - src_paths: ["/x"]\n    url_prefix: http://vm:8428\n    tenant: {enforce: mimir}\n', at: 'users[0].url_map[0].tenant.enforce' },
  { name: 'jwt skip_verify quoted', yaml: 'users:\n- jwt: {skip_verify: "true"}\n  url_prefix: http://vm:8428\n', at: 'users[0].jwt.skip_verify' },
  { name: 'jwt oidc without issuer', yaml: 'users:\n- jwt: {oidc: {}}\n  url_prefix: http://vm:8428\n', at: 'users[0].jwt.oidc.issuer' },
  { name: 'jwt default_vm_access_claim account id negative', yaml: 'users:\n- jwt: {skip_verify: true, default_vm_access_claim: {metrics_account_id: -1}}\n  url_prefix: http://vm:8428\n', at: 'users[0].jwt.default_vm_access_claim.metrics_account_id' },
];

test('bad configs: the schema rejects what the loader rejects, at the same field', () => {
  assert.ok(bad.length >= 15);
  for (const { name, yaml, at, loaderAt, says } of bad) {
    const problem = loaderProblem(yaml);
    assert.ok(problem !== null, `${name}: the loader accepted it`);
    assert.equal(problem.path, loaderAt ?? at, `${name}: the loader refused it for another reason: ${problem.message}`);
    if (says !== undefined) assert.ok(problem.message.includes(says), `${name}: the loader refused it for another reason: ${problem.message}`);
    const errors = schemaErrors(yaml);
    assert.ok(errors.length > 0, `${name}: the schema accepted it`);
    const paths = errors.map(errorPath);
    assert.ok(paths.includes(at), `${name}: the schema's errors are at ${paths.join(', ')}, not at ${at}`);
  }
});
