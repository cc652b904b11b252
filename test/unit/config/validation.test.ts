// One bad config per rule, each with the exact error an operator sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileDefaultsFromFlags } from '../../../src/gateway/main.ts';
import { parseFlags } from '../../../src/flags/parse.ts';
import { parseConfigText } from '../../../src/config/load.ts';
import { ConfigError } from '../../../src/config/errors.ts';

const defaults = compileDefaultsFromFlags(parseFlags([], {}));
const compile = (yaml: string, env: NodeJS.ProcessEnv = {}) => parseConfigText(yaml, 'auth.yml', defaults, env);

function errorOf(yaml: string, env: NodeJS.ProcessEnv = {}): string {
  try { compile(yaml, env); } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('config was accepted');
}

test('unknown field: file, line, column, path', () => {
  assert.equal(errorOf('users:\n- username: a\n  pasword: b\n  url_prefix: http://x\n'),
    'auth.yml:3:3: users[0].pasword: unknown field "pasword"; check the spelling against docs/configuration.md');
});

test('unknown top-level field', () => {
  assert.equal(errorOf('user:\n- username: a\n'), 'auth.yml:1:1: user: unknown field "user"; check the spelling against docs/configuration.md');
});

test('wrong type: string where a list is expected', () => {
  assert.equal(errorOf('users:\n- username: a\n  url_prefix: http://x\n  headers: "X: y"\n'), 'auth.yml:4:12: users[0].headers: expected a list');
});

test('wrong type: non-integer max_concurrent_requests', () => {
  assert.equal(errorOf('users:\n- username: a\n  url_prefix: http://x\n  max_concurrent_requests: lots\n'), 'auth.yml:4:28: users[0].max_concurrent_requests: expected an integer');
});

test('invalid YAML', () => {
  assert.match(errorOf('users:\n- username: a\n   bad: [\n'), /^auth\.yml:\d+:\d+: \(top level\): invalid YAML/);
});

test('duplicate keys', () => {
  assert.match(errorOf('users:\n- username: a\n  username: b\n  url_prefix: http://x\n'), /^auth\.yml:3:3: \(top level\): invalid YAML: Map keys must be unique/);
});

test('duplicate credentials never echo the secret', () => {
  const msg = errorOf('users:\n- username: a\n  password: s3cr3t\n  url_prefix: http://x\n- username: a\n  password: s3cr3t\n  url_prefix: http://y\n');
  assert.equal(msg, 'auth.yml:5:3: users[1]: duplicate credentials: users[1] (a) has the same credentials as users[0]; every user needs unique credentials');
  assert.ok(!msg.includes('s3cr3t'));
});

test('bearer token clashing with a Basic user having that name and empty password', () => {
  assert.match(errorOf('users:\n- bearer_token: tok\n  url_prefix: http://x\n- username: tok\n  url_prefix: http://y\n'), /users\[1\]: duplicate credentials/);
});

test('invalid regex in src_paths names the entry', () => {
  assert.match(errorOf('users:\n- username: a\n  url_map:\n  - src_paths: ["/ok", "/a("]\n    url_prefix: http://x\n'),
    /^auth\.yml:4:\d+: users\[0\]\.url_map\[0\]\.src_paths\[1\]: invalid RE2 regex "\/a\(": error parsing regexp: missing closing \)/);
});

test('Perl-only regex syntax is refused (RE2 has no lookahead)', () => {
  assert.match(errorOf('users:\n- username: a\n  url_map:\n  - src_paths: ["/a(?=b)"]\n    url_prefix: http://x\n'), /invalid RE2 regex/);
});

test('url_map entry without any src_*', () => {
  assert.equal(errorOf('users:\n- username: a\n  url_map:\n  - url_prefix: http://x\n'),
    'auth.yml:4:5: users[0].url_map[0]: missing `src_paths`, `src_hosts`, `src_query_args` and `src_headers` in `url_map`; set at least one');
});

test('url_map entry without url_prefix', () => {
  assert.equal(errorOf('users:\n- username: a\n  url_map:\n  - src_paths: ["/a"]\n'), 'auth.yml:4:5: users[0].url_map[0]: missing `url_prefix` in `url_map`');
});

test('user without url_prefix or url_map', () => {
  assert.equal(errorOf('users:\n- username: a\n  password: b\n'), 'auth.yml:2:3: users[0]: missing `url_prefix` or `url_map`');
});

test('user without credentials', () => {
  assert.equal(errorOf('users:\n- url_prefix: http://x\n'), 'auth.yml:2:3: users[0]: missing authorization options; set username (with password), bearer_token or auth_token');
});

test('auth_token with bearer_token', () => {
  assert.equal(errorOf('users:\n- auth_token: "Foo x"\n  bearer_token: y\n  url_prefix: http://x\n'),
    'auth.yml:3:17: users[0].bearer_token: bearer_token cannot be specified if auth_token is set');
});

test('bearer_token with username', () => {
  assert.match(errorOf('users:\n- bearer_token: y\n  username: u\n  url_prefix: http://x\n'), /username and password cannot be specified if bearer_token is set/);
});

