// The one masking list, against a corpus of secret-looking names and of names that are not secrets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSecretName, redactFlagValue, redactHeaders, redactUri, redactUrl, redactUrlsIn } from '../../../src/observe/secrets.ts';

const SECRET_NAMES = [
  'api-key', 'api_key', 'apikey', 'x-api-key', 'X-API-Key', 'jwt', 'id_token', 'access_token', 'accessToken', 'refresh_token', 'key',
  'sessionid', 'session_id', 'sessionId', 'JSESSIONID', 'X-Vault-Token', 'Private-Token', 'X-Amz-Security-Token', 'X-Amz-Signature',
  'X-Amz-Credential', 'password', 'passwd', 'pwd', 'authKey', 'auth_key', 'token', 'Authorization', 'Proxy-Authorization', 'Cookie',
  'Set-Cookie', 'secret', 'client_secret', 'X-Auth-Token', 'signature', 'sig', 'httpAuth.password', 'license', 'X-CSRF-Token',
];
const PLAIN_NAMES = ['query', 'match[]', 'start', 'end', 'step', 'extra_label', 'monkey', 'tokenizer', 'User-Agent', 'Referer', 'tlsKeyFile', 'httpAuthHeader', 'X-Auth-User', 'auth.config', 'AccountID'];

test('every secret-looking name in the corpus is masked', () => {
  for (const n of SECRET_NAMES) assert.ok(isSecretName(n), n);
});

test('ordinary names are not', () => {
  for (const n of PLAIN_NAMES) assert.ok(!isSecretName(n), n);
});

test('query args with secret names are masked wherever a URI is printed (dump_request_on_errors included)', () => {
  const args = SECRET_NAMES.map((n, i) => `${encodeURIComponent(n)}=s3cr3t${i}x`).join('&');
  const out = redactUri(`/api/v1/query?query=up&${args}&step=15`);
  for (let i = 0; i < SECRET_NAMES.length; i++) assert.ok(!out.includes(`s3cr3t${i}x`), SECRET_NAMES[i]);
  assert.match(out, /^\/api\/v1\/query\?query=up&/);
  assert.match(out, /&step=15$/);
});

test('header lists show secret headers masked', () => {
  const raw = SECRET_NAMES.flatMap((n, i) => [n, `h3ad3r${i}x`]);
  const out = redactHeaders([...raw, 'User-Agent', 'curl/8']).join('\n');
  for (let i = 0; i < SECRET_NAMES.length; i++) assert.ok(!out.includes(`h3ad3r${i}x`), SECRET_NAMES[i]);
  assert.match(out, /User-Agent: curl\/8/);
});

test('URLs lose the password of user:password@ and secret query args; free text keeps its words', () => {
  assert.equal(redactUrl('https://cfg:Url-Pass-1@config.test/auth.yml?token=Url-Token-1&v=2'), 'https://cfg:***@config.test/auth.yml?token=***&v=2');
  assert.equal(redactUrl('/not/a/url'), '/not/a/url');
  const msg = redactUrlsIn('cannot fetch http://a:Pw-9@h:1/x?authKey=K-9 now');
  assert.ok(!msg.includes('Pw-9') && !msg.includes('K-9'), msg);
  assert.match(msg, /^cannot fetch http:\/\/a:\*\*\*@h:1\/x\?authKey=\*\*\* now$/);
});

test('flag values: declared secrets and secret names hidden, URLs redacted, the rest shown', () => {
  assert.equal(redactFlagValue('metricsAuthKey', 'k', true), 'secret');
  assert.equal(redactFlagValue('httpAuth.password', 'p', false), 'secret');
  assert.equal(redactFlagValue('auth.config', 'https://u:Cfg-Pass@h/a.yml?authKey=Cfg-Key', false), 'https://u:***@h/a.yml?authKey=***');
  assert.equal(redactFlagValue('auth.config', '/etc/auth.yml', false), '/etc/auth.yml');
  assert.equal(redactFlagValue('tlsKeyFile', '/etc/tls.key', false), '/etc/tls.key');
});