test('unsupported URL scheme and unparsable URL', () => {
  assert.equal(errorOf('users:\n- username: a\n  url_prefix: ftp://x\n'), 'auth.yml:3:15: users[0].url_prefix: unsupported scheme "ftp" in "ftp://x"; must be http or https');
  assert.match(errorOf('users:\n- username: a\n  url_prefix: [http://ok, "not a url"]\n'), /^auth\.yml:3:\d+: users\[0\]\.url_prefix\[1\]: cannot parse "not a url" as a URL/);
});

test('empty url_prefix list', () => {
  assert.match(errorOf('users:\n- username: a\n  url_prefix: []\n'), /users\[0\]\.url_prefix: `url_prefix` must contain at least a single url/);
});

test('bad load_balancing_policy', () => {
  assert.equal(errorOf('users:\n- username: a\n  url_prefix: http://x\n  load_balancing_policy: random\n'),
    'auth.yml:4:26: users[0].load_balancing_policy: unexpected load_balancing_policy "random"; want least_loaded or first_available');
});

test('header without separator', () => {
  assert.equal(errorOf('users:\n- username: a\n  url_prefix: http://x\n  headers: ["X-Foo bar"]\n'),
    'auth.yml:4:13: users[0].headers[0]: missing separator \':\' between name and value in header "X-Foo bar"; expected "Name: Value"');
});

test('header value with CR/LF injected through YAML escapes', () => {
  assert.match(errorOf('users:\n- username: a\n  url_prefix: http://x\n  headers: ["X-A: 1\\r\\nX-B: 2"]\n'), /header X-A has a control character in its value/);
});

test('src_query_args without =', () => {
  assert.match(errorOf('users:\n- username: a\n  url_map:\n  - src_query_args: ["db"]\n    url_prefix: http://x\n'),
    /users\[0\]\.url_map\[0\]\.src_query_args\[0\]: invalid query arg matcher "db"; expected "arg=value" or "arg=~regex"/);
});

test('invalid metric label name', () => {
  assert.match(errorOf('users:\n- username: a\n  url_prefix: http://x\n  metric_labels: {"bad-name": x}\n'), /users\[0\]\.metric_labels\.bad-name: invalid label name "bad-name"/);
});

test('unauthorized_user cannot have credentials', () => {
  assert.equal(errorOf('unauthorized_user:\n  username: a\n  url_prefix: http://x\n'), "auth.yml:2:13: unauthorized_user.username: field username can't be specified for unauthorized_user section");
});

test('invalid ip_filters entry', () => {
  assert.match(errorOf('users:\n- username: a\n  url_prefix: http://x\n  ip_filters:\n    allow_list: [10.0.0.0/33]\n'), /users\[0\]\.ip_filters\.allow_list\[0\]: invalid prefix length in "10.0.0.0\/33"/);
});

test('unset %{ENV} placeholder in a value is an error; in a comment it is not', () => {
  assert.equal(errorOf('users:\n- username: a\n  password: "%{PW}"\n  url_prefix: http://x\n'), 'auth.yml:3:13: (top level): environment variable PW referenced by %{PW} is not set');
  const cfg = compile('# password: %{PW}\nusers:\n- username: a\n  password: "%{PW}"\n  url_prefix: http://x\n', { PW: 'from-env' });
  assert.equal(cfg.users.length, 1);
  compile('# %{NOT_SET}\nunauthorized_user:\n  url_prefix: http://x\n');
});

test('scalars keep their exact text, as Go yaml.v2 decodes them into strings', () => {
  const cfg = compile('users:\n- username: 007\n  password: 0123\n  url_prefix: http://x\n');
  assert.equal(cfg.users[0]?.metricName, '007');
});

test('a valid config compiles into a frozen snapshot', () => {
  const cfg = compile('users:\n- username: a\n  password: b\n  url_prefix: http://x\n');
  assert.ok(Object.isFrozen(cfg));
  assert.ok(Object.isFrozen(cfg.users));
  assert.ok(Object.isFrozen(cfg.users[0]));
});

test('url_prefix without a host is refused, as Go\'s url.Parse sees it (WHATWG URL would read "path" as the host)', () => {
  assert.equal(errorOf('users:\n- username: a\n  password: b\n  url_prefix: "http:///path"\n'), 'auth.yml:4:15: users[0].url_prefix: missing hostname in "http:///path"');
  assert.match(errorOf('users:\n- username: a\n  password: b\n  url_prefix: "http:/path"\n'), /missing hostname/);
});

test('TLS files given as http(s) URLs are refused with what to do instead', () => {
  assert.match(errorOf('users:\n- username: a\n  password: b\n  url_prefix: "https://vm:8428"\n  tls_ca_file: "https://config/ca.pem"\n'),
    /users\[0\]\.tls_ca_file: tls_ca_file is an http\(s\) URL \("https:\/\/config\/ca.pem"\); tenantgate reads TLS material from local files only/);
  const fromFlag = compileDefaultsFromFlags(parseFlags(['-backend.TLSCAFile=http://config/ca.pem'], {}));
  assert.throws(() => parseConfigText('users:\n- username: a\n  password: b\n  url_prefix: "https://vm:8428"\n', 'auth.yml', fromFlag, {}),
    (e: Error) => e instanceof ConfigError && /-backend\.TLSCAFile is an http\(s\) URL/.test(e.message));
});
